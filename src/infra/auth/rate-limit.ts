import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';

/**
 * In-process fixed-window counter (the failed-authentication throttle uses it). The API's
 * per-key rate limit is `createSharedRateLimiter` below: counted across every process.
 */
export interface RateLimiter {
  /** Counts one request; returns null when allowed, or the seconds to wait. */
  hit(key: string, limitPerMinute: number, nowMs: number): number | null;
  /** Like `hit` without counting: null while the key is within its limit this minute. */
  peek(key: string, limitPerMinute: number, nowMs: number): number | null;
}

export function createRateLimiter(opts: { keysMax?: number } = {}): RateLimiter {
  const windowMs = 60_000;
  const keysMax = opts.keysMax ?? 100_000;
  const windows = new Map<string, { start: number; count: number }>();
  return {
    hit(key, limit, nowMs) {
      const start = nowMs - (nowMs % windowMs);
      let w = windows.get(key);
      if (!w || w.start !== start) {
        w = { start, count: 0 };
        windows.delete(key);
        windows.set(key, w);
        if (windows.size > keysMax) {
          const oldest = windows.keys().next().value;
          if (oldest !== undefined) windows.delete(oldest);
        }
      }
      w.count += 1;
      if (w.count <= limit) return null;
      return Math.max(1, Math.ceil((start + windowMs - nowMs) / 1000));
    },
    peek(key, limit, nowMs) {
      const start = nowMs - (nowMs % windowMs);
      const w = windows.get(key);
      if (!w || w.start !== start || w.count < limit) return null;
      return Math.max(1, Math.ceil((start + windowMs - nowMs) / 1000));
    },
  };
}

/**
 * The per-key limit of the API, summed over every API process (docs/request-signing.md, "Rate
 * limit"): a fixed one-minute window per API key in the UNLOGGED `rate_limit_windows` table,
 * incremented by an upsert that returns the new count. Hits arriving together are written in one
 * statement (group commit, as the nonce store does). In front of it, a process remembers the
 * windows it has seen full: counts only grow within a window, so refusing those without a round
 * trip is exact.
 */
export interface SharedRateLimiter {
  /** Counts one request; resolves null when allowed, or the seconds to wait. */
  hit(apiKeyId: string, limitPerMinute: number, nowMs: number): Promise<number | null>;
  /** Deletes windows that have ended before `nowMs` minus a minute; returns how many. */
  purgeExpired(nowMs: number): Promise<number>;
}

const WINDOW_MS = 60_000;
const retryAfterSeconds = (start: number, nowMs: number) => Math.max(1, Math.ceil((start + WINDOW_MS - nowMs) / 1000));

interface PendingHit {
  apiKeyId: string;
  start: number;
  limit: number;
  nowMs: number;
  resolve: (retryAfter: number | null) => void;
  reject: (err: unknown) => void;
}

export function createSharedRateLimiter(deps: { db: Kysely<DB>; batchSizeMax?: number; keysMax?: number }): SharedRateLimiter {
  const batchSizeMax = deps.batchSizeMax ?? 500;
  const keysMax = deps.keysMax ?? 100_000;
  const full = new Map<string, number>(); // api key id → start of a window known to be at its limit
  let pending: PendingHit[] = [];
  let scheduled = false;

  function markFull(apiKeyId: string, start: number): void {
    full.delete(apiKeyId);
    full.set(apiKeyId, start);
    if (full.size > keysMax) {
      const oldest = full.keys().next().value;
      if (oldest !== undefined) full.delete(oldest);
    }
  }

  async function flush(): Promise<void> {
    scheduled = false;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    const groups = new Map<string, PendingHit[]>();
    for (const h of batch) {
      const k = `${h.apiKeyId}\u0000${h.start}`;
      const g = groups.get(k);
      if (g) g.push(h);
      else groups.set(k, [h]);
    }
    const rows = [...groups.values()];
    try {
      const res = await sql<{ api_key_id: string; start_s: string; hits: number }>`
        insert into rate_limit_windows (api_key_id, window_start, hits)
        select k, w::timestamptz, n
        from unnest(
          ${rows.map((g) => g[0]!.apiKeyId)}::text[],
          ${rows.map((g) => new Date(g[0]!.start).toISOString())}::text[],
          ${rows.map((g) => g.length)}::int[]
        ) as t(k, w, n)
        on conflict (api_key_id, window_start) do update set hits = rate_limit_windows.hits + excluded.hits
        returning api_key_id, extract(epoch from window_start)::bigint::text as start_s, hits`.execute(deps.db);
      const totals = new Map(res.rows.map((r) => [`${r.api_key_id}\u0000${Number(r.start_s) * 1000}`, Number(r.hits)]));
      for (const [k, g] of groups) {
        const total = totals.get(k);
        if (total === undefined) {
          for (const h of g) h.reject(new Error('rate limit counter did not return its window'));
          continue;
        }
        const first = g[0]!;
        if (total >= first.limit) markFull(first.apiKeyId, first.start);
        // This batch's hits are the last g.length of the window's count, in arrival order.
        g.forEach((h, i) => {
          const count = total - g.length + 1 + i;
          h.resolve(count <= h.limit ? null : retryAfterSeconds(h.start, h.nowMs));
        });
      }
    } catch (err) {
      for (const h of batch) h.reject(err);
    }
  }

  return {
    hit(apiKeyId, limit, nowMs) {
      const start = nowMs - (nowMs % WINDOW_MS);
      if (full.get(apiKeyId) === start) return Promise.resolve(retryAfterSeconds(start, nowMs));
      return new Promise<number | null>((resolve, reject) => {
        pending.push({ apiKeyId, start, limit, nowMs, resolve, reject });
        if (pending.length >= batchSizeMax) void flush();
        else if (!scheduled) {
          scheduled = true;
          setImmediate(() => void flush());
        }
      });
    },
    async purgeExpired(nowMs) {
      const res = await deps.db
        .deleteFrom('rate_limit_windows')
        .where('window_start', '<', new Date(nowMs - (nowMs % WINDOW_MS) - WINDOW_MS))
        .executeTakeFirst();
      for (const [k, start] of full) if (start + WINDOW_MS <= nowMs) full.delete(k);
      return Number(res.numDeletedRows);
    },
  };
}
