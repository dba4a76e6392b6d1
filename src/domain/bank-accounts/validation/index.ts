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
 * | EUR      | bankName, iban, swift                      |  (an IBAN sent as accountNo counts)
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
 * Conventions: strings are trimmed (whitespace and invisible characters at
 * both ends) and an empty or blank string counts as missing, except that a
 * blank name is refused; `undefined` and `null` count as missing; any other
 * non-string value is an "invalid type" error for that field. Names (bankName,
 * accountName / beneficiaryName, interBankName) follow the shared name rules
 * (src/infra/lib/text.ts); bankCountry is an ISO 3166-1 alpha-2 code.
 *
 * EUR and GBP are the IBAN currencies: an IBAN sent as accountNo is taken as
 * the IBAN; an accountNo sent beside an IBAN must pass the currency's
 * account-number format and must not be a different IBAN (it is kept as given;
 * the IBAN is what is paid).
 *
 * One module per scheme family sits beside this one (iban-bic, us-aba, uk-sort-code with its
 * weight table as data, au-bsb, ca-transit, account-number); this one holds the order of the
 * checks and the per-currency requirements.
 */
import { isSEPACountry, electronicFormatIBAN } from 'ibantools';
import { checkAccountNo } from './account-number.ts';
import { isInstitutionNumber, isTransitNumber } from './ca-transit.ts';
import { normalizeCountryCode } from '../../../infra/lib/countries.ts';
import { quoteForMessage } from '../../../infra/lib/text.ts';
import {
  checkNameField,
  checkText,
  type Field,
  Fail,
  FIELDS,
  fail,
  MAX_ADDRESS,
  MAX_TEXT,
  readSlot,
  type Slot,
  stripSeparators,
} from './fields.ts';
import {
  accountNoIbanConflict,
  bicProblem,
  countriesCompatible,
  GB_IBAN_COUNTRIES,
  ibanProblem,
  looksLikeIban,
  normalizeBic,
} from './iban-bic.ts';
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
  // SEPA, EUR's only rail, addresses accounts by IBAN alone.
  EUR: [['bankName'], ['iban'], ['swift']],
  GBP: [['bankName'], ['accountNo', 'iban'], ['swift']],
  CAD: [['bankName'], ['accountNo'], ['institutionNumber'], ['transit']],
  AUD: [['bankName'], ['accountNo'], ['bsb']],
  SGD: [['bankName'], ['accountNo'], ['aba', 'swift']],
};

/** The currencies whose accounts are named by an IBAN (SEPA, and UK accounts as GB IBANs). */
const IBAN_CURRENCIES: ReadonlySet<FiatCurrency> = new Set(['EUR', 'GBP']);

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

  /** An IBAN-shaped accountNo (checked as an IBAN in step 3) stands for the IBAN of an IBAN currency. */
  const accountNoSlot = slots.accountNo;
  const ibanAsAccountNo =
    IBAN_CURRENCIES.has(currency) &&
    slots.iban.kind !== 'value' &&
    accountNoSlot.kind === 'value' &&
    looksLikeIban(stripSeparators(accountNoSlot.value).toUpperCase());

  // 2. Required fields, in table order.
  for (const alternatives of REQUIRED[currency]) {
    for (const f of alternatives) if (slots[f].kind === 'badType') typeError(f);
    if (alternatives.some((f) => slots[f].kind === 'value')) continue;
    if (currency === 'EUR' && alternatives.includes('iban')) {
      if (ibanAsAccountNo) continue;
      if (slots.accountNo.kind === 'badType') typeError('accountNo');
      const given = accountNoSlot.kind === 'value' ? `; accountNo ${quoteForMessage(accountNoSlot.value)} is not an IBAN` : '';
      fail('iban', `required for EUR accounts (SEPA)${given}`);
    }
    const [only, ...others] = alternatives;
    if (only === undefined) continue;
    if (others.length === 0) fail(only, `required for ${currency}`);
    throw new Fail(only, `${alternatives.join(' or ')}: one is required for ${currency}`);
  }

  // 3. Per-field formats, in request-field order.
  const name = (f: Field): string | null => {
    if (slots[f].kind === 'badType') typeError(f);
    return checkNameField(f, slots[f], MAX_TEXT);
  };
  const bankName = name('bankName');

  const accountNoIn = get('accountNo');
  let accountNo: string | null = null;
  if (accountNoIn !== null) accountNo = checkAccountNo(currency, accountNoIn, slots.sortCode.kind === 'value');

  const accountNameIn = name('accountName');
  const beneficiaryNameIn = name('beneficiaryName');
  if (accountNameIn !== null && beneficiaryNameIn !== null && accountNameIn !== beneficiaryNameIn) {
    fail('beneficiaryName', 'conflicts with accountName (beneficiaryName is an alias of accountName; send one, or the same value)');
  }
  const accountName = accountNameIn ?? beneficiaryNameIn;

  const swift = checked('swift', normalizeBic, bicProblem);

  let iban = checked('iban', (s) => electronicFormatIBAN(s) ?? '', ibanProblem);
  // The field the IBAN came in, for messages about it.
  let ibanField: Field = 'iban';
  if (iban === null && ibanAsAccountNo && accountNo !== null) {
    iban = accountNo; // already checked as an IBAN by checkAccountNo
    ibanField = 'accountNo';
  }
  if (iban !== null) {
    const country = iban.slice(0, 2);
    if (currency === 'EUR' && !isSEPACountry(country)) {
      fail(ibanField, `country ${country} is not a SEPA country; EUR payouts need a SEPA IBAN`);
    }
    if (currency === 'GBP' && !GB_IBAN_COUNTRIES.has(country)) {
      fail(ibanField, `GBP payouts need a GB IBAN (got a ${country} IBAN)`);
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
  const bankCountryIn = get('bankCountry');
  const bankCountry = bankCountryIn === null ? null : normalizeCountryCode(bankCountryIn);
  if (bankCountryIn !== null && bankCountry === null) {
    fail('bankCountry', `unknown ISO 3166-1 alpha-2 country code ${quoteForMessage(bankCountryIn)}`);
  }
  const bankAddress = text('bankAddress', MAX_ADDRESS, true);
  const beneficiaryAddress = text('beneficiaryAddress', MAX_ADDRESS, true);
  const label = text('label', MAX_TEXT);
  const interBankName = name('interBankName');

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

  // The payment file uses the IBAN; a second IBAN in accountNo would be a second account.
  if (IBAN_CURRENCIES.has(currency) && ibanField === 'iban' && iban !== null && accountNo !== null) {
    const conflict = accountNoIbanConflict(accountNo, iban);
    if (conflict !== null) fail('accountNo', conflict);
  }

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
