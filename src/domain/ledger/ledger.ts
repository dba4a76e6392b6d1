import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../../infra/db/schema.ts';
import type { Clock } from '../../infra/lib/clock.ts';
import type { IdGenerator } from '../../infra/lib/ids.ts';
import { AppError } from '../../infra/lib/errors.ts';
import {
  isAsset,
  minor,
  minorFromDb,
  ROUNDING_SCALE,
  roundingAsset,
  type Asset,
  type CryptoAsset,
  type FiatAsset,
  type LedgerAsset,
  type Minor,
  type RoundingAsset,
  type Unbranded,
} from '../../infra/lib/money.ts';

export { ROUNDING_SCALE, roundingAsset };

/**
 * Double-entry ledger (docs/money-and-ledger.md). Every money movement is one journal, balanced per asset,
 * posted in the same transaction as the state change that causes it. Amounts are signed bigint
 * minor units: a debit is positive, a credit negative, so an account's balance is the sum of
 * its entries. Journals are unique per (kind, refId): posting twice is a no-op, which makes
 * every step that books money safe to retry.
 *
 * A line's amount is branded with the line's asset (`Minor<A>`), so a EUR amount cannot be booked
 * on a USD line; rounding lines are in the fine sub-unit of their fiat asset (see `RoundingAsset`).
 * `Unbranded` amounts are accepted until the payout module is threaded (see money.ts).
 */
export type Entry = { [A in Asset]: { account: string; asset: A; amount: Minor<A> | Unbranded } }[Asset] | RoundingEntry;

/** A rounding remainder, in 10^-ROUNDING_SCALE units of the fiat asset (not its minor unit). */
export interface RoundingEntry {
  account: string;
  asset: RoundingAsset;
  amount: Unbranded;
}

/** One journal line; `A` is inferred from `asset`, so `amount` must be a `Minor` of that asset. */
export function entry<A extends Asset>(account: string, asset: A, amount: Minor<NoInfer<A>>): Entry {
  // TypeScript cannot match a generic A against the per-asset union; the signature is the check.
  return { account, asset, amount } as Entry;
}

export interface JournalInput {
  kind: string;
  refId: string;
  memo: string;
  entries: readonly Entry[];
}

/** Account names. Customer accounts carry the partner so partner balances are one prefix scan. */
export const ACCOUNTS = {
  cryptoCustody: (network: string) => `asset:crypto_custody:${network}`,
  customerCrypto: (partnerId: string, customerId: string) => `liability:customer_crypto:${partnerId}:${customerId}`,
  unallocatedDeposits: (partnerId: string) => `liability:unallocated_deposits:${partnerId}`,
  houseCrypto: () => 'equity:house_crypto',
  fxPosition: () => 'equity:fx_position',
  feeRevenue: (partnerId: string) => `revenue:fees:${partnerId}`,
  partnerFees: (partnerId: string) => `liability:partner_fees:${partnerId}`,
  rounding: () => 'revenue:rounding',
  customerFiat: (partnerId: string, customerId: string) => `liability:customer_fiat:${partnerId}:${customerId}`,
  payoutsInTransit: () => 'liability:payouts_in_transit',
  bank: () => 'asset:bank',
  treasuryFunding: () => 'equity:treasury_funding',
} as const;

/** A journal balances per asset: the lines of each asset sum to zero. */
export function assertBalanced(entries: readonly Entry[]): void {
  const sums = new Map<LedgerAsset, bigint>();
  for (const e of entries) {
    if (e.amount === 0n) throw new AppError('INTERNAL', `ledger: zero entry on ${e.account}`);
    sums.set(e.asset, (sums.get(e.asset) ?? 0n) + e.amount);
  }
  for (const [asset, sum] of sums)
    if (sum !== 0n) throw new AppError('INTERNAL', `ledger: journal does not balance in ${asset} (off by ${sum})`);
}

export interface ReconciliationReport {
  ok: boolean;
  checks: { name: string; ok: boolean; expected: string; actual: string; asset?: string }[];
  unbalancedJournals: string[];
}

export interface Ledger {
  post(tx: Transaction<DB>, j: JournalInput): Promise<string>;
  balance<A extends Asset>(account: string, asset: A, db?: Kysely<DB>): Promise<Minor<A>>;
  /** Unbranded, for callers that hold the asset as a plain string (transitional, see `Unbranded`). */
  balance(account: string, asset: string, db?: Kysely<DB>): Promise<bigint>;
  /** Sum of all accounts starting with `prefix`, per asset (read `balanceIn` for a branded value). */
  balancesByPrefix(prefix: string): Promise<Map<LedgerAsset, bigint>>;
  journalsFor(refId: string): Promise<{ kind: string; entries: Entry[] }[]>;
  reconcile(): Promise<ReconciliationReport>;
}

export function createLedger(deps: { db: Kysely<DB>; ids: IdGenerator; clock: Clock }): Ledger {
  const { db } = deps;

  async function sumWhere(where: ReturnType<typeof sql>): Promise<Map<LedgerAsset, bigint>> {
    const rows = await sql<{
      asset: LedgerAsset;
      total: string;
    }>`select asset, sum(amount)::text as total from ledger_entries where ${where} group by asset`.execute(db);
    return new Map(rows.rows.map((r) => [r.asset, BigInt(r.total)]));
  }

  function balance<A extends Asset>(account: string, asset: A, q?: Kysely<DB>): Promise<Minor<A>>;
  function balance(account: string, asset: string, q?: Kysely<DB>): Promise<bigint>;
  async function balance(account: string, asset: string, q: Kysely<DB> = db): Promise<bigint> {
    const r = await sql<{
      total: string | null;
    }>`select sum(amount)::text as total from ledger_entries where account = ${account} and asset = ${asset}`.execute(q);
    return BigInt(r.rows[0]?.total ?? '0');
  }

  return {
    async post(tx, j) {
      assertBalanced(j.entries);
      const existing = await tx
        .selectFrom('ledger_journals')
        .select('id')
        .where('kind', '=', j.kind)
        .where('ref_id', '=', j.refId)
        .executeTakeFirst();
      if (existing) return existing.id;
      const id = deps.ids.next('journal');
      const now = deps.clock.now();
      await tx.insertInto('ledger_journals').values({ id, kind: j.kind, ref_id: j.refId, memo: j.memo, created_at: now }).execute();
      await tx
        .insertInto('ledger_entries')
        .values(
          j.entries.map((e) => ({ journal_id: id, account: e.account, asset: e.asset, amount: e.amount.toString(), created_at: now })),
        )
        .execute();
      return id;
    },

    balance,

    balancesByPrefix: (prefix) => sumWhere(sql`account like ${`${prefix.replace(/[\\%_]/g, (m) => `\\${m}`)}%`}`),

    async journalsFor(refId) {
      const journals = await db
        .selectFrom('ledger_journals')
        .select(['id', 'kind'])
        .where('ref_id', '=', refId)
        .orderBy('created_at')
        .execute();
      const out = [];
      for (const jn of journals) {
        const entries = await db
          .selectFrom('ledger_entries')
          .select(['account', 'asset', 'amount'])
          .where('journal_id', '=', jn.id)
          .orderBy('id')
          .execute();
        out.push({ kind: jn.kind, entries: entries.map(entryFromRow) });
      }
      return out;
    },

    async reconcile() {
      const checks: ReconciliationReport['checks'] = [];
      const unbalanced = await sql<{ journal_id: string }>`
        select journal_id from ledger_entries group by journal_id, asset having sum(amount) <> 0`.execute(db);

      // Customer crypto liabilities = confirmed (credited) deposits − crypto of settled trades.
      const liabilities = await sumWhere(sql`account like 'liability:customer_crypto:%'`);
      const credited = await sql<{ currency: CryptoAsset; total: string }>`
        select currency, sum(amount)::text as total from deposits
        where status = 'CONFIRMED' group by currency`.execute(db);
      const traded = await sql<{ currency: CryptoAsset; total: string }>`
        select from_currency as currency, sum(from_amount)::text as total from trades
        where status = 'SETTLED' group by from_currency`.execute(db);
      const assets = new Set([...liabilities.keys(), ...credited.rows.map((r) => r.currency), ...traded.rows.map((r) => r.currency)]);
      for (const asset of assets) {
        const expected =
          BigInt(credited.rows.find((r) => r.currency === asset)?.total ?? '0') -
          BigInt(traded.rows.find((r) => r.currency === asset)?.total ?? '0');
        const actual = -(liabilities.get(asset) ?? 0n); // liabilities carry credit (negative) balances
        checks.push({
          name: 'customer crypto liabilities = confirmed deposits − settled trades',
          asset,
          ok: expected === actual,
          expected: expected.toString(),
          actual: actual.toString(),
        });
      }

      // Fiat owed to customers (payable + in transit) = settled trades − settled payouts.
      const payables = await sumWhere(sql`account like 'liability:customer_fiat:%' or account = 'liability:payouts_in_transit'`);
      const tradedFiat = await sql<{ currency: FiatAsset; total: string }>`
        select to_currency as currency, sum(to_amount)::text as total from trades where status = 'SETTLED' group by to_currency`.execute(
        db,
      );
      const paidOut = await paidOutByCurrency(db);
      const fiatAssets = new Set([...[...payables.keys()].filter((a) => !a.includes(':')), ...tradedFiat.rows.map((r) => r.currency)]);
      for (const asset of fiatAssets) {
        const expected = BigInt(tradedFiat.rows.find((r) => r.currency === asset)?.total ?? '0') - (paidOut.get(asset) ?? 0n);
        const actual = -(payables.get(asset) ?? 0n);
        checks.push({
          name: 'fiat payables = settled trades − settled payouts',
          asset,
          ok: expected === actual,
          expected: expected.toString(),
          actual: actual.toString(),
        });
      }
      const ok = unbalanced.rows.length === 0 && checks.every((c) => c.ok);
      return { ok, checks, unbalancedJournals: unbalanced.rows.map((r) => r.journal_id) };
    },
  };
}

/** A stored line back as an `Entry`: the amount branded with the line's own asset. */
function entryFromRow(e: { account: string; asset: LedgerAsset; amount: string }): Entry {
  if (isAsset(e.asset)) return entry(e.account, e.asset, minorFromDb(e.asset, e.amount));
  return { account: e.account, asset: e.asset, amount: BigInt(e.amount) };
}

/** A per-asset map from `balancesByPrefix` read as a branded amount (0 when the asset is absent). */
export function balanceIn<A extends Asset>(balances: ReadonlyMap<LedgerAsset, bigint>, asset: A): Minor<A> {
  return minor(asset, balances.get(asset) ?? 0n);
}

/** Settled payouts per currency (a payout returned after settling is owed again, so it is not counted). */
async function paidOutByCurrency(db: Kysely<DB>): Promise<Map<string, bigint>> {
  const rows = await sql<{
    currency: string;
    total: string;
  }>`select currency, sum(amount)::text as total from payouts where status = 'SETTLED' group by currency`.execute(db);
  return new Map(rows.rows.map((r) => [r.currency, BigInt(r.total)]));
}
