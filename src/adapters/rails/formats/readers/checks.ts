/**
 * What every fixed-width reader needs: the violation it throws, field access by the published
 * 1-based positions, digit fields, and the split of a file into printable-ASCII records of one
 * length. Nothing here is shared with the generators (../common.ts): a reader that borrowed the
 * writer's helpers would inherit the writer's mistakes instead of catching them.
 */

export class FormatViolation extends Error {
  constructor(format: string, message: string) {
    super(`${format}: ${message}`);
    this.name = 'FormatViolation';
  }
}

export function check(cond: boolean, format: string, message: string): asserts cond {
  if (!cond) throw new FormatViolation(format, message);
}

/** Field by 1-based inclusive positions, as the published layouts number them. */
export const at = (rec: string, from: number, to: number): string => rec.slice(from - 1, to);

export function digits(format: string, what: string, s: string): bigint {
  check(/^[0-9]+$/.test(s), format, `${what} must be digits, got ${JSON.stringify(s)}`);
  return BigInt(s);
}

/**
 * The file's records: it must end with `eol`, no record may hold a stray line break or a
 * character outside printable ASCII, and every record must be `length` characters long (checked
 * once the whole file is known to be clean, so a stray byte is reported as such, not as a length).
 */
export function splitRecords(format: string, content: string, eol: '\n' | '\r\n', length: number): string[] {
  check(content.endsWith(eol), format, `file must end with ${JSON.stringify(eol)}`);
  const lines = content.slice(0, -eol.length).split(eol);
  for (const [i, l] of lines.entries()) {
    check(!/[\r\n]/.test(l), format, `record ${i + 1} contains a stray line break`);
    check(/^[\x20-\x7E]*$/.test(l), format, `record ${i + 1} contains a character outside printable ASCII`);
  }
  lines.forEach((l, i) => void check(l.length === length, format, `record ${i + 1} is ${l.length} characters, not ${length}`));
  return lines;
}

/**
 * Six digits that hold a plausible day (01-31) and month (01-12) in the given order; the year is
 * any two digits. NACHA writes YYMMDD, ABA DDMMYY.
 */
export function validSixDigitDate(s: string, order: 'YYMMDD' | 'DDMMYY'): boolean {
  if (!/^[0-9]{6}$/.test(s)) return false;
  const m = Number(s.slice(2, 4));
  const d = Number(order === 'YYMMDD' ? s.slice(4, 6) : s.slice(0, 2));
  return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}
