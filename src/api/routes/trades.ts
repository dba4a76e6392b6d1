import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ok, pageFrom, pageOf, partnerId } from '../http.ts';
import { Enum, Id, PageQuery, responses } from '../schemas.ts';
import { CreatedRangeQuery, createdRangeOf } from '../list-query.ts';
import { tradeListItem, type Trades } from '../../domain/trades/trades.ts';
import { notFound } from '../../infra/lib/errors.ts';

const STATUSES = ['CREATED', 'SETTLED', 'CANCELED'] as const;
const DetailQuery = Type.Object({ id: Id('Trade id'), status: Type.Optional(Enum(STATUSES)) });
const ListQuery = Type.Object({
  ...PageQuery,
  status: Type.Optional(Enum(STATUSES)),
  customerId: Type.Optional(Id('Only trades of this customer')),
  flowId: Type.Optional(Id('Only trades of this flow')),
  depositId: Type.Optional(Id('Only the trade this deposit funded (alone or in an aggregate)')),
  ...CreatedRangeQuery,
});

export const tradeRoutes: FastifyPluginAsync<{ trades: Pick<Trades, 'get' | 'list' | 'detail'> }> = async (app, { trades }) => {
  app.get<{ Querystring: Static<typeof DetailQuery> }>(
    '/trade/detail',
    {
      schema: {
        tags: ['Trade'],
        summary: 'Trade detail: amounts, rate (source, time) and itemised fees',
        querystring: DetailQuery,
        response: responses(),
      },
    },
    async (req) => {
      const row = await trades.get(partnerId(req), req.query.id);
      if (req.query.status && row.status !== req.query.status) throw notFound(`trade with status ${req.query.status}`, req.query.id);
      return ok(await trades.detail(row));
    },
  );
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/trade/list',
    { schema: { tags: ['Trade'], summary: 'List trades (paginated)', querystring: ListQuery, response: responses() } },
    async (req) => {
      const q = req.query;
      const filter = { status: q.status, customerId: q.customerId, flowId: q.flowId, depositId: q.depositId, ...createdRangeOf(q) };
      return pageOf(await trades.list(partnerId(req), pageFrom(q), filter), tradeListItem);
    },
  );
};
