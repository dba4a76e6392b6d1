/**
 * IBAN (ISO 13616: country format, length, mod-97 and national check digits, through ibantools)
 * and BIC/SWIFT (ISO 9362), and which countries may legitimately pair in one IBAN + BIC.
 */
import { countrySpecs, electronicFormatIBAN, isValidBIC as ibantoolsIsValidBIC, validateIBAN, ValidationErrorsIBAN } from 'ibantools';

// ---------------------------------------------------------------------------
// IBAN
// ---------------------------------------------------------------------------

/** Why an (electronic-format) IBAN is invalid, or null if it is valid. */
export function ibanProblem(iban: string): string | null {
  if (!/^[A-Z0-9]+$/.test(iban)) return 'must contain only letters and digits';
  if (iban.length > 34) return `must be at most 34 characters (got ${iban.length})`;
  if (iban.length < 5 || !/^[A-Z]{2}/.test(iban)) return 'must start with a 2-letter country code';
  const country = iban.slice(0, 2);
  const result = validateIBAN(iban);
  if (result.valid) return null;
  const codes = result.errorCodes;
  if (codes.includes(ValidationErrorsIBAN.NoIBANCountry)) {
    return countrySpecs[country] === undefined ? `unknown country code "${country}"` : `country ${country} does not use IBANs`;
  }
  if (codes.includes(ValidationErrorsIBAN.WrongBBANLength)) {
    const expected = countrySpecs[country]?.chars;
    return `wrong length for a ${country} IBAN (expected ${expected ?? '?'} characters, got ${iban.length})`;
  }
  if (codes.includes(ValidationErrorsIBAN.ChecksumNotNumber)) return 'check digits (characters 3-4) must be numeric';
  if (codes.includes(ValidationErrorsIBAN.WrongBBANFormat)) return `invalid account (BBAN) format for a ${country} IBAN`;
  if (codes.includes(ValidationErrorsIBAN.WrongIBANChecksum)) return 'invalid IBAN checksum (mod-97)';
  if (codes.includes(ValidationErrorsIBAN.WrongAccountBankBranchChecksum)) {
    return `invalid national bank/branch/account check digits for a ${country} IBAN`;
  }
  return 'invalid IBAN';
}

/** Normalise (strip spaces/hyphens, uppercase) and fully validate an IBAN. */
export function isValidIban(s: string): boolean {
  if (typeof s !== 'string') return false;
  const iban = electronicFormatIBAN(s.trim());
  return iban !== null && iban !== '' && ibanProblem(iban) === null;
}

/** True when `s` has exactly the shape (country + length) of an IBAN. */
export function looksLikeIban(s: string): boolean {
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]+$/.test(s)) return false;
  const chars = countrySpecs[s.slice(0, 2)]?.chars;
  return chars !== undefined && chars === s.length;
}

/**
 * Why an account number sent beside an IBAN contradicts it, or null. The account number has
 * already passed its currency's format check; it is kept as the partner's reference and the
 * IBAN is what is paid, so a different local number is not refused (the contract's own example
 * pairs the IBAN DE89 3704 0044 0532 0130 00 with the number 1234567890). What is refused is a
 * second IBAN: two payable accounts on one record. See docs/api-contract.md, "Input rules".
 */
export function accountNoIbanConflict(accountNo: string, iban: string): string | null {
  if (looksLikeIban(accountNo) && accountNo !== iban)
    return `is the IBAN ${accountNo}, but iban is ${iban}: send one account (leave accountNo out, or send the same IBAN)`;
  return null;
}

export const GB_IBAN_COUNTRIES = new Set(['GB', 'GG', 'JE', 'IM']);

// ---------------------------------------------------------------------------
// BIC / SWIFT
// ---------------------------------------------------------------------------

const BIC_RE = /^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/;

export function normalizeBic(s: string): string {
  return s.replace(/\s/g, '').toUpperCase();
}

export function bicProblem(bic: string): string | null {
  if (bic.length !== 8 && bic.length !== 11) return `must be 8 or 11 characters (got ${bic.length})`;
  if (!BIC_RE.test(bic)) {
    return 'invalid BIC format (expected 4-letter bank code, 2-letter country code, 2-character location, optional 3-character branch)';
  }
  if (!ibantoolsIsValidBIC(bic)) return `unknown country code "${bic.slice(4, 6)}" in BIC`;
  return null;
}

/** BIC/SWIFT: 8 or 11 chars, ISO 3166 alpha-2 country; case and spaces ignored. */
export function isValidBic(s: string): boolean {
  if (typeof s !== 'string') return false;
  return bicProblem(normalizeBic(s.trim())) === null;
}

/**
 * Countries that legitimately pair with each other in an IBAN/BIC combination:
 * the Crown Dependencies use GB IBANs; the French overseas departments and
 * collectivities use FR IBANs; Åland uses FI IBANs.
 */
const COUNTRY_GROUPS: readonly (readonly string[])[] = [
  ['GB', 'GG', 'JE', 'IM'],
  ['FR', 'GF', 'GP', 'MQ', 'RE', 'YT', 'PM', 'BL', 'MF', 'NC', 'PF', 'WF', 'TF'],
  ['FI', 'AX'],
];

export function countriesCompatible(a: string, b: string): boolean {
  if (a === b) return true;
  return COUNTRY_GROUPS.some((g) => g.includes(a) && g.includes(b));
}
