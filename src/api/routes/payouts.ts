import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ok, pageFrom, pageOf, partnerId } from '../http.ts';
import { Enum, Id, PageQuery, Str, responses } from '../schemas.ts';
import { CreatedRangeQuery, createdRangeOf } from '../list-query.ts';
import { RAIL_IDS } from '../../adapters/rails/rails.ts';
import { payoutDetail, type Payouts } from '../../domain/payouts/payouts.ts';
import { PAYOUT_STATUSES } from '../../domain/payouts/state-machine.ts';

const DetailQuery = Type.Object({ id: Id('Payout id') });
const ListQuery = Type.Object({
  ...PageQuery,
  status: Type.Optional(Enum(PAYOUT_STATUSES)),
  tradeId: Type.Optional(Id('Trade id')),
  customerId: Type.Optional(Id('Customer id')),
  rail: Type.Optional(Enum(RAIL_IDS, 'Only payouts on this rail')),
  ...CreatedRangeQuery,
});
const RetryBody = Type.Object({
  payoutId: Id('The RETURNED, CANCELLED or HELD payout'),
  bankAccountId: Type.Optional(Id('A corrected bank account of the same customer and currency')),
});
const ReturnBody = Type.Object({
  payoutId: Id('Payout id'),
  reasonCode: Str({ max: 8, description: 'Rail return code, e.g. SEPA AC04, ACH R03, BECS 3' }),
});

/** Payouts (OpenRamp extension routes, contract conventions). */
export const payoutRoutes: FastifyPluginAsync<{ payouts: Pick<Payouts, 'get' | 'list' | 'retry' | 'markReturned'> }> = async (
  app,
  { payouts },
) => {
  app.get<{ Querystring: Static<typeof DetailQuery> }>(
    '/payout/detail',
    {
      schema: {
        tags: ['Payout'],
        summary: 'Payout detail: rail, batch, expected arrival, bank reference, return code',
        querystring: DetailQuery,
        response: responses(),
      },
    },
    async (req) => ok(payoutDetail(await payouts.get(partnerId(req), req.query.id))),
  );
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/payout/list',
    { schema: { tags: ['Payout'], summary: 'List payouts (paginated)', querystring: ListQuery, response: responses() } },
    async (req) => {
      const q = req.query;
      return pageOf(
        await payouts.list(partnerId(req), pageFrom(q), {
          status: q.status,
          tradeId: q.tradeId,
          customerId: q.customerId,
          rail: q.rail,
          ...createdRangeOf(q),
        }),
        payoutDetail,
      );
    },
  );
  app.post<{ Body: Static<typeof RetryBody> }>(
    '/payout/retry',
    {
      schema: {
        tags: ['Payout'],
        summary:
          'Retry a RETURNED or CANCELLED payout as a new attempt (bounded), or release a HELD one; optionally to a corrected bank account',
        body: RetryBody,
        response: responses(),
      },
    },
    async (req) => ok(payoutDetail(await payouts.retry(partnerId(req), req.body.payoutId, req.body.bankAccountId))),
  );
  app.post<{ Body: Static<typeof ReturnBody> }>(
    '/sandbox/payout/return',
    {
      config: { sandboxOnly: true },
      schema: {
        tags: ['Sandbox'],
        summary: 'Sandbox bank: return a payout with a rail reason code',
        body: ReturnBody,
        response: responses(),
      },
    },
    async (req) => {
      await payouts.get(partnerId(req), req.body.payoutId); // scope to the partner
      return ok(payoutDetail(await payouts.markReturned(req.body.payoutId, req.body.reasonCode)));
    },
  );
};
