/**
 * Shared helpers of the payment-file generators: character-set restriction, fixed-width fields,
 * calendar arithmetic and input checks. Pure (no I/O, no clock): a date is only ever read from an
 * argument.
 *
 * Every refusal is a PRECONDITION_FAILED AppError: a batch that cannot be written as a valid
 * file will not become writable by retrying, so workers must not retry it (docs/errors.md).
 */
import { preconditionFailed, type AppError } from '../../../infra/lib/errors.ts';
import { minor, type Minor } from '../../../infra/lib/money.ts';
import type { FileBatch, PaymentInstruction, PayoutCurrency } from './types.ts';

export function formatError(format: string, message: string): AppError {
  return preconditionFailed(`${format}: ${message}`);
}

// ---------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------

/**
 * Letters and signs that compatibility decomposition (NFKD) leaves alone. Everything with a
 * diacritic (é, ü, å, ç, ő, ş …) decomposes into base letter + combining mark and loses the mark.
 */
const TRANSLITERATION: Readonly<Record<string, string>> = {
  ß: 'ss',
  ẞ: 'SS',
  æ: 'ae',
  Æ: 'AE',
  œ: 'oe',
  Œ: 'OE',
  ø: 'o',
  Ø: 'O',
  đ: 'd',
  Đ: 'D',
  ð: 'd',
  Ð: 'D',
  þ: 'th',
  Þ: 'TH',
  ł: 'l',
  Ł: 'L',
  ı: 'i',
  ħ: 'h',
  Ħ: 'H',
  ŀ: 'l',
  Ŀ: 'L',
  ŋ: 'n',
  Ŋ: 'N',
  ĸ: 'k',
  ſ: 's',
  ŧ: 't',
  Ŧ: 'T',
  ƒ: 'f',
  '\u2018': "'",
  '\u2019': "'",
  '\u201A': "'",
  '\u201B': "'",
  '\u2032': "'",
  '\u00B4': "'",
  '\u201C': '"',
  '\u201D': '"',
  '\u201E': '"',
  '\u201F': '"',
  '\u2033': '"',
  '\u00AB': '"',
  '\u00BB': '"',
  '\u2010': '-',
  '\u2011': '-',
  '\u2012': '-',
  '\u2013': '-',
  '\u2014': '-',
  '\u2015': '-',
  '\u2212': '-',
  '\u2026': '...',
  '\u2044': '/',
  '\u00D7': 'x',
  '\u00B7': '.',
  '\u2022': '.',
  '\u20AC': 'EUR',
};

/** Best-effort Latin transliteration; characters it cannot map are left for the caller's charset. */
export function transliterate(s: string): string {
  let out = '';
  for (const ch of s.normalize('NFKD')) {
    if (/\p{M}/u.test(ch)) continue; // combining mark: "é" → "e" + U+0301 → "e"
    out += TRANSLITERATION[ch] ?? ch;
  }
  return out;
}

/** ASCII stand-ins for signs a restricted character set usually lacks, tried before giving up. */
const STAND_INS: Readonly<Record<string, string>> = {
  '&': '+',
  '<': '(',
  '[': '(',
  '{': '(',
  '>': ')',
  ']': ')',
  '}': ')',
  '"': "'",
  '`': "'",
  _: '-',
  '\\': '/',
  '|': '/',
  '~': '-',
  ';': ',',
  '!': '.',
};

export interface Charset {
  /** Tests ONE character. */
  allows: (ch: string) => boolean;
  /** Uppercase everything first (NACHA, CPA-005). */
  upper: boolean;
  /** Written for a character nothing maps into the set. */
  unknown: string;
}

/**
 * EPC "SEPA basic Latin" set (EPC217-08 and the EPC132 implementation guidelines §1.4):
 * a-z A-Z 0-9 / - ? : ( ) . , ' + space. Also the safest set for UK FPS/CHAPS and SG FAST/MEPS+.
 */
export const SEPA_LATIN: Charset = { allows: (c) => /^[A-Za-z0-9/\-?:().,'+ ]$/.test(c), upper: false, unknown: '?' };

/** Upper-case ASCII accepted by US ODFIs and Canadian direct clearers alike. */
export const UPPER_ASCII: Charset = { allows: (c) => /^[A-Z0-9 .,'&()+\-/:?#*]$/.test(c), upper: true, unknown: '?' };

/** The BECS character set subset used in ABA files (mixed case allowed). */
export const BECS: Charset = { allows: (c) => /^[A-Za-z0-9 .,'&()+\-/:?#*]$/.test(c), upper: false, unknown: '?' };

/**
 * Transliterates, maps every character outside `charset` (whitespace and controls become a space,
 * known signs their stand-in, the rest `charset.unknown`), collapses runs of spaces, trims, and
 * truncates to `max` characters. The result is ASCII, so its length in characters is its length
 * in bytes and in fixed-width columns.
 */
export function restrictText(s: string, charset: Charset, max: number): string {
  let t = transliterate(s);
  if (charset.upper) t = t.toUpperCase();
  let out = '';
  for (const ch of t) {
    if (charset.allows(ch)) out += ch;
    else if (/^[\s\p{Cc}\p{Cf}]$/u.test(ch)) out += ' ';
    else {
      const alt = STAND_INS[ch];
      out += alt !== undefined && charset.allows(alt) ? alt : charset.unknown;
    }
  }
  return out.replace(/ {2,}/g, ' ').trim().slice(0, max).trimEnd();
}

/** restrictText for a field the format requires: refuses a value that comes out empty. */
export function requiredText(format: string, what: string, s: string, charset: Charset, max: number): string {
  const out = restrictText(s, charset, max);
  if (out === '') throw formatError(format, `${what} is empty once restricted to the file's character set (${JSON.stringify(s)})`);
  return out;
}

// ---------------------------------------------------------------------------
// Fixed-width fields
// ---------------------------------------------------------------------------

/** Left-justified, blank-filled, truncated: for text already restricted to the file's charset. */
export function alpha(s: string, len: number): string {
  return s.slice(0, len).padEnd(len, ' ');
}

/** Right-justified, blank-filled (ABA account numbers). Refuses a value that does not fit. */
export function alphaRight(format: string, what: string, s: string, len: number): string {
  if (s.length > len) throw formatError(format, `${what} "${s}" is longer than ${len} characters`);
  return s.padStart(len, ' ');
}

/** Right-justified, zero-filled digits. Refuses negatives and anything that would not fit. */
export function numeric(format: string, what: string, v: bigint | number | string, len: number): string {
  const s = typeof v === 'string' ? v : v.toString();
  if (!/^[0-9]+$/.test(s)) throw formatError(format, `${what} must be digits (got "${s}")`);
  if (s.length > len) throw formatError(format, `${what} ${s} does not fit in ${len} digits`);
  return s.padStart(len, '0');
}

/** Asserts every record has exactly the format's length: a cheap guard against a layout slip. */
export function assertRecordLengths(format: string, records: readonly string[], len: number): void {
  records.forEach((r, i) => {
    if (r.length !== len) throw new Error(`${format}: internal error, record ${i + 1} is ${r.length} characters, not ${len}`);
  });
}

// ---------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------

export interface CalendarDate {
  y: number;
  m: number;
  d: number;
}

export function parseIsoDate(format: string, what: string, s: string): CalendarDate {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) throw formatError(format, `${what} must be YYYY-MM-DD (got "${s}")`);
  const date = { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]) };
  if (date.m < 1 || date.m > 12 || date.d < 1 || date.d > daysInMonth(date.y, date.m)) {
    throw formatError(format, `${what} ${s} is not a calendar date`);
  }
  return date;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y: number, m: number): number {
  return [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] ?? 0;
}

export function dayOfYear(date: CalendarDate): number {
  let n = date.d;
  for (let m = 1; m < date.m; m++) n += daysInMonth(date.y, m);
  return n;
}

const two = (n: number): string => String(n).padStart(2, '0');

/** YYMMDD */
export function yymmdd(date: CalendarDate): string {
  return `${two(date.y % 100)}${two(date.m)}${two(date.d)}`;
}

/** DDMMYY */
export function ddmmyy(date: CalendarDate): string {
  return `${two(date.d)}${two(date.m)}${two(date.y % 100)}`;
}

export interface ZonedDateTime extends CalendarDate {
  hh: number;
  mi: number;
}

/** Wall-clock date and time of `instant` in an IANA time zone (a pure function of `instant`). */
export function zonedDateTime(format: string, instant: Date, timeZone: string): ZonedDateTime {
  if (!(instant instanceof Date) || Number.isNaN(instant.getTime())) throw formatError(format, 'createdAt is not a valid Date');
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(instant);
  const get = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value);
  return { y: get('year'), m: get('month'), d: get('day'), hh: get('hour'), mi: get('minute') };
}

export function hhmm(t: ZonedDateTime): string {
  return `${two(t.hh)}${two(t.mi)}`;
}

// ---------------------------------------------------------------------------
// Batch checks
// ---------------------------------------------------------------------------

export interface BatchRules {
  /** Currencies the file can carry (all instructions must share one). */
  currencies: readonly PayoutCurrency[];
  /** Largest single amount the format's amount field (or scheme) accepts, in minor units. */
  maxAmountMinor: bigint;
  /** Most payouts one file can hold. */
  maxCount: number;
}

/**
 * Checks what every format needs of a batch and returns its total: at least one instruction, one
 * currency the format carries, amounts in (0, max], endToEndIds present, ≤ 35 and unique.
 */
export function checkBatch<C extends PayoutCurrency>(
  format: string,
  batch: FileBatch<C>,
  rules: BatchRules,
): { currency: C; totalMinor: Minor<C> } {
  const list = batch.instructions;
  const first = list[0];
  if (first === undefined) throw formatError(format, 'a payment file needs at least one instruction');
  if (list.length > rules.maxCount) throw formatError(format, `${list.length} instructions exceed the ${rules.maxCount} one file can hold`);
  const currency = first.currency;
  if (!rules.currencies.includes(currency)) {
    throw formatError(format, `cannot carry ${currency} (carries ${rules.currencies.join(', ')})`);
  }
  const seen = new Set<string>();
  let totalMinor = 0n;
  list.forEach((ins: PaymentInstruction<C>, i) => {
    const where = `instruction ${i + 1} (${ins.payoutId})`;
    if (ins.currency !== currency) throw formatError(format, `${where} is in ${ins.currency}; the file is in ${currency}`);
    if (typeof ins.amountMinor !== 'bigint') throw formatError(format, `${where}: amountMinor must be a bigint`);
    if (ins.amountMinor <= 0n) throw formatError(format, `${where}: amount must be positive`);
    if (ins.amountMinor > rules.maxAmountMinor) {
      throw formatError(format, `${where}: amount ${ins.amountMinor} (minor units) exceeds the format's maximum ${rules.maxAmountMinor}`);
    }
    if (ins.endToEndId.length === 0 || ins.endToEndId.length > 35)
      throw formatError(format, `${where}: endToEndId must be 1-35 characters`);
    if (seen.has(ins.endToEndId)) throw formatError(format, `${where}: endToEndId "${ins.endToEndId}" is not unique in the batch`);
    seen.add(ins.endToEndId);
    totalMinor += ins.amountMinor;
  });
  return { currency, totalMinor: minor(currency, totalMinor) };
}

/**
 * A per-payout reference cut to a fixed-width field: the TAIL of the id, where `pay_<ulid>`-style
 * ids differ (their heads share a prefix and a timestamp). Refuses collisions: a reference that
 * does not identify one payout would misroute a return.
 */
export function tailReferences(format: string, what: string, batch: FileBatch, charset: Charset, len: number): string[] {
  const refs = batch.instructions.map((ins) => {
    const r = restrictText(ins.endToEndId, { ...charset, unknown: '-' }, 35).replace(/ /g, '-');
    return r.slice(-len);
  });
  const seen = new Map<string, number>();
  refs.forEach((r, i) => {
    if (r === '') throw formatError(format, `instruction ${i + 1}: endToEndId gives an empty ${what}`);
    const prev = seen.get(r);
    if (prev !== undefined) {
      throw formatError(
        format,
        `instructions ${prev + 1} and ${i + 1} share the ${what} "${r}" (last ${len} characters of their endToEndIds)`,
      );
    }
    seen.set(r, i);
  });
  return refs;
}

/** `<batchId>.<ext>`, with characters unsafe in file names replaced. */
export function fileName(batchId: string, ext: string): string {
  const safe = batchId.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return `${safe === '' ? 'batch' : safe}.${ext}`;
}
