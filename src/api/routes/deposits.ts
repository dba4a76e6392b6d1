import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ok, pageFrom, partnerId } from '../http.ts';
import { Enum, Id, PageQuery, Str, responses } from '../schemas.ts';
import { CreatedRangeQuery, createdRangeOf } from '../list-query.ts';
import { tronToHex, isValidTronAddress } from '../../adapters/chains/addresses.ts';
import { depositListItem, type Deposits } from '../../domain/deposits/deposits.ts';
import type { Customers } from '../../domain/customers/customers.ts';
import { AppError, notFound } from '../../infra/lib/errors.ts';
import type { AdjustableClock } from '../../infra/lib/clock.ts';
import { CRYPTO_ASSETS, FIAT_ASSETS } from '../../infra/lib/money.ts';
import { NETWORKS, type Network } from '../../adapters/chains/networks.ts';
import type { SandboxChain, SandboxTransfers } from '../../adapters/chains/sandbox-chain.ts';

const STATUSES = ['RECEIVED', 'CONFIRMED', 'ACTION_REQUIRED', 'REJECTED'] as const;
const DetailQuery = Type.Object({ id: Id('Deposit id'), status: Type.Optional(Enum(STATUSES)) });
const ListQuery = Type.Object({
  ...PageQuery,
  customerId: Type.Optional(Id('Customer id')),
  currency: Type.Optional(Enum(CRYPTO_ASSETS)),
  status: Type.Optional(Enum(STATUSES)),
  txHash: Type.Optional(
    Type.String({ pattern: '^(0x)?[0-9a-fA-F]{64}$', description: 'Only deposits of this transaction (64 hex, 0x optional, any case)' }),
  ),
  address: Type.Optional(Str({ max: 64, description: 'Only deposits to this deposit address (0x… or T…)' })),
  ...CreatedRangeQuery,
});

/** A deposit address as the deposits table stores it: lowercase 0x hex (a TRON address in its hex form). */
function storedAddress(address: string): string {
  if (/^0x[0-9a-fA-F]{40}$/.test(address)) return address.toLowerCase();
  if (isValidTronAddress(address)) return tronToHex(address);
  throw new AppError('INVALID_PARAMETERS', 'address: not an EVM (0x…) or TRON (T…) address');
}
const storedTxHash = (h: string) => `0x${h.replace(/^0x/, '').toLowerCase()}`;
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

export interface DepositRouteDeps {
  deposits: Pick<Deposits, 'get' | 'list' | 'detail'>;
  customers: Pick<Customers, 'namesByIds'>;
  sandboxTransfers: SandboxTransfers;
  sandboxChain: Pick<SandboxChain, 'reorg' | 'produceBlocks'> | null;
  sandboxNetworks: readonly Network[];
  sandboxClock: AdjustableClock | null;
}

export const depositRoutes: FastifyPluginAsync<DepositRouteDeps> = async (
  app,
  { deposits, customers, sandboxTransfers, sandboxChain, sandboxNetworks, sandboxClock },
) => {
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
      const row = await deposits.get(partnerId(req), req.query.id);
      if (req.query.status && row.status !== req.query.status) throw notFound(`deposit with status ${req.query.status}`, req.query.id);
      return ok(await deposits.detail(row));
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/deposit/list',
    { schema: { tags: ['Deposit'], summary: 'List deposits (paginated)', querystring: ListQuery, response: responses() } },
    async (req) => {
      const q = req.query;
      const result = await deposits.list(partnerId(req), pageFrom(q), {
        customerId: q.customerId,
        currency: q.currency,
        status: q.status,
        txHash: q.txHash === undefined ? undefined : storedTxHash(q.txHash),
        address: q.address === undefined ? undefined : storedAddress(q.address),
        ...createdRangeOf(q),
      });
      const names = await customers.namesByIds([...new Set(result.list.map((d) => d.customer_id))]);
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
    async (req) => ok(await sandboxTransfers.mockDeposit(partnerId(req), req.body)),
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
    async (req) => ok(await sandboxTransfers.transfer(req.body)),
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
      if (!sandboxChain || !sandboxNetworks.includes(req.body.network))
        throw new AppError('PRECONDITION_FAILED', `network ${req.body.network} is not on the sandbox chain`);
      try {
        const r = await sandboxChain.reorg(req.body.network, req.body.depth, { dropTransfers: req.body.dropTransfers ?? false });
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
      if (!sandboxClock) throw new AppError('PRECONDITION_FAILED', 'sandbox time is not adjustable in this process');
      sandboxClock.advance(req.body.seconds * 1000);
      const blocks = sandboxChain ? await sandboxChain.produceBlocks() : 0;
      return ok({
        now: sandboxClock.now().toISOString(),
        offsetSeconds: Math.floor(sandboxClock.offsetMs() / 1000),
        blocksMined: blocks,
      });
    },
  );
};
