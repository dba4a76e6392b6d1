import { randomBytes } from 'node:crypto';
import type { Resealer } from '../keys/master-key.ts';
import { resealValue } from '../db/sealed-columns.ts';
import type { FieldSealer } from '../db/sealed-columns.ts';
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../db/schema.ts';
import type { Clock } from '../lib/clock.ts';
import type { JobQueue } from '../jobs/queue.ts';

/**
 * Idempotency keys (docs/api-contract.md, "Idempotency keys"). The row's primary key
 * (partner, route, key) is the reservation, so one request wins across any number of processes.
 *
 * A reservation is `running` under a lease its owner keeps renewing while the request runs; a
 * process that dies stops renewing, and once the lease has lapsed a retry with the same request
 * takes the reservation over and runs the route again (the routes' own natural keys make that
 * safe where the guarantee is documented). A finished request stores its status, headers and
 * body byte for byte (`done`); a 5xx releases the key instead, so the retry runs again.
 * Rows live for the retention period from their first use; after it the key is free again.
 */
export interface IdempotencyScope {
  partnerId: string;
  /** `METHOD /route` as routed. */
  route: string;
  key: string;
}

export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type Reservation =
  /** This request holds the key: run it, then `complete` or `release`. */
  | { kind: 'owned'; owner: string }
  /** The key's first request finished: answer with its response. */
  | { kind: 'replay'; response: StoredResponse }
  /** The key was first used for a different request. */
  | { kind: 'mismatch' }
  /** The key's first request is still running (its lease is live). */
  | { kind: 'in-use'; leaseRemainingMs: number };

export interface IdempotencyStore {
  reserve(scope: IdempotencyScope, fingerprint: string): Promise<Reservation>;
  /** Stores the response of an owned reservation; false when this request no longer owned it (lease taken over). */
  complete(scope: IdempotencyScope, owner: string, response: StoredResponse): Promise<boolean>;
  /** Frees an owned reservation (the request failed with a 5xx): the next request with the key runs. */
  release(scope: IdempotencyScope, owner: string): Promise<void>;
  /** Deletes keys past their retention (never a live reservation); returns how many. */
  purgeExpired(): Promise<number>;
  /**
   * Stops renewing every lease this process holds and writes nothing more for them — what a
   * crash does. `close()` of the app calls it after the HTTP server has drained.
   */
  abandon(): void;
}

export interface IdempotencyConfig {
  /** How long a key (and its stored response) is kept after its first use. */
  retentionMs: number;
  /** A reservation whose owner stops renewing is free for a retry this long after the last renewal. */
  leaseMs: number;
}

/** A lease is renewed this many times at most (each a third of the lease): a request hung past that lets its key go. */
const LEASE_RENEWALS_MAX = 180;
/** Concurrent purge-or-take-over between our read and a retry of `reserve`. */
const RESERVE_ATTEMPTS_MAX = 3;
/** Rows deleted per purge statement (bounded transactions). */
const PURGE_BATCH_MAX = 5000;

const pk = (scope: IdempotencyScope) => `${scope.partnerId}\u0000${scope.route}\u0000${scope.key}`;

export function createIdempotencyStore(deps: {
  db: Kysely<DB>;
  clock: Clock;
  logger: Logger;
  config: IdempotencyConfig;
  /** A stored response is a customer's or an account's detail: it is kept sealed, and read opened. */
  sealer: Pick<FieldSealer, 'seal'>;
}): IdempotencyStore {
  const { db, clock, config } = deps;
  const heartbeats = new Map<string, NodeJS.Timeout>(); // pk\0owner → renewal timer
  let abandoned = false;

  function stopHeartbeat(scope: IdempotencyScope, owner: string): void {
    const k = `${pk(scope)}\u0000${owner}`;
    const t = heartbeats.get(k);
    if (t) clearInterval(t);
    heartbeats.delete(k);
  }

  function startHeartbeat(scope: IdempotencyScope, owner: string): void {
    const k = `${pk(scope)}\u0000${owner}`;
    let renewals = 0;
    const timer = setInterval(
      () => {
        if (++renewals > LEASE_RENEWALS_MAX) return stopHeartbeat(scope, owner);
        db.updateTable('idempotency_keys')
          .set({ lease_until: new Date(clock.now().getTime() + config.leaseMs) })
          .where('partner_id', '=', scope.partnerId)
          .where('route', '=', scope.route)
          .where('idempotency_key', '=', scope.key)
          .where('owner', '=', owner)
          .where('state', '=', 'running')
          .executeTakeFirst()
          .then((r) => {
            if (Number(r.numUpdatedRows) === 0) stopHeartbeat(scope, owner);
          })
          .catch((err) => deps.logger.warn({ err }, 'idempotency lease renewal failed'));
      },
      Math.max(1, Math.floor(config.leaseMs / 3)),
    );
    timer.unref();
    heartbeats.set(k, timer);
  }

  async function tryReserve(scope: IdempotencyScope, fingerprint: string): Promise<Reservation | null> {
    const now = clock.now();
    const owner = randomBytes(12).toString('base64url');
    const leaseUntil = new Date(now.getTime() + config.leaseMs);
    const expiresAt = new Date(now.getTime() + config.retentionMs);
    // Free: never used, past retention (and not under a live lease), or abandoned by an owner
    // whose lease lapsed — the last only for the same request, or a different body could take
    // over a key whose first request may already have done its work.
    const taken = await sql<{ owner: string }>`
      insert into idempotency_keys (partner_id, route, idempotency_key, fingerprint, state, owner, lease_until, created_at, expires_at)
      values (${scope.partnerId}, ${scope.route}, ${scope.key}, ${fingerprint}, 'running', ${owner}, ${leaseUntil}, ${now}, ${expiresAt})
      on conflict (partner_id, route, idempotency_key) do update
        set fingerprint = excluded.fingerprint, state = 'running', owner = excluded.owner, lease_until = excluded.lease_until,
            response_status = null, response_headers = null, response_body = null,
            created_at = excluded.created_at, expires_at = excluded.expires_at
        where (idempotency_keys.expires_at <= ${now}
               and not (idempotency_keys.state = 'running' and idempotency_keys.lease_until > ${now}))
           or (idempotency_keys.state = 'running' and idempotency_keys.lease_until <= ${now}
               and idempotency_keys.fingerprint = excluded.fingerprint)
      returning owner`.execute(db);
    if (taken.rows[0]?.owner === owner) {
      if (!abandoned) startHeartbeat(scope, owner);
      return { kind: 'owned', owner };
    }
    const row = await db
      .selectFrom('idempotency_keys')
      .select(['fingerprint', 'state', 'lease_until', 'response_status', 'response_headers', 'response_body'])
      .where('partner_id', '=', scope.partnerId)
      .where('route', '=', scope.route)
      .where('idempotency_key', '=', scope.key)
      .executeTakeFirst();
    if (!row) return null; // purged between the two statements: try again
    if (row.fingerprint !== fingerprint) return { kind: 'mismatch' };
    if (row.state === 'done')
      return { kind: 'replay', response: { status: row.response_status!, headers: row.response_headers ?? {}, body: row.response_body! } };
    return { kind: 'in-use', leaseRemainingMs: Math.max(0, new Date(row.lease_until!).getTime() - now.getTime()) };
  }

  return {
    async reserve(scope, fingerprint) {
      for (let attempt = 1; ; attempt++) {
        const r = await tryReserve(scope, fingerprint);
        if (r) return r;
        if (attempt >= RESERVE_ATTEMPTS_MAX) return { kind: 'in-use', leaseRemainingMs: 0 };
      }
    },

    async complete(scope, owner, response) {
      stopHeartbeat(scope, owner);
      if (abandoned) return false;
      const res = await db
        .updateTable('idempotency_keys')
        .set({
          state: 'done',
          owner: null,
          lease_until: null,
          response_status: response.status,
          response_headers: JSON.stringify(response.headers),
          response_body: deps.sealer.seal(response.body),
        })
        .where('partner_id', '=', scope.partnerId)
        .where('route', '=', scope.route)
        .where('idempotency_key', '=', scope.key)
        .where('owner', '=', owner)
        .where('state', '=', 'running')
        .executeTakeFirst();
      const stored = Number(res.numUpdatedRows) === 1;
      if (!stored) deps.logger.warn({ route: scope.route }, 'idempotency reservation was taken over before its response was stored');
      return stored;
    },

    async release(scope, owner) {
      stopHeartbeat(scope, owner);
      if (abandoned) return;
      await db
        .deleteFrom('idempotency_keys')
        .where('partner_id', '=', scope.partnerId)
        .where('route', '=', scope.route)
        .where('idempotency_key', '=', scope.key)
        .where('owner', '=', owner)
        .where('state', '=', 'running')
        .execute();
    },

    async purgeExpired() {
      const now = clock.now();
      let total = 0;
      for (;;) {
        const res = await sql<{ n: string }>`
          with gone as (
            delete from idempotency_keys
            where ctid in (
              select ctid from idempotency_keys
              where expires_at <= ${now} and not (state = 'running' and lease_until > ${now})
              limit ${PURGE_BATCH_MAX}
            )
            returning 1
          )
          select count(*)::text as n from gone`.execute(db);
        const n = Number(res.rows[0]?.n ?? 0);
        total += n;
        if (n < PURGE_BATCH_MAX) return total;
      }
    },

    abandon() {
      abandoned = true;
      for (const t of heartbeats.values()) clearInterval(t);
      heartbeats.clear();
    },
  };
}

export const IDEMPOTENCY_PURGE_JOB = 'idempotency.purge';
/** The purge runs about once per interval, whatever the number of processes (one job per slot). */
export const IDEMPOTENCY_PURGE_INTERVAL_MS = 60 * 60_000;

/**
 * The purge job: deletes expired keys and schedules the next run. Each slot of the interval has
 * one job (its unique key), so every process may schedule it and it still runs once. `clock` is
 * the job queue's own (business time schedules jobs; the store's clock decides expiry).
 */
export function registerJobs(
  queue: Pick<JobQueue, 'register' | 'enqueue'>,
  deps: { store: IdempotencyStore; db: Kysely<DB>; clock: Clock },
) {
  queue.register(IDEMPOTENCY_PURGE_JOB, async () => {
    await deps.store.purgeExpired();
    await schedulePurge(queue, deps, 1);
  });
}

/** Schedules the purge at the start of the slot `ahead` intervals from now (0: the current one, due at once); a no-op when it already is. */
export async function schedulePurge(queue: Pick<JobQueue, 'enqueue'>, deps: { db: Kysely<DB>; clock: Clock }, ahead = 0): Promise<void> {
  const slot = Math.floor(deps.clock.now().getTime() / IDEMPOTENCY_PURGE_INTERVAL_MS) + ahead;
  await queue.enqueue(deps.db, {
    kind: IDEMPOTENCY_PURGE_JOB,
    payload: { slot },
    runAt: new Date(slot * IDEMPOTENCY_PURGE_INTERVAL_MS),
    uniqueKey: `${IDEMPOTENCY_PURGE_JOB}:${slot}`,
    maxAttempts: 3,
  });
}

/** Master-key rotation: re-seals every stored response (rows live for the retention only, so all at once). */
export const resealIdempotencyResponses: Resealer = async (tx, { from, to }) => {
  const rows = await tx
    .selectFrom('idempotency_keys')
    .select(['partner_id', 'route', 'idempotency_key', 'response_body'])
    .where('response_body', 'is not', null)
    .execute();
  for (const r of rows)
    await tx
      .updateTable('idempotency_keys')
      .set({ response_body: resealValue(r.response_body, from.sealer, to.sealer) })
      .where('partner_id', '=', r.partner_id)
      .where('route', '=', r.route)
      .where('idempotency_key', '=', r.idempotency_key)
      .execute();
  return rows.length;
};
