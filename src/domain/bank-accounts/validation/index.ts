/**
 * Validation and normalisation of a partner's `POST /bank-account/add` body.
 *
 * Pure module: no I/O, no clock, no randomness. `customerId` is deliberately
 * not looked at here (the caller resolves/authorises it).
 *
 * Rules (from the integration guide):
 *
 * | currency | required                                   |
 * | -------- | ------------------------------------------ |
 * | USD      | bankName, accountNo, aba OR swift          |
 * | EUR      | bankName, accountNo OR iban, swift         |
 * | GBP      | bankName, accountNo OR iban, swift         |  (sortCode optional)
 * | CAD      | bankName, accountNo, institutionNumber, transit |
 * | AUD      | bankName, accountNo, bsb                   |
 * | SGD      | bankName, accountNo, aba OR swift          |
 *
 * Every field that is present is format-checked, whether or not the currency
 * requires it. The first error found is returned: currency, then the
 * required fields in table order, then per-field formats in request-field
 * order, then cross-field consistency checks.
 *
 * Conventions: strings are trimmed and an empty string counts as missing;
 * `undefined` and `null` count as missing; any other non-string value is an
 * "invalid type" error for that field.
 *
 * One module per scheme family sits beside this one (iban-bic, us-aba, uk-sort-code with its
 * weight table as data, au-bsb, ca-transit, account-number); this one holds the order of the
 * checks and the per-currency requirements.
 */
import { isSEPACountry, electronicFormatIBAN } from 'ibantools';
import { checkAccountNo } from './account-number.ts';
import { isInstitutionNumber, isTransitNumber } from './ca-transit.ts';
import { checkText, type Field, Fail, FIELDS, fail, MAX_ADDRESS, MAX_TEXT, readSlot, type Slot, stripSeparators } from './fields.ts';
import { bicProblem, countriesCompatible, GB_IBAN_COUNTRIES, ibanProblem, normalizeBic } from './iban-bic.ts';
import { abaProblem } from './us-aba.ts';
import { normalizeBsb } from './au-bsb.ts';
import { checkUkPair, normalizeSortCode } from './uk-sort-code.ts';
import {
  FIAT_CURRENCIES,
  type BankAccountInput,
  type BankAccountValidation,
  type FiatCurrency,
  type NormalizedBankAccount,
} from './types.ts';

export { FIAT_CURRENCIES } from './types.ts';
export type { BankAccountInput, BankAccountValidation, FiatCurrency, NormalizedBankAccount } from './types.ts';
export { isValidBic, isValidIban } from './iban-bic.ts';
export { isValidAbaRouting } from './us-aba.ts';
export { checkUkModulus, normalizeSortCode } from './uk-sort-code.ts';
export { normalizeBsb } from './au-bsb.ts';

// ---------------------------------------------------------------------------
// Per-currency requirements
// ---------------------------------------------------------------------------

/** Each entry is one requirement: a single field, or "one of" alternatives. */
const REQUIRED: Record<FiatCurrency, readonly (readonly Field[])[]> = {
  USD: [['bankName'], ['accountNo'], ['aba', 'swift']],
  EUR: [['bankName'], ['accountNo', 'iban'], ['swift']],
  GBP: [['bankName'], ['accountNo', 'iban'], ['swift']],
  CAD: [['bankName'], ['accountNo'], ['institutionNumber'], ['transit']],
  AUD: [['bankName'], ['accountNo'], ['bsb']],
  SGD: [['bankName'], ['accountNo'], ['aba', 'swift']],
};

function isFiatCurrency(s: string): s is FiatCurrency {
  return (FIAT_CURRENCIES as readonly string[]).includes(s);
}

// ---------------------------------------------------------------------------
// Main entry point
// ---------------------------------------------------------------------------

export function validateBankAccountInput(input: BankAccountInput): BankAccountValidation {
  try {
    return { ok: true, value: validateOrThrow(input) };
  } catch (e) {
    if (e instanceof Fail) return { ok: false, field: e.field, message: e.message };
    throw e;
  }
}

function validateOrThrow(input: BankAccountInput): NormalizedBankAccount {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    fail('body', 'must be a JSON object');
  }

  const slots = {} as Record<Field, Slot>;
  for (const f of FIELDS) slots[f] = readSlot(input, f);

  const typeError = (f: Field): never => {
    const s = slots[f];
    return fail(f, `must be a string (got ${s.kind === 'badType' ? s.type : 'nothing'})`);
  };
  /** The trimmed value, null when missing; throws on a non-string. */
  const get = (f: Field): string | null => {
    const s = slots[f];
    if (s.kind === 'badType') typeError(f);
    return s.kind === 'value' ? s.value : null;
  };

  /** The field as `normalize` writes it, null when missing; fails with `problem`'s reason. */
  const checked = (f: Field, normalize: (s: string) => string, problem: (s: string) => string | null): string | null => {
    const v = get(f);
    if (v === null) return null;
    const normal = normalize(v);
    const p = problem(normal);
    if (p !== null) fail(f, p);
    return normal;
  };

  // 1. Currency.
  const currencyRaw = get('currency');
  if (currencyRaw === null) fail('currency', 'required');
  const currencyUpper = currencyRaw.toUpperCase();
  if (!isFiatCurrency(currencyUpper)) {
    fail('currency', `unsupported currency "${currencyRaw}" (expected one of ${FIAT_CURRENCIES.join(', ')})`);
  }
  const currency: FiatCurrency = currencyUpper;

  // 2. Required fields, in table order.
  for (const alternatives of REQUIRED[currency]) {
    for (const f of alternatives) if (slots[f].kind === 'badType') typeError(f);
    if (alternatives.some((f) => slots[f].kind === 'value')) continue;
    const [only, ...others] = alternatives;
    if (only === undefined) continue;
    if (others.length === 0) fail(only, `required for ${currency}`);
    throw new Fail(only, `${alternatives.join(' or ')}: one is required for ${currency}`);
  }

  // 3. Per-field formats, in request-field order.
  const bankNameIn = get('bankName');
  const bankName = bankNameIn === null ? null : checkText('bankName', bankNameIn, MAX_TEXT);

  const accountNoIn = get('accountNo');
  let accountNo: string | null = null;
  if (accountNoIn !== null) accountNo = checkAccountNo(currency, accountNoIn, slots.sortCode.kind === 'value');

  const accountNameIn = get('accountName');
  const beneficiaryNameIn = get('beneficiaryName');
  if (accountNameIn !== null && beneficiaryNameIn !== null && accountNameIn !== beneficiaryNameIn) {
    fail('beneficiaryName', 'conflicts with accountName (beneficiaryName is an alias of accountName; send one, or the same value)');
  }
  const accountNameField: Field = accountNameIn !== null ? 'accountName' : 'beneficiaryName';
  const accountNameRaw = accountNameIn ?? beneficiaryNameIn;
  const accountName = accountNameRaw === null ? null : checkText(accountNameField, accountNameRaw, MAX_TEXT);

  const swift = checked('swift', normalizeBic, bicProblem);

  const iban = checked('iban', (s) => electronicFormatIBAN(s) ?? '', ibanProblem);
  if (iban !== null) {
    const country = iban.slice(0, 2);
    if (currency === 'EUR' && !isSEPACountry(country)) {
      fail('iban', `country ${country} is not a SEPA country; EUR payouts need a SEPA IBAN`);
    }
    if (currency === 'GBP' && !GB_IBAN_COUNTRIES.has(country)) {
      fail('iban', `GBP payouts need a GB IBAN (got a ${country} IBAN)`);
    }
  }

  const aba = checked('aba', stripSeparators, abaProblem);

  const sortCodeIn = get('sortCode');
  let sortCode: string | null = null;
  if (sortCodeIn !== null) {
    sortCode = normalizeSortCode(sortCodeIn);
    if (sortCode === null) fail('sortCode', 'must be 6 digits (123456, 12-34-56 or 12 34 56)');
  }

  const bsbIn = get('bsb');
  let bsb: string | null = null;
  if (bsbIn !== null) {
    bsb = normalizeBsb(bsbIn);
    if (bsb === null) fail('bsb', 'BSB must be 6 digits (123456 or 123-456)');
  }

  const institutionNumber = get('institutionNumber');
  if (institutionNumber !== null && !isInstitutionNumber(institutionNumber)) {
    fail('institutionNumber', 'Canadian institution number must be exactly 3 digits');
  }
  const transit = get('transit');
  if (transit !== null && !isTransitNumber(transit)) {
    fail('transit', 'Canadian transit (branch) number must be exactly 5 digits');
  }

  const text = (f: Field, max: number, allowNewlines = false): string | null => {
    const v = get(f);
    return v === null ? null : checkText(f, v, max, allowNewlines);
  };
  const bankCountry = text('bankCountry', MAX_TEXT);
  const bankAddress = text('bankAddress', MAX_ADDRESS, true);
  const beneficiaryAddress = text('beneficiaryAddress', MAX_ADDRESS, true);
  const label = text('label', MAX_TEXT);
  const interBankName = text('interBankName', MAX_TEXT);

  const interBankBic = checked('interBankBic', normalizeBic, bicProblem);
  const interBankAccountNo = text('interBankAccountNo', MAX_TEXT);

  // 4. Cross-field consistency.
  if (iban !== null && swift !== null) {
    const ibanCountry = iban.slice(0, 2);
    const bicCountry = swift.slice(4, 6);
    if (!countriesCompatible(ibanCountry, bicCountry)) {
      fail('swift', `BIC country ${bicCountry} does not match IBAN country ${ibanCountry}`);
    }
  }

  if (currency === 'GBP') checkUkPair(iban, sortCode, accountNo);

  if (accountNo === null) accountNo = iban; // derived: IBAN in electronic form
  if (bankName === null || accountNo === null) {
    // Unreachable: the required-field pass guarantees both.
    throw new Error('bank-account validation: required field unexpectedly missing');
  }

  return {
    currency,
    bankName,
    accountNo,
    accountName,
    swift,
    iban,
    aba,
    sortCode,
    bsb,
    institutionNumber,
    transit,
    bankCountry,
    bankAddress,
    beneficiaryAddress,
    label,
    interBankName,
    interBankBic,
    interBankAccountNo,
  };
}
