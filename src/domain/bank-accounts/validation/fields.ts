/**
 * Reading the request's fields (trimmed strings; empty, undefined and null are missing) and the
 * failure every check throws: the first problem found ends the validation.
 */
import { checkName, hasUnpairedSurrogate, trimInvisible } from '../../../infra/lib/text.ts';
import type { BankAccountInput } from './types.ts';

/** Request fields this module reads (customerId is the caller's business). */
export const FIELDS = [
  'currency',
  'bankName',
  'accountNo',
  'accountName',
  'beneficiaryName',
  'swift',
  'iban',
  'aba',
  'sortCode',
  'bsb',
  'institutionNumber',
  'transit',
  'bankCountry',
  'bankAddress',
  'beneficiaryAddress',
  'label',
  'interBankName',
  'interBankBic',
  'interBankAccountNo',
] as const;
export type Field = (typeof FIELDS)[number];

/**
 * `blank`: a non-empty string with nothing visible in it (spaces, invisible characters). It
 * counts as missing, except for names, where it is refused (see checkNameField).
 */
export type Slot = { kind: 'missing' } | { kind: 'blank' } | { kind: 'badType'; type: string } | { kind: 'value'; value: string };

export class Fail {
  constructor(
    readonly field: string,
    readonly message: string,
  ) {}
}

export function fail(field: string, rule: string): never {
  throw new Fail(field, `${field}: ${rule}`);
}

export function readSlot(input: BankAccountInput, field: Field): Slot {
  const raw = Object.hasOwn(input, field) ? input[field] : undefined;
  if (raw === undefined || raw === null) return { kind: 'missing' };
  if (typeof raw !== 'string') {
    return { kind: 'badType', type: Array.isArray(raw) ? 'array' : typeof raw };
  }
  if (raw === '') return { kind: 'missing' };
  const trimmed = trimInvisible(raw);
  return trimmed === '' ? { kind: 'blank' } : { kind: 'value', value: trimmed };
}

export const MAX_TEXT = 140;
export const MAX_ADDRESS = 300;

/** Cc (C0 + DEL + C1) and the bidi embedding/override/isolate controls. */
const CONTROL_CHARS = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;
/** Same, but tab / LF / CR are tolerated (multi-line postal addresses). */
const CONTROL_CHARS_EXCEPT_NEWLINES = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/u;

function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export function checkText(field: string, value: string, max: number, allowNewlines = false): string {
  if (hasUnpairedSurrogate(value)) fail(field, 'must be valid Unicode text (it contains an unpaired surrogate)');
  const re = allowNewlines ? CONTROL_CHARS_EXCEPT_NEWLINES : CONTROL_CHARS;
  if (re.test(value)) fail(field, 'must not contain control characters');
  const len = codePointLength(value);
  if (len > max) fail(field, `must be at most ${max} characters (got ${len})`);
  return value;
}

/**
 * A person's or company's name (account holder, bank): the shared name rules, then the length.
 * `slot` is the field as read; a blank name is refused rather than taken as missing, so that
 * " " cannot stand in for the customer's own name.
 */
export function checkNameField(field: string, slot: Slot, max: number): string | null {
  if (slot.kind === 'blank') fail(field, 'must not be blank (it has no visible characters)');
  if (slot.kind !== 'value') return null;
  const name = checkName(slot.value);
  if (!name.ok) fail(field, name.rule);
  return checkText(field, name.value, max);
}

/** Remove spaces and hyphens (common visual separators in account numbers). */
export function stripSeparators(s: string): string {
  return s.replace(/[\s-]/g, '');
}
