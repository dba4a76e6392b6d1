/** ISO 3166-1 alpha-2 checks and English names, from the runtime's ICU data (no table to keep). */
const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });

/**
 * Two-letter codes ICU names that are not assigned ISO 3166-1 alpha-2 codes: withdrawn ones
 * (BU, CS, DD, …), exceptionally reserved ones (EU, UK, UN, AC, IC, …), private-use ones ICU
 * gives a meaning (EZ, QO, XA, XB, ZZ). XK is private-use as well but is kept: Kosovo has no
 * ISO code, and IBANs, BICs and the EU use XK for it.
 */
const NOT_ISO = new Set([
  'AC',
  'AN',
  'BU',
  'CP',
  'CQ',
  'CS',
  'DD',
  'DG',
  'DY',
  'EA',
  'EU',
  'EZ',
  'FX',
  'HV',
  'IC',
  'NH',
  'QO',
  'RH',
  'SU',
  'TA',
  'TP',
  'UK',
  'UN',
  'VD',
  'XA',
  'XB',
  'YD',
  'YU',
  'ZR',
  'ZZ',
]);

export function countryName(code: string | null | undefined): string | null {
  if (!code || !/^[A-Z]{2}$/.test(code) || NOT_ISO.has(code)) return null;
  const name = regionNames.of(code);
  return name && name !== code ? name : null;
}

export function isCountryCode(code: string): boolean {
  return countryName(code) !== null;
}

/**
 * A country as a partner sends it: surrounding whitespace removed and upper-cased (`" de"` is
 * `DE`). Null when the result is not an assigned ISO 3166-1 alpha-2 code.
 */
export function normalizeCountryCode(raw: string): string | null {
  const trimmed = raw.trim();
  // ASCII letters only before upper-casing: "ﬁ" (one ligature character) upper-cases to "FI".
  if (!/^[A-Za-z]{2}$/.test(trimmed)) return null;
  const code = trimmed.toUpperCase();
  return isCountryCode(code) ? code : null;
}
