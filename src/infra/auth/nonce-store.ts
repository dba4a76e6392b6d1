import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Clock } from '../lib/clock.ts';

/**
 * Replay protection. The UNLOGGED `auth_nonces` table's primary key is the source of truth, so
 * it holds across any number of server processes; an in-process cache in front answers most
 * replays without a round trip. Entries live for twice the timestamp window: a nonce can only
 * be replayed with a timestamp inside the window, and the window extends both ways.
 *
 * Claims arriving together are written in one statement (group commit): under load one round
 * trip serves many requests instead of one each. Transactions touching only an unlogged table
 * write no WAL, so their commits do not wait for a disk flush.
 */
export interface NonceStore {
  /** Records the nonce; false when it was already used for this key. */
  claim(apiKeyId: string, nonce: string): Promise<boolean>;
  /** Deletes expired rows; returns how many. */
  purgeExpired(): Promise<number>;
}

interface Pending {
  apiKeyId: string;
  nonce: string;
  resolve: (fresh: boolean) => void;
  reject: (err: unknown) => void;
}

export function createNonceStore(deps: {
  db: Kysely<DB>;
  clock: Clock;
  windowSeconds: number;
  cacheEntriesMax?: number;
  batchSizeMax?: number;
}): NonceStore {
  const ttlMs = deps.windowSeconds * 2 * 1000;
  const cacheEntriesMax = deps.cacheEntriesMax ?? 100_000;
  const batchSizeMax = deps.batchSizeMax ?? 500;
  const cache = new Map<string, number>(); // key → expiry ms (insertion order ≈ expiry order)
  let pending: Pending[] = [];
  let scheduled = false;

  const keyOf = (apiKeyId: string, nonce: string) => `${apiKeyId}\u0000${nonce}`;

  function cachePut(k: string, exp: number): void {
    cache.set(k, exp);
    while (cache.size > cacheEntriesMax) {
      const oldest = cache.keys().next().value;
      if (oldest === undefined) break;
      cache.delete(oldest);
    }
  }

  async function flush(): Promise<void> {
    scheduled = false;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    const nowMs = deps.clock.now().getTime();
    const expiresAt = new Date(nowMs + ttlMs);
    // The same nonce twice in one batch: the first claim wins, the rest are replays.
    const unique = new Map<string, Pending>();
    for (const p of batch) {
      const k = keyOf(p.apiKeyId, p.nonce);
      if (unique.has(k)) p.resolve(false);
      else unique.set(k, p);
    }
    const rows = [...unique.values()];
    try {
      const res = await sql<{ api_key_id: string; nonce: string }>`
        insert into auth_nonces (api_key_id, nonce, expires_at)
        select k, n, ${expiresAt}::timestamptz
        from unnest(${rows.map((r) => r.apiKeyId)}::text[], ${rows.map((r) => r.nonce)}::text[]) as t(k, n)
        on conflict (api_key_id, nonce) do update set expires_at = excluded.expires_at
          where auth_nonces.expires_at <= ${new Date(nowMs)}::timestamptz
        returning api_key_id, nonce`.execute(deps.db);
      const fresh = new Set(res.rows.map((r) => keyOf(r.api_key_id, r.nonce)));
      for (const [k, p] of unique) {
        cachePut(k, expiresAt.getTime());
        p.resolve(fresh.has(k));
      }
    } catch (err) {
      for (const p of rows) p.reject(err);
    }
  }

  return {
    claim(apiKeyId, nonce) {
      const exp = cache.get(keyOf(apiKeyId, nonce));
      if (exp !== undefined && exp > deps.clock.now().getTime()) return Promise.resolve(false);
      return new Promise<boolean>((resolve, reject) => {
        pending.push({ apiKeyId, nonce, resolve, reject });
        if (pending.length >= batchSizeMax) void flush();
        else if (!scheduled) {
          scheduled = true;
          setImmediate(() => void flush());
        }
      });
    },
    async purgeExpired() {
      const now = deps.clock.now();
      for (const [k, exp] of cache) if (exp <= now.getTime()) cache.delete(k);
      const res = await deps.db.deleteFrom('auth_nonces').where('expires_at', '<=', now).executeTakeFirst();
      return Number(res.numDeletedRows);
    },
  };
}
