import type { Kysely } from 'kysely';
import type { DB } from '../../infra/db/schema.ts';
import type { IdGenerator } from '../../infra/lib/ids.ts';
import { AppError, type ErrorCode } from '../../infra/lib/errors.ts';
import { ASSET_SCALE, amountRefusal, formatDecimal, type FiatAsset } from '../../infra/lib/money.ts';
import type { Debtor } from '../../adapters/rails/formats/types.ts';
import { ACCOUNTS, type Ledger } from '../ledger/ledger.ts';

/**
 * The treasury payouts are paid from: the bank balance the ledger holds, minus what is already
 * in transit. A payout that would overdraw it waits (INSUFFICIENT_TREASURY_FUNDS) rather than
 * fails, and goes out once the treasury is funded.
 */
export const INSUFFICIENT_TREASURY_FUNDS = 'INSUFFICIENT_TREASURY_FUNDS' satisfies ErrorCode;

/** The treasury accounts payouts are sent from. Sandbox defaults; production sets its own. */
export const SANDBOX_DEBTORS: Record<FiatAsset, Debtor> = (() => {
  const base: Debtor = {
    name: 'OpenRamp Payouts Ltd',
    iban: null,
    bic: null,
    accountNo: '532013000',
    achImmediateOrigin: '1234567890',
    achCompanyId: '1234567890',
    achOdfiRouting: '021000021',
    achImmediateDestinationName: 'JPMorgan Chase',
    cpaOriginatorId: '0123456789',
    cpaDestinationDataCentre: '00310',
    cpaInstitution: '001',
    cpaTransit: '12345',
    abaUserName: 'OpenRamp Pty Ltd',
    abaApcaNumber: '301500',
    abaBsb: '062-000',
    abaFinancialInstitution: 'CBA',
  };
  return {
    EUR: { ...base, iban: 'DE89370400440532013000', bic: 'COBADEFFXXX' },
    GBP: { ...base, iban: 'GB29NWBK60161331926819', bic: 'NWBKGB2L' },
    SGD: { ...base, bic: 'DBSSSGSGXXX', accountNo: '0720123456' },
    USD: { ...base, iban: 'DE89370400440532013000', bic: 'CHASUS33XXX' },
    CAD: base,
    AUD: base,
  };
})();

export interface TreasuryLine {
  currency: string;
  bank: string;
  inTransit: string;
  available: string;
  waiting: number;
}

export interface Treasury {
  /** What can still be sent in `currency` (inside the caller's transaction when given). */
  available(q: Kysely<DB>, currency: string): Promise<bigint>;
  fund(currency: FiatAsset, amountMinor: bigint, reference?: string): Promise<{ journalId: string; balance: bigint }>;
  summary(): Promise<TreasuryLine[]>;
}

export function createTreasury(deps: { db: Kysely<DB>; ids: IdGenerator; ledger: Ledger }): Treasury {
  const { db, ids, ledger } = deps;
  return {
    async available(q, currency) {
      const bank = await ledger.balance(ACCOUNTS.bank(), currency, q);
      const inTransit = -(await ledger.balance(ACCOUNTS.payoutsInTransit(), currency, q));
      return bank - inTransit;
    },

    async fund(currency, amountMinor, reference) {
      const refusal = amountRefusal(currency, amountMinor);
      if (refusal !== null) throw new AppError('INVALID_PARAMETERS', `amount: ${refusal}`);
      const ref = reference ?? ids.next('treasuryFunding');
      const journalId = await db.transaction().execute((tx) =>
        ledger.post(tx, {
          kind: 'treasury.funded',
          refId: ref,
          memo: `treasury funded ${currency}`,
          entries: [
            { account: ACCOUNTS.bank(), asset: currency, amount: amountMinor },
            { account: ACCOUNTS.treasuryFunding(), asset: currency, amount: -amountMinor },
          ],
        }),
      );
      return { journalId, balance: await ledger.balance(ACCOUNTS.bank(), currency) };
    },

    async summary() {
      const out: TreasuryLine[] = [];
      for (const currency of ['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'SGD'] as const) {
        const bank = await ledger.balance(ACCOUNTS.bank(), currency);
        const inTransit = -(await ledger.balance(ACCOUNTS.payoutsInTransit(), currency));
        const waiting = await db
          .selectFrom('payouts')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('currency', '=', currency)
          .where('wait_reason', '=', INSUFFICIENT_TREASURY_FUNDS)
          .where('status', '=', 'PENDING')
          .executeTakeFirstOrThrow();
        const s = ASSET_SCALE[currency];
        out.push({
          currency,
          bank: formatDecimal(bank, s),
          inTransit: formatDecimal(inTransit, s),
          available: formatDecimal(bank - inTransit, s),
          waiting: Number(waiting.n), // not money: a count of payouts
        });
      }
      return out;
    },
  };
}
