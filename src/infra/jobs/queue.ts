import { sql, type Kysely, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import { Counter, type Registry as MetricsRegistry } from 'prom-client';
import type { DB } from '../db/schema.ts';
import type { Clock } from '../lib/clock.ts';
import { AppError, isRetryable } from '../lib/errors.ts';
import { createPollLoop } from '../lib/poll-loop.ts';

/**
 * The job queue is a table claimed with `FOR UPDATE SKIP LOCKED`, so any number of worker
 * processes can share one Postgres. A claimed job holds a lease; a worker that dies leaves the
 * lease to expire and the job is claimed again (handlers are idempotent). Enqueueing takes the
 * caller's transaction so a job exists if and only if the state change that wants it commits.
 *
 * Only failures known to be transient (`isRetryable`) are retried, with backoff, up to the job's
 * attempt bound. Any other failure parks the job at once: status `failed` with the error
 * recorded (`parked()` lists them for operators), because repeating a bug or a broken invariant
 * for days only hides it. A parked broken invariant also counts in `openramp_invariant_broken_total`.
 */
export interface EnqueueOptions {
  kind: string;
  payload: Record<string, unknown>;
  runAt?: Date;
  /** At most one job per unique key, ever (dedupes enqueue retries). */
  uniqueKey?: string;
  maxAttempts?: number;
}

export type JobHandler = (payload: Record<string, unknown>, job: { id: string; attempts: number }) => Promise<void>;

/** A job that will not run again by itself: it failed with a non-transient error or used up its attempts. */
export interface ParkedJob {
  id: string;
  kind: string;
  payload: Record<string, unknown>;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  updatedAt: Date;
}

export interface JobQueue {
  enqueue(tx: Transaction<DB> | Kysely<DB>, opts: EnqueueOptions): Promise<void>;
  register(kind: string, handler: JobHandler): void;
  /** Claims and runs due jobs once; returns how many ran. */
  runDue(): Promise<number>;
  /** Operators: parked jobs, newest first. */
  parked(opts?: { kind?: string; limit?: number }): Promise<ParkedJob[]>;
  start(): void;
  stop(): Promise<void>;
}

export interface JobQueueDeps {
  db: Kysely<DB>;
  clock: Clock;
  logger: Logger;
  pollIntervalMs: number;
  batchSizeMax: number;
  leaseMs: number;
  /** Where the parked-job and broken-invariant counters are registered (the app's /metrics). */
  metrics?: MetricsRegistry;
}

const PARKED_LIST_LIMIT_MAX = 500;

function errorRecord(err: unknown): string {
  const message = String((err as Error)?.message ?? err);
  // The code first, so an operator (and a query) can tell a broken invariant from a bad input.
  return (err instanceof AppError ? `${err.code}: ${message}` : message).slice(0, 2000);
}

const RETRY_BACKOFF_MAX_MS = 10 * 60_000;

export function createJobQueue(deps: JobQueueDeps): JobQueue {
  const handlers = new Map<string, JobHandler>();
  const registers = deps.metrics ? [deps.metrics] : [];
  const parkedTotal = new Counter({
    name: 'openramp_jobs_parked_total',
    help: 'Jobs that stopped retrying (non-transient failure or attempts used up), by job kind',
    labelNames: ['job'],
    registers,
  });
  const invariantBrokenTotal = new Counter({
    name: 'openramp_invariant_broken_total',
    help: 'Jobs parked on a broken invariant (a bug or corrupted state: alert)',
    labelNames: ['job'],
    registers,
  });

  async function claim(): Promise<
    { id: string; kind: string; payload: Record<string, unknown>; attempts: number; max_attempts: number }[]
  > {
    const now = deps.clock.now();
    const leaseUntil = new Date(now.getTime() + deps.leaseMs);
    const kinds = [...handlers.keys()];
    if (kinds.length === 0) return [];
    const res = await sql<{ id: string; kind: string; payload: Record<string, unknown>; attempts: number; max_attempts: number }>`
      update jobs set status = 'running', locked_until = ${leaseUntil}, attempts = attempts + 1, updated_at = ${now}
      where id in (
        select id from jobs
        where kind in (${sql.join(kinds)})
          and ((status = 'queued' and run_at <= ${now}) or (status = 'running' and locked_until < ${now}))
        order by run_at
        limit ${deps.batchSizeMax}
        for update skip locked
      )
      returning id::text as id, kind, payload, attempts, max_attempts`.execute(deps.db);
    return res.rows;
  }

  async function runOne(job: {
    id: string;
    kind: string;
    payload: Record<string, unknown>;
    attempts: number;
    max_attempts: number;
  }): Promise<void> {
    const handler = handlers.get(job.kind);
    if (!handler) return;
    try {
      await handler(job.payload, { id: job.id, attempts: job.attempts });
      await deps.db
        .updateTable('jobs')
        .set({ status: 'done', locked_until: null, last_error: null, updated_at: deps.clock.now() })
        .where('id', '=', job.id)
        .execute();
    } catch (err) {
      const retry = isRetryable(err) && job.attempts < job.max_attempts;
      const now = deps.clock.now();
      const backoffMs = Math.min(RETRY_BACKOFF_MAX_MS, 1000 * 2 ** Math.min(job.attempts, 20));
      if (retry) deps.logger.warn({ jobId: job.id, kind: job.kind, attempts: job.attempts, err }, 'job failed; will retry');
      else {
        const invariant = err instanceof AppError && err.invariant;
        deps.logger.error({ jobId: job.id, kind: job.kind, attempts: job.attempts, err, invariant }, 'job failed; parked');
        parkedTotal.inc({ job: job.kind });
        if (invariant) invariantBrokenTotal.inc({ job: job.kind });
      }
      await deps.db
        .updateTable('jobs')
        .set({
          status: retry ? 'queued' : 'failed',
          run_at: new Date(now.getTime() + backoffMs),
          locked_until: null,
          last_error: errorRecord(err),
          updated_at: now,
        })
        .where('id', '=', job.id)
        .execute();
    }
  }

  async function runDue(): Promise<number> {
    const jobs = await claim();
    for (const job of jobs) await runOne(job);
    return jobs.length;
  }

  const loop = createPollLoop({
    intervalMs: deps.pollIntervalMs,
    run: runDue,
    onError: (err) => deps.logger.error({ err }, 'job poll failed'),
  });

  return {
    async enqueue(tx, o) {
      const now = deps.clock.now();
      await tx
        .insertInto('jobs')
        .values({
          kind: o.kind,
          payload: JSON.stringify(o.payload),
          unique_key: o.uniqueKey ?? null,
          status: 'queued',
          run_at: o.runAt ?? now,
          attempts: 0,
          max_attempts: o.maxAttempts ?? 10,
          locked_until: null,
          last_error: null,
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) => oc.column('unique_key').doNothing())
        .execute();
    },
    register(kind, handler) {
      if (handlers.has(kind)) throw new Error(`job handler already registered: ${kind}`);
      handlers.set(kind, handler);
    },
    runDue,
    async parked(opts = {}) {
      let q = deps.db
        .selectFrom('jobs')
        .select(['id', 'kind', 'payload', 'attempts', 'max_attempts', 'last_error', 'updated_at'])
        .where('status', '=', 'failed');
      if (opts.kind) q = q.where('kind', '=', opts.kind);
      const rows = await q
        .orderBy('updated_at', 'desc')
        .orderBy('id', 'desc')
        .limit(Math.min(opts.limit ?? 100, PARKED_LIST_LIMIT_MAX))
        .execute();
      return rows.map((r) => ({
        id: String(r.id),
        kind: r.kind,
        payload: r.payload,
        attempts: r.attempts,
        maxAttempts: r.max_attempts,
        lastError: r.last_error,
        updatedAt: r.updated_at,
      }));
    },
    start: () => loop.start(),
    stop: () => loop.stop(),
  };
}
