/** US ABA routing transit numbers (Fedwire / ACH). */

export function abaProblem(aba: string): string | null {
  if (!/^[0-9]{9}$/.test(aba)) return 'routing number must be exactly 9 digits';
  const prefix = Number(aba.slice(0, 2));
  const prefixOk = (prefix >= 0 && prefix <= 12) || (prefix >= 21 && prefix <= 32) || (prefix >= 61 && prefix <= 72) || prefix === 80;
  if (!prefixOk) {
    return `routing number prefix ${aba.slice(0, 2)} is not a Federal Reserve routing symbol (allowed 00-12, 21-32, 61-72, 80)`;
  }
  const d = [...aba].map(Number) as number[];
  const sum =
    3 * ((d[0] ?? 0) + (d[3] ?? 0) + (d[6] ?? 0)) +
    7 * ((d[1] ?? 0) + (d[4] ?? 0) + (d[7] ?? 0)) +
    ((d[2] ?? 0) + (d[5] ?? 0) + (d[8] ?? 0));
  if (sum % 10 !== 0) return 'routing number checksum failed';
  return null;
}

/** ABA routing transit number: 9 digits, Fed prefix, 3-7-1 checksum. */
export function isValidAbaRouting(s: string): boolean {
  if (typeof s !== 'string') return false;
  return abaProblem(s.trim()) === null;
}
