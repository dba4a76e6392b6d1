import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { RouteDeps } from '../app.ts';
import { ok, pageFrom, pageOf, partnerId } from '../http.ts';
import { Enum, Id, PageQuery, Str, responses } from '../schemas.ts';
import { flowCreatedData, flowDetail, flowListItem } from '../../domain/flows/flows.ts';
import { NETWORKS } from '../../adapters/chains/networks.ts';
import { CRYPTO_ASSETS, FIAT_ASSETS, isCryptoAsset, isFiatAsset, parseAmount } from '../../infra/lib/money.ts';
import { AppError } from '../../infra/lib/errors.ts';
import { computeQuote, quoteView } from '../../adapters/pricing/pricing.ts';

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
});
const PreviewQuery = Type.Object({
  fromCurrency: Enum([...FIAT_ASSETS, ...CRYPTO_ASSETS]),
  toCurrency: Enum([...FIAT_ASSETS, ...CRYPTO_ASSETS]),
  amount: Str({ max: 40, description: 'Decimal string in fromCurrency, e.g. "1000.00"' }),
});

export const flowRoutes: FastifyPluginAsync<RouteDeps> = async (app, { services }) => {
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
        await services.flows.createOfframp(partnerId(req), {
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
      return created(await services.flows.createFromIds(partnerId(req), { depositAddressId: req.body.from, bankAccountId: req.body.to }));
    },
  );

  app.get<{ Querystring: Static<typeof DetailQuery> }>(
    '/autoramp-flow/detail',
    { schema: { tags: ['Autoramp Flow'], summary: 'Flow detail', querystring: DetailQuery, response: responses() } },
    async (req) => ok(flowDetail(await services.flows.get(partnerId(req), req.query.id))),
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
      const result = await services.flows.list(partnerId(req), pageFrom(q), {
        ...(q.status ? { status: q.status } : {}),
        ...(q.type ? { type: q.type } : {}),
        ...(q.customerId ? { customerId: q.customerId } : {}),
        ...(q.includeDeleted ? { includeDeleted: true } : {}),
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
      const flow = await services.flows.delete(partnerId(req), req.body.id);
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
      ok(
        flowDetail(
          await services.flows.get(partnerId(req), (await services.flows.setStatus(partnerId(req), req.body.id, req.body.status)).id),
        ),
      ),
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
    async (req) => {
      const { fromCurrency, toCurrency, amount } = req.query;
      if (!isCryptoAsset(fromCurrency) || !isFiatAsset(toCurrency)) {
        throw new AppError('INVALID_PARAMETERS', 'fromCurrency/toCurrency: only offramp previews (USDT or USDC → fiat) are supported');
      }
      const fromAmount = parseAmount(fromCurrency, amount);
      if (fromAmount === null || fromAmount === 0n)
        throw new AppError('INVALID_PARAMETERS', `amount: must be a positive decimal string with at most 6 decimals, got "${amount}"`);
      const rate = await services.rates.quote(fromCurrency, toCurrency);
      const fees = await services.fees.forPartner(partnerId(req), toCurrency);
      return ok(quoteView(computeQuote(fromCurrency, toCurrency, fromAmount, rate, fees)));
    },
  );
};
