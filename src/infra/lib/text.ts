/**
 * Names as people and companies are written, checked the same way on every route that takes
 * one (customer name, account holder, bank names). The rules are in docs/api-contract.md
 * ("Input rules"): a name is trimmed of whitespace and invisible characters at both ends, and
 * is refused when nothing visible is left or when a control or invisible character sits inside.
 */

/**
 * Characters that render as nothing: Unicode's default-ignorable code points and the format
 * characters (zero-width space and joiners, word joiner, byte-order mark, soft hyphen, bidi
 * controls, …). Variation selectors are default-ignorable too but are left out: they pick a
 * glyph for the character before them, and Japanese names use them (ideographic variation
 * sequences).
 */
const INVISIBLE = /(?![\uFE00-\uFE0F\u180B-\u180D\u180F\u{E0100}-\u{E01EF}])[\p{Default_Ignorable_Code_Point}\p{Cf}]/u;

/** Bidi embedding, override and isolate controls: they reorder what a reader sees. */
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/u;

/** C0, DEL and C1 controls (tabs and newlines included), and the line and paragraph separators. */
const CONTROL = /[\p{Cc}\u2028\u2029]/u;

/** In a `u` pattern a surrogate pair is one code point, so only a lone half matches. */
const UNPAIRED_SURROGATE = /\p{Cs}/u;

/** A lone UTF-16 surrogate cannot be stored as UTF-8: the database would get U+FFFD instead. */
export function hasUnpairedSurrogate(s: string): boolean {
  return UNPAIRED_SURROGATE.test(s);
}

const EDGES = new RegExp(`^(?:\\p{White_Space}|${INVISIBLE.source})+|(?:\\p{White_Space}|${INVISIBLE.source})+$`, 'gu');

/** `U+200B`: how a message names a character a reader cannot see. */
export function codePointLabel(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Removes whitespace and invisible characters from both ends (inner ones are left alone). */
export function trimInvisible(s: string): string {
  return s.replace(EDGES, '');
}

/**
 * A value fit to quote in an error message: printable characters as they are, anything else
 * (controls, invisible characters, unpaired surrogates) as `U+XXXX`, and at most 40 characters.
 */
export function quoteForMessage(s: string): string {
  let out = '';
  let n = 0;
  for (const ch of s) {
    if (++n > 40) return `"${out}…"`;
    const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch) && !INVISIBLE.test(ch);
    out += printable ? ch : `<${codePointLabel(ch)}>`;
  }
  return `"${out}"`;
}

export type NameCheck = { ok: true; value: string } | { ok: false; rule: string };

/**
 * Checks a person's or company's name; on success `value` is the trimmed name. The rule is
 * worded to follow `<field>: ` in an INVALID_PARAMETERS message.
 */
export function checkName(raw: string): NameCheck {
  if (UNPAIRED_SURROGATE.test(raw)) return { ok: false, rule: 'must be valid Unicode text (it contains an unpaired surrogate)' };
  const value = trimInvisible(raw);
  if (value === '') return { ok: false, rule: 'must not be blank (it has no visible characters)' };
  const control = CONTROL.exec(value) ?? BIDI_CONTROL.exec(value);
  if (control !== null) return { ok: false, rule: `must not contain control characters (${codePointLabel(control[0])})` };
  const invisible = INVISIBLE.exec(value);
  if (invisible !== null) return { ok: false, rule: `must not contain invisible characters (${codePointLabel(invisible[0])})` };
  return { ok: true, value };
}
