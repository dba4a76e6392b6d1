import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ok, pageFrom, pageOf, partnerId } from '../http.ts';
import { Enum, Id, PageQuery, Str, responses } from '../schemas.ts';
import { CreatedRangeQuery, createdRangeOf } from '../list-query.ts';
import { flowCreatedData, flowDetail, flowListItem, type Flows } from '../../domain/flows/flows.ts';
import { NETWORKS } from '../../adapters/chains/networks.ts';
import { CRYPTO_ASSETS, FIAT_ASSETS } from '../../infra/lib/money.ts';
import { AppError } from '../../infra/lib/errors.ts';
import type { TradePreview } from '../../adapters/pricing/pricing.ts';

const OfframpBody = Type.Object({
  from: Type.Object({ customerId: Id('Customer id'), currency: Enum(CRYPTO_ASSETS), network: Enum(NETWORKS) }),
  to: Id('Bank account id (the fiat destination)'),
});
const CreateBody = Type.Object({
  type: Enum(['ONRAMP', 'OFFRAMP'] as const),
  from: Id('OFFRAMP: deposit address id'),
  to: Id('OFFRAMP: bank account id'),
});
const IdBody = Type.Object({ id: Id('Flow id') });
const StatusBody = Type.Object({ id: Id('Flow id'), status: Enum(['ENABLED', 'DISABLED'] as const) });
const DetailQuery = Type.Object({ id: Id('Flow id') });
const ListQuery = Type.Object({
  ...PageQuery,
  type: Type.Optional(Enum(['ONRAMP', 'OFFRAMP'] as const)),
  status: Type.Optional(Enum(['ENABLED', 'DISABLED'] as const)),
  customerId: Type.Optional(Id('Customer id (OpenRamp extension)')),
  includeDeleted: Type.Optional(Type.Boolean({ description: 'Include deleted flows (OpenRamp extension)' })),
  ...CreatedRangeQuery,
});
const PreviewQuery = Type.Object({
  fromCurrency: Enum([...FIAT_ASSETS, ...CRYPTO_ASSETS]),
  toCurrency: Enum([...FIAT_ASSETS, ...CRYPTO_ASSETS]),
  amount: Str({ max: 40, description: 'Decimal string in fromCurrency, e.g. "1000.00"' }),
});

export const flowRoutes: FastifyPluginAsync<{ flows: Flows; tradePreview: TradePreview }> = async (app, { flows, tradePreview }) => {
  const created = (x: Parameters<typeof flowCreatedData>[0]) => ok(flowCreatedData(x), { flowId: x.flow.id });

  app.post<{ Body: Static<typeof OfframpBody> }>(
    '/autoramp-flow/offramp',
    {
      schema: {
        tags: ['Autoramp Flow'],
        summary: 'Create an OFFRAMP flow: deposit address (entry) → bank account (exit)',
        body: OfframpBody,
        response: responses(),
      },
    },
    async (req) => {
      const { from, to } = req.body;
      return created(
        await flows.createOfframp(partnerId(req), {
          customerId: from.customerId,
          network: from.network,
          currency: from.currency,
          bankAccountId: to,
        }),
      );
    },
  );

  app.post<{ Body: Static<typeof CreateBody> }>(
    '/autoramp-flow/create',
    {
      schema: {
        tags: ['Autoramp Flow'],
        summary: 'Create a flow from existing ids (type OFFRAMP: from = deposit address id, to = bank account id)',
        body: CreateBody,
        response: responses(),
      },
    },
    async (req) => {
      if (req.body.type !== 'OFFRAMP')
        throw new AppError('INVALID_PARAMETERS', 'type: only OFFRAMP flows are supported by this deployment');
      return created(await flows.createFromIds(partnerId(req), { depositAddressId: req.body.from, bankAccountId: req.body.to }));
    },
  );

  app.get<{ Querystring: Static<typeof DetailQuery> }>(
    '/autoramp-flow/detail',
    { schema: { tags: ['Autoramp Flow'], summary: 'Flow detail', querystring: DetailQuery, response: responses() } },
    async (req) => ok(flowDetail(await flows.get(partnerId(req), req.query.id))),
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/autoramp-flow/list',
    {
      schema: {
        tags: ['Autoramp Flow'],
        summary: 'List flows (paginated; deleted flows hidden unless includeDeleted)',
        querystring: ListQuery,
        response: responses(),
      },
    },
    async (req) => {
      const q = req.query;
      const result = await flows.list(partnerId(req), pageFrom(q), {
        status: q.status,
        type: q.type,
        customerId: q.customerId,
        includeDeleted: q.includeDeleted,
        ...createdRangeOf(q),
      });
      return pageOf(result, flowListItem);
    },
  );

  app.post<{ Body: Static<typeof IdBody> }>(
    '/autoramp-flow/delete',
    {
      schema: {
        tags: ['Autoramp Flow'],
        summary: 'Delete a flow (it stops routing deposits; history is kept)',
        body: IdBody,
        response: responses(),
      },
    },
    async (req) => {
      const flow = await flows.delete(partnerId(req), req.body.id);
      return ok(flow.id);
    },
  );

  app.post<{ Body: Static<typeof StatusBody> }>(
    '/autoramp-flow/update-status',
    {
      schema: {
        tags: ['Autoramp Flow'],
        summary: 'Enable or disable a flow (OpenRamp extension)',
        body: StatusBody,
        response: responses(),
      },
    },
    async (req) =>
      ok(flowDetail(await flows.get(partnerId(req), (await flows.setStatus(partnerId(req), req.body.id, req.body.status)).id))),
  );

  app.get<{ Querystring: Static<typeof PreviewQuery> }>(
    '/autoramp-flow/trade-preview',
    {
      schema: {
        tags: ['Autoramp Flow'],
        summary: 'Indicative trade amounts for an offramp (crypto → fiat), same math as the trade',
        querystring: PreviewQuery,
        response: responses(),
      },
    },
    async (req) => ok(await tradePreview.preview(partnerId(req), req.query)),
  );
};
