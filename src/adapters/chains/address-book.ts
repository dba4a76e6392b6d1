import type { Kysely } from 'kysely';
import type { DB } from '../../infra/db/schema.ts';
import type { NetworkFamily } from './addresses.ts';
import { toScanAddress } from './registry.ts';
import { derivedAddressesAfter } from '../../domain/deposit-addresses/deposit-addresses.ts';

/**
 * The scanner's in-memory set of deposit addresses for one network family (lowercase hex →
 * customer). Matching a log is one Map lookup however many addresses exist. New addresses are
 * picked up incrementally by derivation index; because sequence values can commit out of order,
 * each refresh re-reads a window below the highest index seen, and a full reload runs now and
 * then as a backstop.
 */
const REREAD_WINDOW = 256;
const FULL_RELOAD_EVERY = 600;
export interface AddressBook {
  refresh(): Promise<number>;
  lookup(addressHex: string): string | undefined;
  readonly size: number;
}

export function createAddressBook(db: Kysely<DB>, family: NetworkFamily, opts: { pageSizeMax?: number } = {}): AddressBook {
  const map = new Map<string, string>();
  let lastIndex = -1;
  let refreshes = 0;
  const pageSizeMax = opts.pageSizeMax ?? 50_000;
  return {
    async refresh() {
      let added = 0;
      refreshes += 1;
      let from = refreshes % FULL_RELOAD_EVERY === 0 ? -1 : lastIndex - REREAD_WINDOW;
      for (;;) {
        const rows = await derivedAddressesAfter(db, family, from, pageSizeMax);
        for (const r of rows) {
          const key = toScanAddress(family, r.address);
          if (!map.has(key)) added += 1;
          map.set(key, r.customer_id);
          from = r.derivation_index;
          if (r.derivation_index > lastIndex) lastIndex = r.derivation_index;
        }
        if (rows.length < pageSizeMax) return added;
      }
    },
    lookup: (a) => map.get(a),
    get size() {
      return map.size;
    },
  };
}
