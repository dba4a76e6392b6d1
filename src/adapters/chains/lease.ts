import { sql, type Kysely } from 'kysely';
import type { DB } from '../../infra/db/schema.ts';
import { NETWORKS, type Network } from './networks.ts';
import type { ScannerLease } from './scanner.ts';

/**
 * One active scanner per network across processes: a session-level Postgres advisory lock held
 * on a dedicated pooled connection for as long as the scanner runs. If that process dies, its
 * connection closes and the lock passes to the next process that asks. (PGlite is one process,
 * so it needs no lease.)
 */
const LOCK_BASE = 0x4f520000; // "OR" + network index

/** `keyBase` separates deployments sharing one Postgres database (and tests from servers). */
export function createAdvisoryLease(db: Kysely<DB>, keyBase: number = LOCK_BASE): ScannerLease {
  const releases = new Map<Network, () => void>();
  return {
    tryAcquire(network) {
      if (releases.has(network)) return Promise.resolve(true);
      const key = keyBase + NETWORKS.indexOf(network);
      return new Promise<boolean>((resolve) => {
        db.connection()
          .execute(async (conn) => {
            const r = await sql<{ ok: boolean }>`select pg_try_advisory_lock(${key}) as ok`.execute(conn);
            if (!r.rows[0]?.ok) return resolve(false);
            await new Promise<void>((release) => {
              releases.set(network, release);
              resolve(true);
            });
            await sql`select pg_advisory_unlock(${key})`.execute(conn);
          })
          .catch(() => resolve(false));
      });
    },
    async release(network) {
      releases.get(network)?.();
      releases.delete(network);
    },
  };
}
