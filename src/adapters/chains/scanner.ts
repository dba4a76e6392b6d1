import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import { Gauge, Counter, type Registry as MetricsRegistry } from 'prom-client';
import type { DB } from '../../infra/db/schema.ts';
import type { Clock } from '../../infra/lib/clock.ts';
import type { Network } from './networks.ts';
import type { Registry } from './registry.ts';
import type { AddressBook } from './address-book.ts';
import { RangeTooLargeError, type BlockHeader, type ChainClient, type TransferLog } from './types.ts';
import type { Deposits, MatchedTransfer } from '../../domain/deposits/deposits.ts';
import { createPollLoop } from '../../infra/lib/poll-loop.ts';

/**
 * One scanner per network (docs/chains.md). Each tick:
 *  1. checks the stored cursor block against the chain; on a mismatch walks back through the
 *     stored headers to the fork point, rejects open deposits above it and rewinds;
 *  2. scans forward in ranges: Transfer logs of the allow-listed tokens, matched against the
 *     in-memory address book; deposits + headers + cursor written in one transaction;
 *  3. advances confirmations and credits deposits at the finality rule.
 * Backfill after downtime is the same loop with large ranges, split adaptively when the node
 * refuses a range. Near the head every block header is fetched and linked by parentHash; below
 * the final block only the range end's header is needed (nothing there can reorg).
 */
export interface ScannerOptions {
  network: Network;
  db: Kysely<DB>;
  client: ChainClient;
  registry: Registry;
  addresses: AddressBook;
  deposits: Deposits;
  clock: Clock;
  logger: Logger;
  metrics: ScannerMetrics;
  pollIntervalMs: number;
  rangeBlocksMax: number;
  /** Where to start when there is no cursor yet: a block number, or 'head'. */
  startBlock: bigint | 'head';
  /** Serialises scanners of the same network across processes (null: single process). */
  lease: ScannerLease | null;
}

export interface ScannerLease {
  tryAcquire(network: Network): Promise<boolean>;
  release(network: Network): Promise<void>;
}

export interface ScannerMetrics {
  lag: Gauge<'network'>;
  lastBlockAge: Gauge<'network'>;
  logsMatched: Counter<'network'>;
  reorgs: Counter<'network'>;
}

export function createScannerMetrics(registry: MetricsRegistry): ScannerMetrics {
  return {
    lag: new Gauge({
      name: 'openramp_scanner_lag_blocks',
      help: 'Chain head minus scanner cursor',
      labelNames: ['network'],
      registers: [registry],
    }),
    lastBlockAge: new Gauge({
      name: 'openramp_scanner_last_block_age_seconds',
      help: 'Age of the newest scanned block',
      labelNames: ['network'],
      registers: [registry],
    }),
    logsMatched: new Counter({
      name: 'openramp_scanner_transfers_matched_total',
      help: 'Transfers to deposit addresses recorded',
      labelNames: ['network'],
      registers: [registry],
    }),
    reorgs: new Counter({
      name: 'openramp_scanner_reorgs_total',
      help: 'Chain reorganisations handled',
      labelNames: ['network'],
      registers: [registry],
    }),
  };
}

export interface Scanner {
  readonly network: Network;
  /** One full iteration; returns what it did (for tests and logs). */
  tick(): Promise<{ scannedTo: bigint; matched: number; reorgDepth: number; credited: number }>;
  start(): void;
  stop(): Promise<void>;
}

/** Keep this many headers below the final block (reorg walk-back reaches at most the final block). */
const HEADERS_BELOW_FINAL_KEEP = 64n;

export function createScanner(o: ScannerOptions): Scanner {
  const { db, client, network } = o;
  const policy = o.registry.policy(network);
  const tokens = policy.tokens.map((t) => t.contract);
  let leased = false;
  let stopping = false;

  async function cursor(): Promise<{ number: bigint; hash: string } | null> {
    const c = await db.selectFrom('scanner_cursors').selectAll().where('network', '=', network).executeTakeFirst();
    return c ? { number: BigInt(c.block_number), hash: c.block_hash } : null;
  }

  async function finalNumber(head: bigint): Promise<bigint> {
    const tagged = policy.useFinalizedTag ? await client.getFinalizedNumber() : null;
    const byCount = head - BigInt(policy.fallbackConfirmations) + 1n;
    const f = tagged ?? byCount;
    return f < 0n ? -1n : f;
  }

  /** Logs for a range, halving it whenever the node says it is too large. */
  async function logsFor(from: bigint, to: bigint): Promise<TransferLog[]> {
    try {
      return await client.getTransferLogs({ fromBlock: from, toBlock: to }, tokens);
    } catch (err) {
      if (!(err instanceof RangeTooLargeError) || from === to) throw err;
      const mid = from + (to - from) / 2n;
      return [...(await logsFor(from, mid)), ...(await logsFor(mid + 1n, to))];
    }
  }

  /** Walks back from the cursor to the newest stored block that is still canonical. */
  async function handleReorg(cur: { number: bigint; hash: string }): Promise<number> {
    const stored = await db
      .selectFrom('chain_blocks')
      .select(['number', 'hash'])
      .where('network', '=', network)
      .where(sql<boolean>`number <= ${cur.number.toString()}::bigint`)
      .orderBy(sql`number`, 'desc')
      .limit(Number(HEADERS_BELOW_FINAL_KEEP) + 1024)
      .execute();
    let fork: { number: bigint; hash: string } | null = null;
    for (const s of stored) {
      const onChain = await client.getBlock(BigInt(s.number));
      if (onChain && onChain.hash === s.hash) {
        fork = { number: BigInt(s.number), hash: s.hash };
        break;
      }
    }
    if (!fork) {
      // Deeper than every stored header: far beyond finality. Refuse to guess.
      throw new Error(`${network}: reorg deeper than the ${stored.length} stored headers; operator attention needed`);
    }
    const depth = Number(cur.number - fork.number);
    await db.transaction().execute(async (tx) => {
      const orphaned = await o.deposits.orphanAbove(tx, network, fork.number);
      await tx
        .deleteFrom('chain_blocks')
        .where('network', '=', network)
        .where(sql<boolean>`number > ${fork.number.toString()}::bigint`)
        .execute();
      await tx
        .updateTable('scanner_cursors')
        .set({ block_number: fork.number.toString(), block_hash: fork.hash, updated_at: o.clock.now() })
        .where('network', '=', network)
        .execute();
      o.logger.warn({ network, depth, forkNumber: fork.number.toString(), orphaned }, 'chain reorg: rewound to fork point');
    });
    o.metrics.reorgs.inc({ network });
    return depth;
  }

  /** Transfer ordinal inside its transaction: stable wherever the transaction is mined. */
  function withOrdinals(logs: TransferLog[]): { log: TransferLog; ordinal: number }[] {
    const seen = new Map<string, number>();
    return logs.map((log) => {
      const k = log.txHash;
      const ordinal = seen.get(k) ?? 0;
      seen.set(k, ordinal + 1);
      return { log, ordinal };
    });
  }

  async function scanRange(
    from: bigint,
    to: bigint,
    prev: { number: bigint; hash: string } | null,
    head: bigint,
    final: bigint,
  ): Promise<{ ok: boolean; matched: number; last: BlockHeader | null }> {
    // Headers: every block above the final one (reorg-able), else just the range end.
    const headers: BlockHeader[] = [];
    const firstLinked = to > final ? (from > final ? from : final + 1n) : to;
    for (let n = firstLinked; n <= to; n++) {
      const h = await client.getBlock(n);
      if (!h) return { ok: false, matched: 0, last: null };
      headers.push(h);
    }
    // Link the new headers to each other and to the cursor; a break means the chain moved.
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i]!;
      const parent = i > 0 ? headers[i - 1]! : prev && prev.number === h.number - 1n ? prev : null;
      if (parent && parent.hash !== h.parentHash) return { ok: false, matched: 0, last: null };
    }
    const byNumber = new Map(headers.map((h) => [h.number, h.hash]));
    const logs = (await logsFor(from, to)).sort((a, b) =>
      a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1,
    );
    for (const l of logs) {
      const expected = byNumber.get(l.blockNumber);
      if (expected && expected !== l.blockHash) return { ok: false, matched: 0, last: null };
    }
    const matches: MatchedTransfer[] = [];
    for (const { log, ordinal } of withOrdinals(logs)) {
      const customerId = o.addresses.lookup(log.to);
      if (!customerId) continue;
      const token = o.registry.token(network, log.token);
      if (!token || log.value <= token.dust) continue; // not allow-listed, zero or dust
      matches.push({ log, ordinal, token, customerId });
    }
    const last = headers[headers.length - 1]!;
    await db.transaction().execute(async (tx) => {
      // The cursor row is the scanner's write lock: a second scanner that got this far with a
      // stale view finds the cursor moved and throws before writing anything.
      const cur = await tx.selectFrom('scanner_cursors').selectAll().where('network', '=', network).forUpdate().executeTakeFirst();
      if (prev && cur && cur.block_hash !== prev.hash)
        throw new Error(`${network}: cursor moved under the scanner (another scanner is running?)`);
      if (matches.length > 0) await o.deposits.ingest(tx, network, matches, head);
      if (headers.length > 0) {
        await tx
          .insertInto('chain_blocks')
          .values(
            headers.map((h) => ({
              network,
              number: h.number.toString(),
              hash: h.hash,
              parent_hash: h.parentHash,
              timestamp: String(h.timestamp),
            })),
          )
          .onConflict((oc) =>
            oc.columns(['network', 'number']).doUpdateSet((eb) => ({
              hash: eb.ref('excluded.hash'),
              parent_hash: eb.ref('excluded.parent_hash'),
              timestamp: eb.ref('excluded.timestamp'),
            })),
          )
          .execute();
      }
      const values = { block_number: last.number.toString(), block_hash: last.hash, updated_at: o.clock.now() };
      if (cur) await tx.updateTable('scanner_cursors').set(values).where('network', '=', network).execute();
      else
        await tx
          .insertInto('scanner_cursors')
          .values({ network, ...values })
          .execute();
    });
    o.metrics.logsMatched.inc({ network }, matches.length);
    return { ok: true, matched: matches.length, last };
  }

  async function tick() {
    await o.addresses.refresh();
    const head = await client.getHeadNumber();
    const final = await finalNumber(head);
    let cur = await cursor();
    let reorgDepth = 0;
    if (cur && head < cur.number) {
      // The node is behind our cursor (e.g. a lagging replica behind a load balancer). A missing
      // block is no fork: if its head block is the one we stored, wait instead of rejecting the
      // deposits above it as reorged (and instead of moving confirmations backwards).
      const [stored, atHead] = await Promise.all([
        db
          .selectFrom('chain_blocks')
          .select('hash')
          .where('network', '=', network)
          .where(sql<boolean>`number = ${head.toString()}::bigint`)
          .executeTakeFirst(),
        client.getBlock(head),
      ]);
      if (stored && atHead && atHead.hash === stored.hash) {
        o.logger.info({ network, head: head.toString(), cursor: cur.number.toString() }, 'node is behind the scanner cursor; waiting');
        return { scannedTo: cur.number, matched: 0, reorgDepth: 0, credited: 0 };
      }
    }
    if (cur) {
      const onChain = await client.getBlock(cur.number);
      if (!onChain || onChain.hash !== cur.hash) {
        reorgDepth = await handleReorg(cur);
        cur = await cursor();
      }
    } else {
      const start = o.startBlock === 'head' ? head : o.startBlock;
      const startAt = start > head ? head : start;
      // Pretend the block before the start was scanned; an empty cursor hash links to anything.
      const h = startAt > 0n ? await client.getBlock(startAt - 1n) : null;
      cur = h ? { number: h.number, hash: h.hash } : null;
      if (!cur) cur = { number: startAt - 1n, hash: '' };
    }
    let matched = 0;
    let from = cur!.number + 1n;
    let prev: { number: bigint; hash: string } | null = cur!.hash ? cur! : null;
    let lastHeader: BlockHeader | null = null;
    while (from <= head && !stopping) {
      const to = from + BigInt(o.rangeBlocksMax) - 1n < head ? from + BigInt(o.rangeBlocksMax) - 1n : head;
      const r = await scanRange(from, to, prev, head, final);
      if (!r.ok) {
        o.logger.info({ network, from: from.toString(), to: to.toString() }, 'chain moved during scan; retrying next tick');
        break;
      }
      matched += r.matched;
      lastHeader = r.last;
      prev = r.last ? { number: r.last.number, hash: r.last.hash } : prev;
      from = to + 1n;
    }
    const credited = final >= 0n ? await o.deposits.advance(network, head, final) : 0;
    if (final > HEADERS_BELOW_FINAL_KEEP) {
      await db
        .deleteFrom('chain_blocks')
        .where('network', '=', network)
        .where(sql<boolean>`number < ${(final - HEADERS_BELOW_FINAL_KEEP).toString()}::bigint`)
        .execute();
    }
    const after = await cursor();
    if (after) o.metrics.lag.set({ network }, Number(head - after.number));
    if (lastHeader) o.metrics.lastBlockAge.set({ network }, Math.max(0, Math.floor(o.clock.now().getTime() / 1000) - lastHeader.timestamp));
    return { scannedTo: after?.number ?? -1n, matched, reorgDepth, credited };
  }

  const loop = createPollLoop({
    intervalMs: o.pollIntervalMs,
    run: async () => {
      if (o.lease && !leased) leased = await o.lease.tryAcquire(network);
      if (o.lease && !leased) return; // another process scans this network
      await tick();
    },
    onError: (err) => o.logger.error({ err, network }, 'scanner tick failed'),
  });

  return {
    network,
    tick,
    start() {
      stopping = false;
      loop.start();
    },
    async stop() {
      stopping = true;
      await loop.stop();
      if (o.lease && leased) await o.lease.release(network);
      leased = false;
    },
  };
}
