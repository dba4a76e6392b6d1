import { AppError } from './errors.ts';

/**
 * Money is bigint minor units end to end, branded per asset so the type system keeps assets
 * apart; decimal strings exist only at the edges (API, payment files). No float ever touches an
 * amount.
 *
 * These two lists are the only lists of assets: every other list (TypeBox enums, loops over
 * currencies, schema column types) derives from them.
 */
export const CRYPTO_ASSETS = ['USDT', 'USDC'] as const;
export const FIAT_ASSETS = ['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'SGD'] as const;
/** Crypto first, then fiat: the order partner balances are listed in. */
export const ASSETS = [...CRYPTO_ASSETS, ...FIAT_ASSETS] as const;
export type CryptoAsset = (typeof CRYPTO_ASSETS)[number];
export type FiatAsset = (typeof FIAT_ASSETS)[number];
export type Asset = CryptoAsset | FiatAsset;

/**
 * Decimals of one unit of each asset in OpenRamp's books: the only place an asset's scale is
 * written down. A token's decimals on chain are a property of its contract and live in the token
 * registry (they happen to match today).
 */
export const ASSET_SCALE: Readonly<Record<Asset, number>> = { USDT: 6, USDC: 6, USD: 2, EUR: 2, GBP: 2, CAD: 2, AUD: 2, SGD: 2 };

declare const assetBrand: unique symbol;
export type Minor<A extends Asset> = bigint & { readonly [assetBrand]: A };

/**
 * A bigint that carries no asset brand. Transitional: the ledger and the payment-file inputs
 * accept it next to `Minor<A>` only until the payout module passes branded amounts; it still
 * refuses an amount branded for another asset. New code passes `Minor<A>`.
 */
export type Unbranded = bigint & { readonly [assetBrand]?: never };

export const minor = <A extends Asset>(_asset: A, v: bigint): Minor<A> => v as Minor<A>;

/*
 * Arithmetic that keeps the brand. Plain `+`/`-` on two Minor values compiles (both are bigints)
 * but yields an unbranded bigint; these helpers only accept amounts of one asset (`NoInfer` stops
 * TypeScript from widening A to a union of both arguments' assets).
 */
export const addMinor = <A extends Asset>(a: Minor<A>, b: Minor<NoInfer<A>>): Minor<A> => (a + b) as Minor<A>;
export const subMinor = <A extends Asset>(a: Minor<A>, b: Minor<NoInfer<A>>): Minor<A> => (a - b) as Minor<A>;
export const negMinor = <A extends Asset>(a: Minor<A>): Minor<A> => -a as Minor<A>;
export function sumMinor<A extends Asset>(asset: A, values: Iterable<Minor<NoInfer<A>>>): Minor<A> {
  let total = 0n;
  for (const v of values) total += v;
  return minor(asset, total);
}

const INTEGER_RE = /^-?\d+$/;

/**
 * The repository edge: a numeric(78,0) column read as text (or a `sum(...)::text`) → a branded
 * amount. A value that is not an integer means the row is corrupt, never user input, so it throws.
 */
export function minorFromDb<A extends Asset>(asset: A, text: string): Minor<A> {
  if (!INTEGER_RE.test(text)) throw new RangeError(`not an integer amount of ${asset} from the database: "${text}"`);
  return minor(asset, BigInt(text));
}

export function isCryptoAsset(s: string): s is CryptoAsset {
  return (CRYPTO_ASSETS as readonly string[]).includes(s);
}
export function isFiatAsset(s: string): s is FiatAsset {
  return (FIAT_ASSETS as readonly string[]).includes(s);
}
export function isAsset(s: string): s is Asset {
  return (ASSETS as readonly string[]).includes(s);
}

/**
 * The ledger books each trade's rounding remainder (a fraction of one fiat minor unit) exactly, in
 * a fine sub-unit of the fiat asset: 10^-ROUNDING_SCALE of a unit, as its own ledger asset
 * "EUR:e26". Those amounts are not minor units of the asset, so they are never `Minor<A>`.
 */
export const ROUNDING_SCALE = 26;
export type RoundingAsset = `${FiatAsset}:e${typeof ROUNDING_SCALE}`;
/** What a ledger line is denominated in. */
export type LedgerAsset = Asset | RoundingAsset;
export const roundingAsset = (currency: FiatAsset): RoundingAsset => `${currency}:e${ROUNDING_SCALE}`;

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

/**
 * The most one deposit, trade, payout or treasury funding may carry, per asset. Fiat stays below
 * the smallest amount field of every payment file (NACHA, ABA and CPA-005 carry 10 digits of
 * cents, pain.001 more), so no accepted amount can make a file writer refuse it; 10 million
 * USDT/USDC converts to under 50 million in every payout currency.
 */
export const AMOUNT_MAX: Readonly<Record<Asset, bigint>> = {
  USDT: 10_000_000_000_000n,
  USDC: 10_000_000_000_000n,
  USD: 5_000_000_000n,
  EUR: 5_000_000_000n,
  GBP: 5_000_000_000n,
  CAD: 5_000_000_000n,
  AUD: 5_000_000_000n,
  SGD: 5_000_000_000n,
};

/** Why an amount given at an entry point is refused, or null: positive, within the asset's maximum. */
export function amountRefusal(asset: Asset, v: bigint): string | null {
  if (v <= 0n) return 'must be positive';
  if (v > AMOUNT_MAX[asset])
    return `exceeds the maximum ${formatDecimal(AMOUNT_MAX[asset], ASSET_SCALE[asset])} ${asset} one payment may carry`;
  return null;
}

/**
 * An amount from outside (API, CLI): a decimal string with at most the asset's decimals,
 * positive and within `AMOUNT_MAX`. The one parser every entry point uses.
 */
export function parseAmountInput<A extends Asset>(asset: A, s: string, field = 'amount'): Minor<A> {
  const v = parseAmount(asset, s);
  if (v === null)
    throw new AppError('INVALID_PARAMETERS', `${field}: must be a decimal string with at most ${ASSET_SCALE[asset]} decimals, got "${s}"`);
  const refusal = amountRefusal(asset, v);
  if (refusal !== null) throw new AppError('INVALID_PARAMETERS', `${field}: ${refusal}, got "${s}"`);
  return v;
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

/**
 * amount × bps / 10000, rounded up (fees never round in the payer's favour by accident). A fee on
 * a `Minor<A>` is a `Minor<A>`.
 */
export function bpsOf<A extends Asset>(amount: Minor<A>, bps: number): Minor<A>;
export function bpsOf(amount: bigint, bps: number): bigint;
export function bpsOf(amount: bigint, bps: number): bigint {
  if (!Number.isInteger(bps) || bps < 0 || bps > 10_000) throw new RangeError('bps must be an integer 0..10000');
  return (amount * BigInt(bps) + 9_999n) / 10_000n;
}
