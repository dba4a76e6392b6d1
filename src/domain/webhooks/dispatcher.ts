import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../../infra/db/schema.ts';
import type { Clock } from '../../infra/lib/clock.ts';
import { systemClock } from '../../infra/lib/clock.ts';
import type { IdGenerator } from '../../infra/lib/ids.ts';
import type { Partners } from '../partners/partners.ts';
import type { WebhookConfig } from '../../config.ts';
import type { EventHorizon } from './horizon.ts';
import { checkCallbackUrl, createCachingResolver } from './url-safety.ts';
import { sendWebhook, type SendResult } from './sender.ts';
import { webhookEnvelope, webhookHeaders, type SigningMaterial } from './signing.ts';

/**
 * Webhook delivery (docs/webhooks.md), in two stages:
 *
 * 1. Fan-out: a transactional-outbox consumer. It reads events in seq order past a cursor row
 *    (locked FOR UPDATE, so processes take turns) up to the stable horizon (horizon.ts), and in
 *    the same transaction inserts one delivery per event whose partner has a callback URL and is
 *    subscribed to the type, then moves the cursor. A unique index makes a repeat harmless.
 * 2. Dispatch: due deliveries are claimed with FOR UPDATE SKIP LOCKED under a lease, at most
 *    `concurrencyMax` in flight in this process and `perPartnerInFlightMax` per partner across
 *    processes, so a slow or dead endpoint holds a few slots and never the rest. Outcomes are
 *    written in batches (group commit); failures are rescheduled on the retry schedule until it
 *    runs out, then the delivery is `failed` (visible in GET /webhook-delivery/list).
 *
 * Delivery is at least once: a worker that dies mid-attempt leaves its lease to expire and the
 * delivery is attempted again; receivers dedupe on `webhook-id` (the event id).
 */
export interface WebhookDispatcher {
  /**
   * Turns new events into deliveries until caught up with the stable horizon; returns events
   * consumed. `covering` first waits for concurrent writers, so every event committed before
   * the call is included (the background loop does not wait: it comes back in a moment).
   */
  fanOut(opts?: { covering?: boolean }): Promise<number>;
  /**
   * One full pass for tests and tools: fan out every event committed before the call, then
   * claim and attempt every due delivery, waiting for each batch, until nothing is due at the
   * current clock time.
   */
  runOnce(): Promise<{ events: number; attempts: number }>;
  /** Wakes the background loop (e.g. after a redelivery was queued). */
  notify(): void;
  start(): void;
  /** Stops claiming, waits up to shutdownGraceMs for in-flight attempts, releases the rest to other workers. */
  stop(): Promise<void>;
  /** Attempts in flight in this process. */
  inFlight(): number;
}

export interface WebhookDispatcherDeps {
  db: Kysely<DB>;
  clock: Clock;
  ids: IdGenerator;
  partners: Pick<Partners, 'webhookSecrets' | 'webhookSigningKey' | 'webhookTargets'>;
  horizon: EventHorizon;
  logger: Logger;
  config: WebhookConfig;
  /** Sandbox: local receivers allowed. Production: the callback host is re-resolved and checked before every attempt (DNS rebinding). */
  allowPrivateTargets: boolean;
  /** DNS resolution for the production check (tests inject one). */
  resolve?: (host: string) => Promise<string[]>;
  fetchImpl?: typeof fetch;
  /** Time written into signatures: receivers compare it with their wall clock, so it is never the sandbox's accelerated clock. */
  wallClock?: Clock;
}

interface Claimed {
  id: string;
  partnerId: string;
  eventId: string;
  attemptNumber: number;
  token: string;
  eventType: string;
  eventPayload: Record<string, unknown>;
  eventCreatedAt: Date;
  callbackUrl: string | null;
  partnerVersion: string;
}

interface Outcome {
  claimed: Claimed;
  url: string;
  result: SendResult;
}

/** Time a claim may take beyond the request timeout (signing, writing the outcome) before its lease lapses. */
const LEASE_MARGIN_MS = 30_000;
/** Signing material is cached per partner and keyed by the partner row's updated_at (a whsec_ rotation changes it). */
const SIGNING_CACHE_TTL_MS = 10_000;
const SIGNING_CACHE_ENTRIES_MAX = 10_000;
const OUTCOME_BATCH_SIZE_MAX = 500;
/** Longest an outcome waits for others to share its write. */
const OUTCOME_LINGER_MS = 2;
/** Due rows a claim locks and looks at, per slot it fills (room for partners at their cap). */
const CLAIM_WINDOW_FACTOR = 4;
const CLAIM_WINDOW_ROWS_MAX = 2000;
const ERROR_CHARS_MAX = 2000;

export function createWebhookDispatcher(deps: WebhookDispatcherDeps): WebhookDispatcher {
  const { db, clock, config, logger } = deps;
  const wallClock = deps.wallClock ?? systemClock;
  const resolve = createCachingResolver(deps.resolve);
  const schedule = config.retryScheduleMs;

  // ---- fan-out ---------------------------------------------------------------------------

  /** `covering`: wait for writers still running so every event committed before the call is seen. */
  async function fanOutBatch(covering = false): Promise<number> {
    const stable = covering ? await deps.horizon.seqCoveringCommitted() : await deps.horizon.stableSeq();
    return db.transaction().execute(async (tx) => {
      const cursor = await sql<{
        last_seq: string;
      }>`select last_seq::text as last_seq from webhook_cursors where name = 'fanout' for update`.execute(tx);
      const last = BigInt(cursor.rows[0]?.last_seq ?? '0');
      if (stable <= last) return 0;
      const events = await tx
        .selectFrom('events')
        .select(['id', 'seq', 'partner_id', 'type'])
        .where('seq', '>', last.toString())
        .where('seq', '<=', stable.toString())
        .orderBy('seq')
        .limit(config.fanoutBatchSizeMax)
        .execute();
      const targets = await deps.partners.webhookTargets(
        events.map((e) => e.partner_id),
        tx,
      );
      const now = clock.now();
      const rows = events
        .filter((e) => {
          const t = targets.get(e.partner_id);
          return t?.callbackUrl && t.subscribedEvents.includes(e.type);
        })
        .map((e) => ({
          id: deps.ids.next('webhookDelivery'),
          partner_id: e.partner_id,
          event_id: e.id,
          event_seq: e.seq,
          kind: 'auto' as const,
          status: 'pending' as const,
          attempt_count: 0,
          next_attempt_at: new Date(now.getTime() + (schedule[0] ?? 0)),
          locked_until: null,
          claim_token: null,
          last_status_code: null,
          last_error: null,
          created_at: now,
          updated_at: now,
          completed_at: null,
        }));
      if (rows.length > 0) {
        await tx
          .insertInto('webhook_deliveries')
          .values(rows)
          .onConflict((oc) => oc.columns(['partner_id', 'event_id']).where('kind', '=', 'auto').doNothing())
          .execute();
      }
      // A short batch means everything up to the horizon was seen (gaps included).
      const next = events.length === config.fanoutBatchSizeMax ? BigInt(events[events.length - 1]!.seq) : stable;
      await tx.updateTable('webhook_cursors').set({ last_seq: next.toString(), updated_at: now }).where('name', '=', 'fanout').execute();
      return events.length;
    });
  }

  async function fanOut(opts: { covering?: boolean } = {}): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await fanOutBatch(opts.covering ?? false);
      total += n;
      if (n < config.fanoutBatchSizeMax) return total;
    }
  }

  // ---- claiming ----------------------------------------------------------------------------

  /**
   * One statement (one round trip, its own transaction): count what is in flight per partner in
   * every process, lock a window of due rows with SKIP LOCKED (other workers' claims are skipped,
   * partners at their cap are not even read), keep at most cap − busy per partner, and lease them.
   * A partner with a long backlog fills only its own room; the rest of the window goes to others.
   */
  async function claim(limit: number): Promise<Claimed[]> {
    if (limit <= 0) return [];
    const now = clock.now();
    const leaseUntil = new Date(now.getTime() + config.timeoutMs + LEASE_MARGIN_MS);
    const token = randomUUID();
    const cap = config.perPartnerInFlightMax;
    const window = Math.min(CLAIM_WINDOW_ROWS_MAX, limit * CLAIM_WINDOW_FACTOR);
    const res = await sql<{
      id: string;
      partner_id: string;
      event_id: string;
      attempt_count: number;
      type: string;
      payload: Record<string, unknown> | string;
      created_at: Date;
      callback_url: string | null;
      partner_version: Date;
      next_attempt_at: Date;
      event_seq: string;
    }>`
      with busy as (
        select partner_id, count(*)::int as n from webhook_deliveries
        where locked_until is not null and locked_until > ${now}
        group by partner_id
      ),
      due as (
        select d.id, d.partner_id, d.next_attempt_at, d.event_seq from webhook_deliveries as d
        where d.status = 'pending' and d.next_attempt_at <= ${now}
          and (d.locked_until is null or d.locked_until <= ${now})
          and not exists (select 1 from busy as b where b.partner_id = d.partner_id and b.n >= ${cap})
        order by d.next_attempt_at, d.event_seq
        limit ${window}
        for update of d skip locked
      ),
      ranked as (
        select due.id, due.next_attempt_at, due.event_seq,
          row_number() over (partition by due.partner_id order by due.next_attempt_at, due.event_seq) + coalesce(busy.n, 0) as slot
        from due left join busy on busy.partner_id = due.partner_id
      ),
      picked as (
        select id from ranked where slot <= ${cap} order by next_attempt_at, event_seq limit ${limit}
      )
      update webhook_deliveries as d
      set locked_until = ${leaseUntil}, claim_token = ${token}, attempt_count = d.attempt_count + 1, updated_at = ${now}
      from picked, events as e, partners as p
      where d.id = picked.id and e.id = d.event_id and p.id = d.partner_id
      returning d.id, d.partner_id, d.event_id, d.attempt_count, d.next_attempt_at, d.event_seq, e.type, e.payload, e.created_at, p.callback_url, p.updated_at as partner_version`.execute(
      db,
    );
    return res.rows
      .sort(
        (a, b) =>
          new Date(a.next_attempt_at).getTime() - new Date(b.next_attempt_at).getTime() ||
          Number(BigInt(a.event_seq) - BigInt(b.event_seq)),
      )
      .map((r) => ({
        id: r.id,
        partnerId: r.partner_id,
        eventId: r.event_id,
        attemptNumber: Number(r.attempt_count),
        token,
        eventType: r.type,
        eventPayload: typeof r.payload === 'string' ? (JSON.parse(r.payload) as Record<string, unknown>) : r.payload,
        eventCreatedAt: new Date(r.created_at),
        callbackUrl: r.callback_url,
        partnerVersion: new Date(r.partner_version).toISOString(),
      }));
  }

  // ---- one attempt -------------------------------------------------------------------------

  const signingCache = new Map<string, { version: string; expiresMs: number; value: Promise<SigningMaterial> }>();
  function signingMaterial(partnerId: string, version: string): Promise<SigningMaterial> {
    const nowMs = performance.now();
    const hit = signingCache.get(partnerId);
    if (hit && hit.version === version && hit.expiresMs > nowMs) return hit.value;
    const value = Promise.all([deps.partners.webhookSigningKey(partnerId), deps.partners.webhookSecrets(partnerId)]).then(
      ([apiKey, webhookSecrets]) => ({ apiKey, webhookSecrets }),
    );
    if (signingCache.size >= SIGNING_CACHE_ENTRIES_MAX) signingCache.clear();
    signingCache.set(partnerId, { version, expiresMs: nowMs + SIGNING_CACHE_TTL_MS, value });
    value.catch(() => signingCache.delete(partnerId));
    return value;
  }

  const failedBeforeSending = (error: string): SendResult => ({
    statusCode: null,
    error,
    responseExcerpt: null,
    latencyMs: 0,
    aborted: false,
  });

  async function attempt(c: Claimed, controller: AbortController): Promise<Outcome> {
    const url = c.callbackUrl ?? '';
    if (!c.callbackUrl) return { claimed: c, url, result: failedBeforeSending('no callback URL is set (POST /callback-url)') };
    if (!deps.allowPrivateTargets) {
      // The URL was checked when it was set; DNS may have changed since (rebinding).
      const problem = await checkCallbackUrl(c.callbackUrl, { allowPrivate: false, resolve });
      if (problem) return { claimed: c, url, result: failedBeforeSending(`refused at delivery time (SSRF protection): ${problem}`) };
    }
    const signing = await signingMaterial(c.partnerId, c.partnerVersion);
    if (!signing.apiKey)
      return {
        claimed: c,
        url,
        result: failedBeforeSending('the partner has no active API key, so the X-Signature header cannot be computed'),
      };
    const body = JSON.stringify(
      webhookEnvelope({ id: c.eventId, type: c.eventType, createdAt: c.eventCreatedAt, payload: c.eventPayload }),
    );
    const headers = webhookHeaders({
      url: new URL(c.callbackUrl),
      body,
      eventId: c.eventId,
      timestampSeconds: Math.floor(wallClock.now().getTime() / 1000),
      nonce: randomUUID(),
      signing: { ...signing, apiKey: signing.apiKey },
    });
    const result = await sendWebhook({
      url: c.callbackUrl,
      headers,
      body,
      timeoutMs: config.timeoutMs,
      controller,
      ...(deps.fetchImpl ? { fetchImpl: deps.fetchImpl } : {}),
    });
    return { claimed: c, url, result };
  }

  // ---- outcomes (group commit) -------------------------------------------------------------

  let outcomeQueue: { o: Outcome; done: (err?: unknown) => void }[] = [];
  let flushing: Promise<void> | null = null;
  let lingerTimer: NodeJS.Timeout | null = null;
  /** Attempts launched whose outcome is not yet queued. */
  let unreported = 0;

  function record(o: Outcome): Promise<void> {
    return new Promise((resolvePromise, reject) => {
      outcomeQueue.push({ o, done: (err) => (err ? reject(err) : resolvePromise()) });
      scheduleFlush();
    });
  }

  /**
   * Outcomes are written together: at once when no other attempt is still running (or the batch
   * is full), otherwise after a short linger so outcomes arriving together share a transaction.
   */
  function scheduleFlush(): void {
    if (flushing) return; // the running flush loop picks the queue up
    if (unreported === 0 || outcomeQueue.length >= OUTCOME_BATCH_SIZE_MAX) {
      if (lingerTimer) clearTimeout(lingerTimer);
      lingerTimer = null;
      flushing = flushLoop();
    } else {
      lingerTimer ??= setTimeout(() => {
        lingerTimer = null;
        flushing ??= flushLoop();
      }, OUTCOME_LINGER_MS);
    }
  }

  async function flushLoop(): Promise<void> {
    try {
      while (outcomeQueue.length > 0) {
        const batch = outcomeQueue.slice(0, OUTCOME_BATCH_SIZE_MAX);
        outcomeQueue = outcomeQueue.slice(batch.length);
        try {
          await writeOutcomes(batch.map((b) => b.o));
          for (const b of batch) b.done();
        } catch (err) {
          // Not recorded: the leases lapse and the deliveries are attempted again (at least once).
          logger.error({ err, deliveries: batch.length }, 'writing webhook outcomes failed');
          for (const b of batch) b.done(err);
        }
      }
    } finally {
      flushing = null;
    }
  }

  /** One statement: settle the deliveries (only where this claim still holds them) and log the attempts. */
  async function writeOutcomes(outcomes: Outcome[]): Promise<void> {
    const now = clock.now();
    const values = sql.join(
      outcomes.map(({ claimed: c, url, result }) => {
        const succeeded = result.error === null;
        const retryDelayMs = schedule[c.attemptNumber];
        const status = succeeded ? 'succeeded' : retryDelayMs === undefined ? 'failed' : 'pending';
        const nextAt = status === 'pending' ? new Date(now.getTime() + retryDelayMs!) : null;
        const completedAt = status === 'pending' ? null : now;
        const error = result.error?.slice(0, ERROR_CHARS_MAX) ?? null;
        return sql`(${c.id}::text, ${c.token}::text, ${c.attemptNumber}::integer, ${url}::text, ${status}::text, ${nextAt}::timestamptz, ${result.statusCode}::integer, ${error}::text, ${result.responseExcerpt}::text, ${result.latencyMs}::integer, ${completedAt}::timestamptz)`;
      }),
    );
    // After a lapsed lease another worker owns the delivery: only the claim holder settles it,
    // but the attempt happened, so it is logged either way.
    await sql`
      with v (id, token, attempt, url, status, next_at, code, err, excerpt, latency, completed) as (values ${values}),
      settled as (
        update webhook_deliveries as d
        set status = v.status, next_attempt_at = v.next_at, locked_until = null, claim_token = null,
            last_status_code = v.code, last_error = v.err, completed_at = v.completed, updated_at = ${now}
        from v where d.id = v.id and d.claim_token = v.token
        returning d.id
      )
      insert into webhook_attempts (delivery_id, attempt_number, request_url, response_status, latency_ms, error, response_excerpt, created_at)
      select v.id, v.attempt, v.url, v.code, v.latency, v.err, v.excerpt, ${now}::timestamptz from v`.execute(db);
  }

  /** Hands a claimed delivery back untried (shutdown): due now, for any worker. */
  async function release(c: Claimed): Promise<void> {
    await db
      .updateTable('webhook_deliveries')
      .set((eb) => ({
        locked_until: null,
        claim_token: null,
        attempt_count: eb('attempt_count', '-', 1),
        next_attempt_at: clock.now(),
        updated_at: clock.now(),
      }))
      .where('id', '=', c.id)
      .where('claim_token', '=', c.token)
      .execute();
  }

  // ---- running attempts --------------------------------------------------------------------

  const running = new Map<string, { abort: AbortController; releasing: boolean; done: Promise<void> }>();

  function launch(c: Claimed): Promise<void> {
    const entry = { abort: new AbortController(), releasing: false, done: Promise.resolve() };
    running.set(c.id, entry);
    unreported += 1;
    let reported = false;
    const report = () => {
      if (!reported) unreported -= 1;
      reported = true;
    };
    entry.done = attempt(c, entry.abort)
      .then((o) => {
        report();
        return entry.releasing && o.result.aborted ? release(c) : record(o);
      })
      .catch((err) => logger.error({ err, deliveryId: c.id }, 'webhook attempt failed to complete'))
      .finally(() => {
        report();
        running.delete(c.id);
        notify();
      });
    return entry.done;
  }

  // ---- background loop ---------------------------------------------------------------------

  let started = false;
  let stopping = false;
  let loop: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  /** A notify() that arrived while the loop was busy: the next sleep returns at once. */
  let woken = false;
  let lastFanOutMs = -Infinity;

  function notify(): void {
    const w = wake;
    wake = null;
    if (w) w();
    else woken = true;
  }

  function sleep(ms: number): Promise<void> {
    if (woken) {
      woken = false;
      return Promise.resolve();
    }
    return new Promise((resolvePromise) => {
      const timer = setTimeout(() => {
        wake = null;
        resolvePromise();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        resolvePromise();
      };
    });
  }

  async function runLoop(): Promise<void> {
    while (!stopping) {
      let progressed = false;
      try {
        // New events are looked for once per poll interval, or at once while they keep coming.
        if (performance.now() - lastFanOutMs >= config.pollIntervalMs) {
          const n = await fanOut();
          lastFanOutMs = n > 0 ? -Infinity : performance.now();
          progressed ||= n > 0;
        }
        if (stopping) break;
        const claimed = await claim(config.concurrencyMax - running.size);
        for (const c of claimed) void launch(c);
        progressed ||= claimed.length > 0;
      } catch (err) {
        logger.error({ err }, 'webhook dispatcher iteration failed');
      }
      if (!stopping && (!progressed || running.size >= config.concurrencyMax)) {
        await sleep(Math.max(1, config.pollIntervalMs - Math.max(0, performance.now() - lastFanOutMs)));
      }
    }
  }

  return {
    fanOut,

    async runOnce() {
      const events = await fanOut({ covering: true });
      let attempts = 0;
      for (;;) {
        const claimed = await claim(config.concurrencyMax - running.size);
        if (claimed.length === 0) break;
        attempts += claimed.length;
        await Promise.all(claimed.map(launch));
      }
      return { events, attempts };
    },

    notify,

    start() {
      if (started) return;
      started = true;
      stopping = false;
      loop = runLoop();
    },

    async stop() {
      stopping = true;
      notify();
      await loop;
      loop = null;
      started = false;
      if (running.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        const graceOver = new Promise<void>((r) => (timer = setTimeout(r, config.shutdownGraceMs)));
        await Promise.race([Promise.all([...running.values()].map((e) => e.done)), graceOver]);
        clearTimeout(timer);
      }
      // What could not finish in time goes back to the queue for another worker.
      for (const entry of running.values()) {
        entry.releasing = true;
        entry.abort.abort();
      }
      await Promise.all([...running.values()].map((e) => e.done));
      await flushing;
    },

    inFlight: () => running.size,
  };
}
