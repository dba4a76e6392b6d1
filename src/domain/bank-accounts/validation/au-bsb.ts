/** Australian BSB (bank-state-branch) numbers. */

/** `123-456` or `123456` → `"123456"`; anything else → null. */
export function normalizeBsb(s: string): string | null {
  if (typeof s !== 'string') return null;
  const m = /^([0-9]{3})-?([0-9]{3})$/.exec(s.trim());
  return m ? `${m[1]}${m[2]}` : null;
}
