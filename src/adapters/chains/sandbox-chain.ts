import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../infra/db/schema.ts';
import type { Clock } from '../../infra/lib/clock.ts';
import type { Logger } from 'pino';
import { NETWORK_FAMILY, isNetwork, type Network } from './networks.ts';
import { normalizeAddress, type NetworkFamily } from './addresses.ts';
import { toScanAddress, type Registry } from './registry.ts';
import { AppError, notFound } from '../../infra/lib/errors.ts';
import { isCryptoAsset, parseAmountInput } from '../../infra/lib/money.ts';
import type { BlockHeader, ChainClient, TransferLog } from './types.ts';
import { createPollLoop } from '../../infra/lib/poll-loop.ts';

/**
 * The sandbox chain: an in-database simulated chain per network, used by default in sandbox
 * mode. Blocks are produced on the clock (one per `blockIntervalMs`, so advancing sandbox time
 * mines blocks), finality is a fixed depth, and reorgs can be injected. The scanner reads it
 * through the same ChainClient interface as a real node, so its code path is identical.
 */
export interface SandboxChainOptions {
  db: Kysely<DB>;
  clock: Clock;
  logger: Logger;
  networks: readonly Network[];
  blockIntervalMs: number;
  finalityDepth: number;
  /** Upper bound of blocks mined per production round (after a large time jump). */
  blocksPerRoundMax?: number;
}

export interface SandboxTransfer {
  network: Network;
  token: string; // lowercase hex contract
  from: string; // lowercase hex
  to: string; // lowercase hex
  value: bigint;
}

export interface SandboxChain {
  client(network: Network): ChainClient;
  submitTransfer(t: SandboxTransfer): Promise<{ txHash: string }>;
  /** Mines the blocks that are due by the clock (at least one when transfers are pending). */
  produceBlocks(): Promise<number>;
  mineBlock(network: Network): Promise<BlockHeader>;
  /**
   * Replaces the last `depth` blocks with a longer branch. Their transfers are re-queued and
   * mined again in the new branch unless `dropTransfers` (then they simply vanish).
   */
  reorg(network: Network, depth: number, opts?: { dropTransfers?: boolean }): Promise<{ forkNumber: bigint; newHead: BlockHeader }>;
  start(): void;
  stop(): Promise<void>;
}

const hex32 = () => `0x${randomBytes(32).toString('hex')}`;

type BlockRow = { number: string; hash: string; parent_hash: string; timestamp: string };
const toHeader = (r: BlockRow): BlockHeader => ({
  number: BigInt(r.number),
  hash: r.hash,
  parentHash: r.parent_hash,
  timestamp: Number(r.timestamp),
});

export function createSandboxChain(opts: SandboxChainOptions): SandboxChain {
  const { db, clock } = opts;
  const roundMax = opts.blocksPerRoundMax ?? 1000;

  async function head(network: Network, tx: Kysely<DB> = db): Promise<BlockHeader | null> {
    const r = await tx
      .selectFrom('sandbox_blocks')
      .select(['number', 'hash', 'parent_hash', 'timestamp'])
      .where('network', '=', network)
      .where('canonical', '=', true)
      .orderBy(sql`number::bigint`, 'desc')
      .limit(1)
      .executeTakeFirst();
    return r ? toHeader(r) : null;
  }

  async function ensureGenesis(network: Network): Promise<BlockHeader> {
    const h = await head(network);
    if (h) return h;
    const genesis = {
      network,
      number: '0',
      hash: hex32(),
      parent_hash: `0x${'0'.repeat(64)}`,
      timestamp: String(Math.floor(clock.now().getTime() / 1000)),
      canonical: true,
    };
    await db
      .insertInto('sandbox_blocks')
      .values(genesis)
      .onConflict((oc) => oc.doNothing())
      .execute();
    return (await head(network))!;
  }

  /** Mines one block on top of the canonical head, including pending transfers. */
  async function mineOn(network: Network, tsSeconds: number): Promise<BlockHeader> {
    return db.transaction().execute(async (tx) => {
      const parent = await head(network, tx);
      if (!parent) throw new Error(`sandbox chain ${network} has no genesis`);
      const block = {
        network,
        number: String(parent.number + 1n),
        hash: hex32(),
        parent_hash: parent.hash,
        timestamp: String(Math.max(tsSeconds, parent.timestamp)),
        canonical: true,
      };
      await tx.insertInto('sandbox_blocks').values(block).execute();
      const pending = await tx.selectFrom('sandbox_pending').selectAll().where('network', '=', network).orderBy('id').limit(5000).execute();
      if (pending.length > 0) {
        await tx
          .insertInto('sandbox_logs')
          .values(
            pending.map((p, i) => ({
              network,
              block_hash: block.hash,
              log_index: i,
              tx_hash: p.tx_hash,
              token: p.token,
              from_address: p.from_address,
              to_address: p.to_address,
              value: p.value,
            })),
          )
          .execute();
        await tx
          .deleteFrom('sandbox_pending')
          .where(
            'id',
            'in',
            pending.map((p) => p.id),
          )
          .execute();
      }
      return toHeader(block);
    });
  }

  async function produceFor(network: Network): Promise<number> {
    const h = await ensureGenesis(network);
    const nowS = Math.floor(clock.now().getTime() / 1000);
    const intervalS = Math.max(1, Math.round(opts.blockIntervalMs / 1000));
    let due = Math.floor((nowS - h.timestamp) / intervalS);
    if (due <= 0) {
      const pending = await db.selectFrom('sandbox_pending').select('id').where('network', '=', network).limit(1).executeTakeFirst();
      if (!pending) return 0;
      due = 1;
    }
    due = Math.min(due, roundMax);
    for (let i = 1; i <= due; i++) await mineOn(network, Math.min(nowS, h.timestamp + i * intervalS));
    return due;
  }

  function client(network: Network): ChainClient {
    return {
      network,
      async getHeadNumber() {
        return (await ensureGenesis(network)).number;
      },
      async getFinalizedNumber() {
        const h = await ensureGenesis(network);
        const f = h.number - BigInt(opts.finalityDepth);
        return f < 0n ? 0n : f;
      },
      async getBlock(n) {
        const r = await db
          .selectFrom('sandbox_blocks')
          .select(['number', 'hash', 'parent_hash', 'timestamp'])
          .where('network', '=', network)
          .where('canonical', '=', true)
          .where('number', '=', n.toString())
          .executeTakeFirst();
        return r ? toHeader(r) : null;
      },
      async getTransferLogs({ fromBlock, toBlock }, tokens) {
        if (tokens.length === 0) return [];
        const rows = await db
          .selectFrom('sandbox_logs as l')
          .innerJoin('sandbox_blocks as b', (j) => j.onRef('b.hash', '=', 'l.block_hash').onRef('b.network', '=', 'l.network'))
          .select(['b.number', 'l.block_hash', 'l.tx_hash', 'l.log_index', 'l.token', 'l.from_address', 'l.to_address', 'l.value'])
          .where('l.network', '=', network)
          .where('b.canonical', '=', true)
          .where(sql<boolean>`b.number::bigint between ${fromBlock.toString()}::bigint and ${toBlock.toString()}::bigint`)
          .where('l.token', 'in', tokens)
          .orderBy(sql`b.number::bigint`)
          .orderBy('l.log_index')
          .execute();
        return rows.map(
          (r): TransferLog => ({
            blockNumber: BigInt(r.number),
            blockHash: r.block_hash,
            txHash: r.tx_hash,
            logIndex: r.log_index,
            token: r.token,
            from: r.from_address,
            to: r.to_address,
            value: BigInt(r.value),
          }),
        );
      },
    };
  }

  async function produceBlocks(): Promise<number> {
    let n = 0;
    for (const network of opts.networks) n += await produceFor(network);
    return n;
  }

  const loop = createPollLoop({
    intervalMs: Math.min(opts.blockIntervalMs, 1000),
    run: produceBlocks,
    onError: (err) => opts.logger.error({ err }, 'sandbox block production failed'),
  });

  return {
    client,
    async submitTransfer(t) {
      await ensureGenesis(t.network);
      const txHash = hex32();
      await db
        .insertInto('sandbox_pending')
        .values({
          network: t.network,
          tx_hash: txHash,
          token: t.token,
          from_address: t.from,
          to_address: t.to,
          value: t.value.toString(),
          created_at: clock.now(),
        })
        .execute();
      return { txHash };
    },
    produceBlocks,
    async mineBlock(network) {
      await ensureGenesis(network);
      return mineOn(network, Math.floor(clock.now().getTime() / 1000));
    },
    async reorg(network, depth, o = {}) {
      if (!Number.isInteger(depth) || depth < 1 || depth > 64) throw new RangeError('reorg depth must be 1–64');
      const h = await ensureGenesis(network);
      if (h.number < BigInt(depth)) throw new RangeError(`chain ${network} is only ${h.number} blocks high`);
      const forkNumber = h.number - BigInt(depth);
      await db.transaction().execute(async (tx) => {
        const orphaned = await tx
          .selectFrom('sandbox_blocks')
          .select('hash')
          .where('network', '=', network)
          .where('canonical', '=', true)
          .where(sql<boolean>`number::bigint > ${forkNumber.toString()}::bigint`)
          .execute();
        const hashes = orphaned.map((b) => b.hash);
        if (!o.dropTransfers) {
          const logs = await tx
            .selectFrom('sandbox_logs')
            .selectAll()
            .where('network', '=', network)
            .where('block_hash', 'in', hashes)
            .orderBy('log_index')
            .execute();
          if (logs.length > 0) {
            await tx
              .insertInto('sandbox_pending')
              .values(
                logs.map((l) => ({
                  network,
                  tx_hash: l.tx_hash,
                  token: l.token,
                  from_address: l.from_address,
                  to_address: l.to_address,
                  value: l.value,
                  created_at: clock.now(),
                })),
              )
              .execute();
          }
        }
        await tx
          .updateTable('sandbox_blocks')
          .set({ canonical: false })
          .where('network', '=', network)
          .where('hash', 'in', hashes)
          .execute();
      });
      // The new branch is one block longer than the old one, so it wins.
      let newHead: BlockHeader = h;
      const nowS = Math.floor(clock.now().getTime() / 1000);
      for (let i = 0; i <= depth; i++) newHead = await mineOn(network, nowS);
      opts.logger.info({ network, depth, forkNumber: forkNumber.toString() }, 'sandbox reorg injected');
      return { forkNumber, newHead };
    },
    start: () => loop.start(),
    stop: () => loop.stop(),
  };
}

/** A stand-in sender for sandbox transfers whose sender is not a valid address. */
const SANDBOX_SENDER: Record<NetworkFamily, string> = {
  EVM: '0x000000000000000000000000000000000000dead',
  TRON: '0x000000000000000000000000000000000000dead',
};

export interface SandboxTransferRequest {
  network: Network;
  currency: string;
  /** Receiving address as the partner wrote it (0x… or T…). */
  to: string;
  /** Decimal string in `currency`. */
  amount: string;
  /** Sender address; anything else (a bank-style account number) sends from a stand-in address. */
  from?: string | undefined;
}

export interface SandboxTransferResult {
  txid: string;
  network: Network;
  currency: string;
  amount: string;
  to: string;
  status: 'PENDING_BLOCK';
}

/** The partner-facing sandbox transfers: `/sandbox/chain/transfer` and the contract's `/deposit/mock`. */
export interface SandboxTransfers {
  /** Puts a token transfer on the sandbox chain (mined in the next block); refuses networks served by a real node. */
  transfer(input: SandboxTransferRequest): Promise<SandboxTransferResult>;
  /** A transfer to one of the partner's own deposit addresses (the contract's mock deposit). */
  mockDeposit(
    partnerId: string,
    input: { currency: string; network?: Network | undefined; amount: string; receiverAccountNo: string; senderAccountNo: string },
  ): Promise<SandboxTransferResult>;
}

export function createSandboxTransfers(deps: {
  /** Null when no network runs on the sandbox chain (production, or every network has an RPC URL). */
  chain: SandboxChain | null;
  networks: readonly Network[];
  registry: Pick<Registry, 'tokenFor'>;
  /** Whether the partner owns a deposit address (normalised) in a network family. */
  ownsAddress(partnerId: string, family: NetworkFamily, address: string): Promise<boolean>;
}): SandboxTransfers {
  async function transfer(input: SandboxTransferRequest): Promise<SandboxTransferResult> {
    const chain = deps.chain;
    if (!chain || !deps.networks.includes(input.network)) {
      throw new AppError('PRECONDITION_FAILED', `network ${input.network} is connected to a real node; send a real transfer instead`);
    }
    if (!isCryptoAsset(input.currency))
      throw new AppError(
        'INVALID_PARAMETERS',
        `currency: ${input.currency} is a fiat currency; only crypto deposits (USDT, USDC) exist on chain`,
      );
    const token = deps.registry.tokenFor(input.network, input.currency);
    if (!token) throw new AppError('INVALID_PARAMETERS', `currency: ${input.currency} is not supported on ${input.network}`);
    const value = parseAmountInput(input.currency, input.amount);
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

  return {
    transfer,
    async mockDeposit(partnerId, input) {
      if (!isCryptoAsset(input.currency))
        throw new AppError(
          'INVALID_PARAMETERS',
          `currency: fiat deposits (${input.currency}) belong to onramp flows, which this deployment does not offer`,
        );
      if (!input.network || !isNetwork(input.network))
        throw new AppError('INVALID_PARAMETERS', 'network: is required for USDT/USDC (ETH, MATIC or TRX)');
      const family = NETWORK_FAMILY[input.network];
      const to = normalizeAddress(family, input.receiverAccountNo);
      if (!to) throw new AppError('INVALID_PARAMETERS', `receiverAccountNo: not a valid ${input.network} address`);
      if (!(await deps.ownsAddress(partnerId, family, to))) throw notFound('deposit address', input.receiverAccountNo);
      return transfer({ network: input.network, currency: input.currency, to, amount: input.amount, from: input.senderAccountNo });
    },
  };
}
