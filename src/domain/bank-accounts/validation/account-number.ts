/**
 * Account number formats per currency: digit counts of the domestic schemes (US ACH, SG FAST,
 * Canadian EFT, Australian BECS, UK with a sort code), and for EUR and GBP without a sort code a
 * local account number or an IBAN.
 */
import { fail, stripSeparators } from './fields.ts';
import { ibanProblem, looksLikeIban } from './iban-bic.ts';
import type { FiatCurrency } from './types.ts';

/** Currency-specific account number format; returns the normalised value. */
export function checkAccountNo(currency: FiatCurrency, raw: string, hasSortCode: boolean): string {
  const compact = stripSeparators(raw);
  const digits = (min: number, max: number, what: string): string => {
    if (!/^[0-9]+$/.test(compact) || compact.length < min || compact.length > max) {
      fail('accountNo', `${what} account numbers must be ${min}-${max} digits`);
    }
    return compact;
  };
  switch (currency) {
    case 'USD':
      return digits(4, 17, 'US (ACH)');
    case 'SGD':
      return digits(6, 17, 'SGD');
    case 'CAD':
      return digits(7, 12, 'Canadian');
    case 'AUD':
      return digits(5, 9, 'Australian');
    case 'GBP':
      if (hasSortCode) {
        if (!/^[0-9]{6,8}$/.test(compact)) {
          fail('accountNo', 'UK account numbers must be 8 digits (6-7 digit numbers are zero-padded)');
        }
        return compact.padStart(8, '0');
      }
      return genericAccountNo(currency, compact);
    case 'EUR':
      return genericAccountNo(currency, compact);
  }
}

/** EUR, and GBP without a sort code: a local account number or an IBAN. */
function genericAccountNo(currency: FiatCurrency, compact: string): string {
  const upper = compact.toUpperCase();
  if (!/^[A-Z0-9]{1,34}$/.test(upper)) {
    fail('accountNo', `${currency} account numbers must be 1-34 letters or digits`);
  }
  if (looksLikeIban(upper)) {
    const p = ibanProblem(upper);
    if (p !== null) fail('accountNo', `looks like an IBAN but is not a valid one: ${p}`);
  }
  return upper;
}
