/** ISO 3166-1 alpha-2 checks and English names, from the runtime's ICU data (no table to keep). */
const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });

export function countryName(code: string | null | undefined): string | null {
  if (!code || !/^[A-Z]{2}$/.test(code)) return null;
  const name = regionNames.of(code);
  return name && name !== code ? name : null;
}

export function isCountryCode(code: string): boolean {
  return countryName(code) !== null;
}
