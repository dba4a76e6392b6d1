import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { RouteDeps } from '../app.ts';
import { ok, pageFrom, partnerId } from '../http.ts';
import { Enum, Id, PageQuery, Str, responses } from '../schemas.ts';
import { depositListItem } from '../../domain/deposits/deposits.ts';
import { AppError, notFound } from '../../infra/lib/errors.ts';
import { CRYPTO_ASSETS, FIAT_ASSETS, isCryptoAsset, parseAmount } from '../../infra/lib/money.ts';
import { NETWORKS, NETWORK_FAMILY, isNetwork, type Network } from '../../adapters/chains/networks.ts';
import { normalizeAddress } from '../../adapters/chains/addresses.ts';
import { toScanAddress } from '../../adapters/chains/registry.ts';
import type { Services } from '../../app.ts';

const STATUSES = ['RECEIVED', 'CONFIRMED', 'ACTION_REQUIRED', 'REJECTED'] as const;
const DetailQuery = Type.Object({ id: Id('Deposit id'), status: Type.Optional(Enum(STATUSES)) });
const ListQuery = Type.Object({
  ...PageQuery,
  customerId: Type.Optional(Id('Customer id')),
  currency: Type.Optional(Enum(CRYPTO_ASSETS)),
  status: Type.Optional(Enum(STATUSES)),
});
const MockBody = Type.Object({
  currency: Enum([...FIAT_ASSETS, ...CRYPTO_ASSETS]),
  amount: Str({ max: 40, description: 'Decimal string, e.g. "250.00"' }),
  senderName: Str({ max: 140 }),
  senderAccountNo: Str({ max: 100, description: 'Sender address (any text is accepted in the sandbox)' }),
  receiverAccountNo: Str({ max: 100, description: 'Your customer’s deposit address' }),
  network: Type.Optional(Enum(NETWORKS)),
  senderBankName: Type.Optional(Str({ max: 140 })),
  reference: Type.Optional(Str({ max: 140 })),
});
const TransferBody = Type.Object({
  network: Enum(NETWORKS),
  currency: Enum(CRYPTO_ASSETS),
  to: Str({ max: 100, description: 'Receiving address (0x… or T…)' }),
  amount: Str({ max: 40 }),
  from: Type.Optional(Str({ max: 100 })),
});
const ReorgBody = Type.Object({
  network: Enum(NETWORKS),
  depth: Type.Integer({ minimum: 1, maximum: 64 }),
  dropTransfers: Type.Optional(Type.Boolean()),
});
const AdvanceBody = Type.Object({ seconds: Type.Integer({ minimum: 1, maximum: 30 * 86_400 }) });

/** A stand-in sender for sandbox transfers whose sender is not a valid address. */
const SANDBOX_SENDER: Record<'EVM' | 'TRON', string> = {
  EVM: '0x000000000000000000000000000000000000dead',
  TRON: '0x000000000000000000000000000000000000dead',
};

async function sandboxTransfer(
  services: Services,
  input: { network: Network; currency: string; to: string; amount: string; from?: string },
) {
  const chain = services.sandboxChain;
  if (!chain || !services.sandboxNetworks.includes(input.network)) {
    throw new AppError('PRECONDITION_FAILED', `network ${input.network} is connected to a real node; send a real transfer instead`);
  }
  if (!isCryptoAsset(input.currency))
    throw new AppError(
      'INVALID_PARAMETERS',
      `currency: ${input.currency} is a fiat currency; only crypto deposits (USDT, USDC) exist on chain`,
    );
  const token = services.registry.tokenFor(input.network, input.currency);
  if (!token) throw new AppError('INVALID_PARAMETERS', `currency: ${input.currency} is not supported on ${input.network}`);
  const value = parseAmount(input.currency, input.amount);
  if (value === null || value === 0n)
    throw new AppError('INVALID_PARAMETERS', `amount: must be a positive decimal with at most 6 decimals, got "${input.amount}"`);
  const family = NETWORK_FAMILY[input.network];
  const to = normalizeAddress(family, input.to);
  if (!to) throw new AppError('INVALID_PARAMETERS', `to: not a valid ${family === 'TRON' ? 'Tron (T…)' : 'EVM (0x…)'} address`);
  const fromNorm = input.from ? normalizeAddress(family, input.from) : null;
  const { txHash } = await chain.submitTransfer({
    network: input.network,
    token: token.contract,
    from: fromNorm ? toScanAddress(family, fromNorm) : SANDBOX_SENDER[family],
    to: toScanAddress(family, to),
    value,
  });
  return {
    txid: family === 'TRON' ? txHash.slice(2) : txHash,
    network: input.network,
    currency: input.currency,
    amount: input.amount,
    to,
    status: 'PENDING_BLOCK',
  };
}

export const depositRoutes: FastifyPluginAsync<RouteDeps> = async (app, { services }) => {
  app.get<{ Querystring: Static<typeof DetailQuery> }>(
    '/deposit/detail',
    {
      schema: {
        tags: ['Deposit'],
        summary: 'Deposit detail (confirmations, reasons, receiving address)',
        querystring: DetailQuery,
        response: responses(),
      },
    },
    async (req) => {
      const row = await services.deposits.get(partnerId(req), req.query.id);
      if (req.query.status && row.status !== req.query.status) throw notFound(`deposit with status ${req.query.status}`, req.query.id);
      return ok(await services.deposits.detail(row));
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/deposit/list',
    { schema: { tags: ['Deposit'], summary: 'List deposits (paginated)', querystring: ListQuery, response: responses() } },
    async (req) => {
      const q = req.query;
      const pid = partnerId(req);
      const result = await services.deposits.list(pid, pageFrom(q), {
        ...(q.customerId ? { customerId: q.customerId } : {}),
        ...(q.currency ? { currency: q.currency } : {}),
        ...(q.status ? { status: q.status } : {}),
      });
      const ids = [...new Set(result.list.map((d) => d.customer_id))];
      const names = new Map(
        ids.length
          ? (await services.db.selectFrom('customers').select(['id', 'name']).where('id', 'in', ids).execute()).map((c) => [c.id, c.name])
          : [],
      );
      return ok({
        list: result.list.map((d) => depositListItem(d, names.get(d.customer_id) ?? null)),
        total: result.total,
        pageNum: result.pageNum,
        pageSize: result.pageSize,
      });
    },
  );

  app.post<{ Body: Static<typeof MockBody> }>(
    '/deposit/mock',
    {
      config: { sandboxOnly: true },
      schema: {
        tags: ['Deposit'],
        summary: 'Sandbox: send a USDT/USDC transfer to one of your deposit addresses on the sandbox chain',
        body: MockBody,
        response: responses(),
      },
    },
    async (req) => {
      const b = req.body;
      if (!isCryptoAsset(b.currency))
        throw new AppError(
          'INVALID_PARAMETERS',
          `currency: fiat deposits (${b.currency}) belong to onramp flows, which this deployment does not offer`,
        );
      if (!b.network || !isNetwork(b.network))
        throw new AppError('INVALID_PARAMETERS', 'network: is required for USDT/USDC (ETH, MATIC or TRX)');
      const family = NETWORK_FAMILY[b.network];
      const to = normalizeAddress(family, b.receiverAccountNo);
      if (!to) throw new AppError('INVALID_PARAMETERS', `receiverAccountNo: not a valid ${b.network} address`);
      const own = await services.db
        .selectFrom('deposit_addresses')
        .select('id')
        .where('partner_id', '=', partnerId(req))
        .where('family', '=', family)
        .where('address', '=', to)
        .limit(1)
        .executeTakeFirst();
      if (!own) throw notFound('deposit address', b.receiverAccountNo);
      return ok(
        await sandboxTransfer(services, { network: b.network, currency: b.currency, to, amount: b.amount, from: b.senderAccountNo }),
      );
    },
  );

  app.post<{ Body: Static<typeof TransferBody> }>(
    '/sandbox/chain/transfer',
    {
      config: { sandboxOnly: true },
      schema: {
        tags: ['Sandbox'],
        summary: 'Put a token transfer on the sandbox chain (mined in the next block)',
        body: TransferBody,
        response: responses(),
      },
    },
    async (req) => ok(await sandboxTransfer(services, req.body)),
  );

  app.post<{ Body: Static<typeof ReorgBody> }>(
    '/sandbox/chain/reorg',
    {
      config: { sandboxOnly: true },
      schema: {
        tags: ['Sandbox'],
        summary: 'Replace the last `depth` blocks with a longer branch (transfers re-mined unless dropTransfers)',
        body: ReorgBody,
        response: responses(),
      },
    },
    async (req) => {
      if (!services.sandboxChain || !services.sandboxNetworks.includes(req.body.network))
        throw new AppError('PRECONDITION_FAILED', `network ${req.body.network} is not on the sandbox chain`);
      try {
        const r = await services.sandboxChain.reorg(req.body.network, req.body.depth, { dropTransfers: req.body.dropTransfers ?? false });
        return ok({ network: req.body.network, forkBlock: r.forkNumber.toString(), newHead: r.newHead.number.toString() });
      } catch (err) {
        if (err instanceof RangeError) throw new AppError('PRECONDITION_FAILED', `depth: ${err.message}`);
        throw err;
      }
    },
  );

  app.post<{ Body: Static<typeof AdvanceBody> }>(
    '/sandbox/time/advance',
    {
      config: { sandboxOnly: true },
      schema: {
        tags: ['Sandbox'],
        summary: 'Move sandbox time forward (blocks are mined for the elapsed time)',
        body: AdvanceBody,
        response: responses(),
      },
    },
    async (req) => {
      if (!services.sandboxClock) throw new AppError('PRECONDITION_FAILED', 'sandbox time is not adjustable in this process');
      services.sandboxClock.advance(req.body.seconds * 1000);
      const blocks = services.sandboxChain ? await services.sandboxChain.produceBlocks() : 0;
      return ok({
        now: services.sandboxClock.now().toISOString(),
        offsetSeconds: Math.floor(services.sandboxClock.offsetMs() / 1000),
        blocksMined: blocks,
      });
    },
  );
};
