/**
 * A rough strength check for secrets typed in by an operator (the operator token). It cannot
 * prove randomness; it refuses what is clearly not random — too short, few distinct
 * characters, or a low Shannon estimate (length × per-character entropy of the token's own
 * character frequencies). 32 random hex characters (128 bits; estimate ≥ ~89 bits, ≥ 9 distinct
 * in 200 000 samples) pass with margin; `aaaa…`,
 * `abcdabcd…` and short words do not.
 */
export const TOKEN_LENGTH_MIN = 32;
export const TOKEN_DISTINCT_CHARS_MIN = 8;
export const TOKEN_ENTROPY_BITS_MIN = 80;

export function entropyBitsEstimate(token: string): number {
  const counts = new Map<string, number>();
  for (const c of token) counts.set(c, (counts.get(c) ?? 0) + 1);
  const n = [...token].length;
  let perChar = 0;
  for (const k of counts.values()) perChar -= (k / n) * Math.log2(k / n);
  return perChar * n;
}

/** Null when strong enough, else the reason (for a ConfigError naming the setting). */
export function tokenWeakness(token: string): string | null {
  const length = [...token].length;
  if (length < TOKEN_LENGTH_MIN) return `must be at least ${TOKEN_LENGTH_MIN} characters in production, got ${length}`;
  const distinct = new Set(token).size;
  if (distinct < TOKEN_DISTINCT_CHARS_MIN)
    return `looks guessable: only ${distinct} distinct characters (at least ${TOKEN_DISTINCT_CHARS_MIN}); generate one with \`openssl rand -hex 32\``;
  const bits = Math.floor(entropyBitsEstimate(token));
  if (bits < TOKEN_ENTROPY_BITS_MIN)
    return `looks guessable: about ${bits} bits of entropy (at least ${TOKEN_ENTROPY_BITS_MIN}); generate one with \`openssl rand -hex 32\``;
  return null;
}
