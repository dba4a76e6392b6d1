import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Clock } from '../lib/clock.ts';

/**
 * Replay protection. The UNLOGGED `auth_nonces` table's primary key is the source of truth, so
 * it holds across any number of server processes; an in-process cache in front answers most
 * replays without a round trip. Entries live for twice the timestamp window: a nonce can only
 * be replayed with a timestamp inside the window, and the window extends both ways.
 */
export interface NonceStore {
  /** Records the nonce; false when it was already used for this key. */
  claim(apiKeyId: string, nonce: string): Promise<boolean>;
  /** Deletes expired rows; returns how many. */
  purgeExpired(): Promise<number>;
}

export function createNonceStore(deps: { db: Kysely<DB>; clock: Clock; windowSeconds: number; cacheEntriesMax?: number }): NonceStore {
  const ttlMs = deps.windowSeconds * 2 * 1000;
  const cacheEntriesMax = deps.cacheEntriesMax ?? 100_000;
  const cache = new Map<string, number>(); // key → expiry ms (insertion order ≈ expiry order)

  function cacheHas(k: string, nowMs: number): boolean {
    const exp = cache.get(k);
    return exp !== undefined && exp > nowMs;
  }

  function cachePut(k: string, exp: number): void {
    cache.set(k, exp);
    while (cache.size > cacheEntriesMax) {
      const oldest = cache.keys().next().value;
      if (oldest === undefined) break;
      cache.delete(oldest);
    }
  }

  return {
    async claim(apiKeyId, nonce) {
      const nowMs = deps.clock.now().getTime();
      const k = `${apiKeyId}\u0000${nonce}`;
      if (cacheHas(k, nowMs)) return false;
      const expiresAt = new Date(nowMs + ttlMs);
      const res = await deps.db
        .insertInto('auth_nonces')
        .values({ api_key_id: apiKeyId, nonce, expires_at: expiresAt })
        .onConflict((oc) =>
          // An expired row may be reused; a live one is a replay.
          oc.columns(['api_key_id', 'nonce']).doUpdateSet({ expires_at: expiresAt }).where('auth_nonces.expires_at', '<=', new Date(nowMs)),
        )
        .executeTakeFirst();
      cachePut(k, expiresAt.getTime());
      return Number(res.numInsertedOrUpdatedRows ?? 0n) === 1;
    },
    async purgeExpired() {
      const now = deps.clock.now();
      for (const [k, exp] of cache) if (exp <= now.getTime()) cache.delete(k);
      const res = await deps.db.deleteFrom('auth_nonces').where('expires_at', '<=', now).executeTakeFirst();
      return Number(res.numDeletedRows);
    },
  };
}
