import type { Creditor } from '../../src/adapters/rails/formats/types.ts';
import type { FiatAsset } from '../../src/infra/lib/money.ts';

/**
 * Bank details that pass validation and every rail's file writer, one per payout currency:
 * the API body of `POST /bank-account/add` (without customerId, currency and holder name), and
 * a payee as the file writers take it.
 */
export const SAMPLE_BANKS: Record<FiatAsset, Record<string, string>> = {
  EUR: { bankName: 'Deutsche Bank', iban: 'DE89370400440532013000', swift: 'DEUTDEFF' },
  USD: { bankName: 'Chase', accountNo: '123456789', aba: '021000021' },
  GBP: { bankName: 'Barclays', accountNo: '41011166', sortCode: '200915', swift: 'BARCGB22' },
  CAD: { bankName: 'RBC', accountNo: '1234567', institutionNumber: '003', transit: '12345' },
  AUD: { bankName: 'CBA', accountNo: '12345678', bsb: '062-000' },
  SGD: { bankName: 'DBS', accountNo: '0123456789', swift: 'DBSSSGSG' },
};

/** A payee with every optional identifier empty, overridden field by field. */
export function creditor(over: Partial<Creditor> = {}): Creditor {
  return {
    name: 'Jane Doe',
    bankName: 'Bank',
    accountNo: '12345678',
    iban: null,
    bic: null,
    aba: null,
    sortCode: null,
    bsb: null,
    institutionNumber: null,
    transit: null,
    country: null,
    address: null,
    ...over,
  };
}

/** A payee each rail of the currency pays. */
export const SAMPLE_CREDITORS: Record<FiatAsset, Creditor> = {
  EUR: creditor({ iban: 'DE89370400440532013000', bic: 'DEUTDEFF' }),
  USD: creditor({ accountNo: '123456789', aba: '021000021', address: '1 Main St, New York', country: 'US' }),
  GBP: creditor({ accountNo: '41011166', sortCode: '200915', bic: 'BARCGB22' }),
  CAD: creditor({ accountNo: '1234567', institutionNumber: '003', transit: '12345' }),
  AUD: creditor({ bsb: '062-000' }),
  SGD: creditor({ accountNo: '0123456789', bic: 'DBSSSGSG' }),
};

/**
 * Names with nothing visible in them: Unicode spaces, zero-width and joiner characters, the
 * byte-order mark, the soft hyphen and the bidi controls, alone and mixed.
 */
export const BLANK_NAMES = [
  ' ',
  '   ',
  '\u00a0',
  ' \u00a0',
  '\u2003\u3000',
  '\u3000\u200b',
  '\u200b',
  '\u200c',
  '\u200d',
  '\u2060',
  '\ufeff',
  '\u00ad',
  '\u202a',
  '\u202b',
  '\u202c',
  '\u202d',
  '\u202e',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  ' \u200b\u00a0\ufeff ',
];
