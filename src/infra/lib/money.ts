/**
 * Money is bigint minor units end to end, branded per asset so the type system keeps assets
 * apart; decimal strings exist only at the edges (API, payment files). No float ever touches an
 * amount.
 */
export const CRYPTO_ASSETS = ['USDT', 'USDC'] as const;
export const FIAT_ASSETS = ['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'SGD'] as const;
export type CryptoAsset = (typeof CRYPTO_ASSETS)[number];
export type FiatAsset = (typeof FIAT_ASSETS)[number];
export type Asset = CryptoAsset | FiatAsset;

export const ASSET_SCALE: Record<Asset, number> = { USDT: 6, USDC: 6, USD: 2, EUR: 2, GBP: 2, CAD: 2, AUD: 2, SGD: 2 };

declare const assetBrand: unique symbol;
export type Minor<A extends Asset> = bigint & { readonly [assetBrand]: A };

export const minor = <A extends Asset>(_asset: A, v: bigint): Minor<A> => v as Minor<A>;

export function isCryptoAsset(s: string): s is CryptoAsset {
  return (CRYPTO_ASSETS as readonly string[]).includes(s);
}
export function isFiatAsset(s: string): s is FiatAsset {
  return (FIAT_ASSETS as readonly string[]).includes(s);
}

const DECIMAL_RE = /^(0|[1-9]\d*)(?:\.(\d+))?$/;

/** "12.5" at scale 6 → 12500000n. Refuses signs, exponents and more decimals than the scale. */
export function parseDecimal(s: string, scale: number): bigint | null {
  const m = DECIMAL_RE.exec(s);
  if (!m) return null;
  const frac = m[2] ?? '';
  if (frac.length > scale) return null;
  return BigInt(m[1]!) * 10n ** BigInt(scale) + BigInt(frac.padEnd(scale, '0') || '0');
}

export function parseAmount<A extends Asset>(asset: A, s: string): Minor<A> | null {
  const v = parseDecimal(s, ASSET_SCALE[asset]);
  return v === null ? null : minor(asset, v);
}

/** 12500000n at scale 6 → "12.500000" (always `scale` decimals, as payment files want). */
export function formatDecimal(v: bigint, scale: number): string {
  const neg = v < 0n;
  const abs = neg ? -v : v;
  if (scale === 0) return `${neg ? '-' : ''}${abs}`;
  const s = abs.toString().padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${s.slice(0, -scale)}.${s.slice(-scale)}`;
}

export function formatAmount<A extends Asset>(asset: A, v: Minor<A>): string {
  return formatDecimal(v, ASSET_SCALE[asset]);
}

/** An exact decimal rate: value × 10^-scale. */
export interface Rate {
  value: bigint;
  scale: number;
}

export function parseRate(s: string): Rate | null {
  const m = DECIMAL_RE.exec(s);
  if (!m) return null;
  const frac = m[2] ?? '';
  if (frac.length > 18) return null;
  const value = BigInt(m[1]! + frac);
  return value === 0n ? null : { value, scale: frac.length };
}

export function formatRate(r: Rate): string {
  return formatDecimal(r.value, r.scale)
    .replace(/(\.\d*?)0+$/, '$1')
    .replace(/\.$/, '');
}

/** Multiplies two exact rates. */
export function mulRate(a: Rate, b: Rate): Rate {
  return { value: a.value * b.value, scale: a.scale + b.scale };
}

/**
 * Converts `amount` (at fromScale) by `rate` to toScale, rounding down. The remainder is
 * returned as an exact fraction of one target minor unit (numerator/denominator) so callers can
 * book it rather than lose it.
 */
export function convert(
  amount: bigint,
  fromScale: number,
  rate: Rate,
  toScale: number,
): { out: bigint; remainderNum: bigint; remainderDen: bigint } {
  if (amount < 0n) throw new RangeError('convert: negative amount');
  const num = amount * rate.value * 10n ** BigInt(toScale);
  const den = 10n ** BigInt(fromScale + rate.scale);
  return { out: num / den, remainderNum: num % den, remainderDen: den };
}

/** amount × bps / 10000, rounded up (fees never round in the payer's favour by accident). */
export function bpsOf(amount: bigint, bps: number): bigint {
  if (!Number.isInteger(bps) || bps < 0 || bps > 10_000) throw new RangeError('bps must be an integer 0..10000');
  return (amount * BigInt(bps) + 9_999n) / 10_000n;
}
