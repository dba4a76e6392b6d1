import { sql, type Kysely, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../db/schema.ts';
import type { Clock } from '../lib/clock.ts';
import { isRetryable } from '../lib/errors.ts';
import { createPollLoop } from '../lib/poll-loop.ts';

/**
 * The job queue is a table claimed with `FOR UPDATE SKIP LOCKED`, so any number of worker
 * processes can share one Postgres. A claimed job holds a lease; a worker that dies leaves the
 * lease to expire and the job is claimed again (handlers are idempotent). Enqueueing takes the
 * caller's transaction so a job exists if and only if the state change that wants it commits.
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

export interface JobQueue {
  enqueue(tx: Transaction<DB> | Kysely<DB>, opts: EnqueueOptions): Promise<void>;
  register(kind: string, handler: JobHandler): void;
  /** Claims and runs due jobs once; returns how many ran. */
  runDue(): Promise<number>;
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
}

const RETRY_BACKOFF_MAX_MS = 10 * 60_000;

export function createJobQueue(deps: JobQueueDeps): JobQueue {
  const handlers = new Map<string, JobHandler>();

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
      deps.logger.warn({ jobId: job.id, kind: job.kind, attempts: job.attempts, retry, err }, 'job failed');
      await deps.db
        .updateTable('jobs')
        .set({
          status: retry ? 'queued' : 'failed',
          run_at: new Date(now.getTime() + backoffMs),
          locked_until: null,
          last_error: String((err as Error)?.message ?? err).slice(0, 2000),
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
    start: () => loop.start(),
    stop: () => loop.stop(),
  };
}
