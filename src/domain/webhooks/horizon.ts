import { sql, type Kysely } from 'kysely';
import type { DB } from '../../infra/db/schema.ts';

/**
 * The highest event seq below which the event stream can no longer change.
 *
 * `events.seq` is a bigserial: a transaction takes its seq when it inserts, but commits whenever
 * it commits, so seq 11 may become visible before seq 10. A consumer that moved its cursor to
 * 11 at that moment would skip 10 forever. Rather than serialising all writers, readers wait
 * for the writers that could still hold a lower seq:
 *
 * - an observation reads, in one statement (one snapshot), the largest visible seq M and the
 *   snapshot's xmin/xmax;
 * - any seq ≤ M not visible belongs to a transaction running at that snapshot (its xid < xmax)
 *   or to one that rolled back; once a later snapshot has xmin ≥ that xmax, all of those have
 *   ended, so every seq ≤ M is final;
 * - when nothing was running (xmin = xmax), M is final at once (always the case on PGlite,
 *   which runs one transaction at a time).
 *
 * Observations are made outside any transaction (a transaction holding an xid would see itself
 * as running). One assumption: an outbox append follows its transaction's state change, so the
 * writer already holds an xid when it takes its seq (true of every caller of Outbox.append).
 * State is per process; any process's observations are valid evidence, so none is shared.
 */
export interface EventHorizon {
  /** Events with seq ≤ the result are final. `waitMsMax` > 0 re-observes briefly when writers are running. */
  stableSeq(opts?: { waitMsMax?: number }): Promise<bigint>;
  /**
   * Waits until every event committed before the call is final and returns a seq covering them
   * all. For one-shot passes (tests, tools) that must not miss an event whose lower-seq
   * neighbour was still being written by another transaction — on Postgres the snapshot counts
   * every transaction in the cluster, so "someone else is writing" is the normal case, not an
   * edge. Throws after `waitMsMax` instead of quietly returning less.
   */
  seqCoveringCommitted(opts?: { waitMsMax?: number }): Promise<bigint>;
}

interface Observation {
  maxSeq: bigint;
  xmin: bigint;
  xmax: bigint;
}

const REOBSERVE_INTERVAL_MS = 5;
const COVERING_WAIT_MS_MAX = 60_000;

export function createEventHorizon(db: Kysely<DB>): EventHorizon {
  let stable = 0n;
  let pending: Observation | null = null;

  async function observe(): Promise<Observation> {
    const r = await sql<{ xmin: string; xmax: string; max_seq: string | null }>`
      select pg_snapshot_xmin(s)::text as xmin, pg_snapshot_xmax(s)::text as xmax, (select max(seq) from events)::text as max_seq
      from pg_current_snapshot() as s`.execute(db);
    const row = r.rows[0]!;
    return { maxSeq: BigInt(row.max_seq ?? '0'), xmin: BigInt(row.xmin), xmax: BigInt(row.xmax) };
  }

  function absorb(o: Observation): void {
    if (pending && o.xmin >= pending.xmax && pending.maxSeq > stable) stable = pending.maxSeq;
    if (o.xmin === o.xmax) {
      if (o.maxSeq > stable) stable = o.maxSeq;
      pending = null;
    } else if (!pending || o.xmin >= pending.xmax) {
      pending = o;
    }
  }

  return {
    async stableSeq(opts = {}) {
      const first = await observe();
      absorb(first);
      const deadline = performance.now() + (opts.waitMsMax ?? 0);
      while (stable < first.maxSeq && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, REOBSERVE_INTERVAL_MS));
        const o = await observe();
        if (o.xmin >= first.xmax && first.maxSeq > stable) stable = first.maxSeq;
        absorb(o);
      }
      return stable;
    },

    async seqCoveringCommitted(opts = {}) {
      const first = await observe();
      absorb(first);
      const waitMsMax = opts.waitMsMax ?? COVERING_WAIT_MS_MAX;
      const deadline = performance.now() + waitMsMax;
      while (stable < first.maxSeq) {
        if (performance.now() >= deadline) {
          throw new Error(
            `event horizon: transactions running at seq ${first.maxSeq} (xmin ${first.xmin}, xmax ${first.xmax}) did not end within ${waitMsMax} ms`,
          );
        }
        await new Promise((r) => setTimeout(r, REOBSERVE_INTERVAL_MS));
        const o = await observe();
        if (o.xmin >= first.xmax && first.maxSeq > stable) stable = first.maxSeq;
        absorb(o);
      }
      return stable;
    },
  };
}
