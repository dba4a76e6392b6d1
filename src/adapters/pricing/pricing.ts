import { AppError } from '../../infra/lib/errors.ts';
import {
  ASSET_SCALE,
  addMinor,
  convert,
  bpsOf,
  formatAmount,
  formatRate,
  isCryptoAsset,
  isFiatAsset,
  minor,
  mulRate,
  parseAmountInput,
  parseRate,
  subMinor,
  type CryptoAsset,
  type FiatAsset,
  type Minor,
  type Rate,
  type Unbranded,
} from '../../infra/lib/money.ts';
import type { Clock } from '../../infra/lib/clock.ts';
import type { RailId } from '../rails/rails.ts';
import type { Fees } from './fees.ts';

/**
 * Rate sources sit behind one interface; the default is a static table from configuration
 * (stablecoins at par to USD, fiat as units per USD). Rates are exact decimals, never floats.
 */
export interface RateQuote {
  rate: Rate; // fiat per 1 unit of crypto
  source: string;
  asOf: Date;
}

export interface RateSource {
  readonly name: string;
  quote(from: CryptoAsset, to: FiatAsset): Promise<RateQuote>;
}

export const DEFAULT_STATIC_RATES: Record<string, string> = {
  USDT: '1', // USD per token
  USDC: '1',
  USD: '1', // units per USD
  EUR: '0.92',
  GBP: '0.79',
  CAD: '1.37',
  AUD: '1.52',
  SGD: '1.34',
};

export function createStaticRateSource(table: Record<string, string>, clock: Clock): RateSource {
  const parsed = new Map<string, Rate>();
  for (const [asset, s] of Object.entries(table)) {
    const r = parseRate(s);
    if (!r) throw new Error(`static rate for ${asset} is not a positive decimal: "${s}"`);
    parsed.set(asset, r);
  }
  return {
    name: 'static',
    async quote(from, to) {
      const usdPerToken = parsed.get(from);
      const fiatPerUsd = parsed.get(to);
      if (!usdPerToken || !fiatPerUsd) throw new AppError('PRECONDITION_FAILED', `no rate for ${from}/${to}`);
      return { rate: mulRate(usdPerToken, fiatPerUsd), source: 'static', asOf: clock.now() };
    },
  };
}

/**
 * a/b as an exact decimal rounded DOWN to `decimals` places (then trailing zeros trimmed). The
 * only rounding of a rate anywhere: the rounded rate is the one a trade stores and shows, so every
 * amount stays exactly reproducible from the trade record. Refuses a result that rounds to zero.
 */
export function divideRate(a: Rate, b: Rate, decimals: number): Rate {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 18) throw new RangeError('divideRate: decimals must be an integer 0..18');
  if (a.value <= 0n || b.value <= 0n) throw new RangeError('divideRate: rates must be positive');
  // (a.value / 10^a.scale) / (b.value / 10^b.scale) × 10^decimals, floored.
  let value = (a.value * 10n ** BigInt(b.scale + decimals)) / (b.value * 10n ** BigInt(a.scale));
  let scale = decimals;
  if (value === 0n) throw new RangeError('divideRate: the quotient rounds to zero');
  while (scale > 0 && value % 10n === 0n) {
    value /= 10n;
    scale--;
  }
  return { value, scale };
}

/**
 * A partner's fees for one payout (docs/pricing.md): a spread and an optional partner fee in basis points
 * of the gross fiat amount (each rounded up to the minor unit, `bpsOf`), and a fixed fee in minor
 * units of the payout currency `T` for the rail the payout will use.
 */
export interface FeeSchedule<T extends FiatAsset = FiatAsset> {
  spreadBps: number;
  /** Fixed fee in minor units of the fiat currency (the fee of `rail` when set). */
  fixedFeeMinor: Minor<T>;
  /** Revenue owed to the partner, in bps of gross; default 0. */
  partnerFeeBps?: number;
  /** The payout rail the fixed fee is for (null/absent: a flat fee, not tied to a rail). */
  rail?: RailId | null;
  /**
   * The rail (and so the fixed fee) depends on the gross amount, which only the quote knows:
   * when present, computeQuote calls it with the gross amount and uses the rail and fixed fee it
   * returns instead of `rail`/`fixedFeeMinor` (see `Fees.forPartner` without a rail).
   */
  forGross?: (grossMinor: Minor<T>) => { rail: RailId; fixedFeeMinor: Minor<T> };
}

/** A quote from crypto `F` to fiat `T`: every fiat amount is a `Minor<T>`, the crypto a `Minor<F>`. */
export interface Quote<F extends CryptoAsset = CryptoAsset, T extends FiatAsset = FiatAsset> {
  fromCurrency: F;
  toCurrency: T;
  fromAmount: Minor<F>;
  grossAmount: Minor<T>; // fiat before fees, rounded down
  spreadFee: Minor<T>;
  fixedFee: Minor<T>;
  partnerFee: Minor<T>; // owed to the partner (not OpenRamp revenue, not paid to the customer)
  /** Rail the fixed fee was priced for (the expected payout rail); null for a flat fee. */
  rail: RailId | null;
  toAmount: Minor<T>; // net fiat paid out
  remainderNum: bigint; // rounding remainder, fraction of one fiat minor unit
  remainderDen: bigint;
  rate: RateQuote;
}

/**
 * The one money formula (trade preview and trades): gross = floor(amount × rate); fees are
 * itemised; net = gross − spread − fixed − partner, so net + fees = gross exactly, and gross +
 * remainderNum/remainderDen = amount × rate exactly. When the fees exceed gross, net is 0 (the
 * trade is canceled AMOUNT_BELOW_FEES and never booked).
 */
export function computeQuote<F extends CryptoAsset, T extends FiatAsset>(
  from: F,
  to: T,
  fromAmount: Minor<NoInfer<F>> | Unbranded,
  rate: RateQuote,
  fees: FeeSchedule<NoInfer<T>>,
): Quote<F, T> {
  const converted = convert(fromAmount, ASSET_SCALE[from], rate.rate, ASSET_SCALE[to]);
  const gross = minor(to, converted.out);
  const fixed = fees.forGross ? fees.forGross(gross) : { rail: fees.rail ?? null, fixedFeeMinor: fees.fixedFeeMinor };
  if (fixed.fixedFeeMinor < 0n) throw new RangeError('fixed fee must not be negative');
  const spreadFee = bpsOf(gross, fees.spreadBps);
  const partnerFee = bpsOf(gross, fees.partnerFeeBps ?? 0);
  const fixedFee = fixed.fixedFeeMinor;
  const toAmount = subMinor(subMinor(subMinor(gross, spreadFee), fixedFee), partnerFee);
  return {
    fromCurrency: from,
    toCurrency: to,
    fromAmount: minor(from, fromAmount),
    grossAmount: gross,
    spreadFee,
    fixedFee,
    partnerFee,
    rail: fixed.rail,
    toAmount: toAmount > 0n ? toAmount : minor(to, 0n),
    remainderNum: converted.remainderNum,
    remainderDen: converted.remainderDen,
    rate,
  };
}

/** Itemised fees as the API shows them (trade detail and trade preview alike). */
export function feesView<T extends FiatAsset>(
  currency: T,
  f: { spreadFee: Minor<NoInfer<T>> | Unbranded; fixedFee: Minor<NoInfer<T>> | Unbranded; partnerFee: Minor<NoInfer<T>> | Unbranded },
) {
  const spread = minor(currency, f.spreadFee);
  const fixed = minor(currency, f.fixedFee);
  const partner = minor(currency, f.partnerFee);
  return {
    spread: formatAmount(currency, spread),
    fixed: formatAmount(currency, fixed),
    partner: formatAmount(currency, partner),
    total: formatAmount(currency, addMinor(addMinor(spread, fixed), partner)),
  };
}

export function quoteView<F extends CryptoAsset, T extends FiatAsset>(q: Quote<F, T>) {
  return {
    fromCurrency: q.fromCurrency,
    toCurrency: q.toCurrency,
    fromAmount: formatAmount(q.fromCurrency, q.fromAmount),
    toAmount: formatAmount(q.toCurrency, q.toAmount),
    rate: formatRate(q.rate.rate),
    rateSource: q.rate.source,
    rateTime: q.rate.asOf.toISOString(),
    fees: feesView(q.toCurrency, q),
    rail: q.rail,
    grossAmount: formatAmount(q.toCurrency, q.grossAmount),
    indicative: true,
  };
}

/** `GET /autoramp-flow/trade-preview`: the indicative quote for an offramp, by the trade's own formula. */
export interface TradePreview {
  preview(partnerId: string, input: { fromCurrency: string; toCurrency: string; amount: string }): Promise<ReturnType<typeof quoteView>>;
}

export function createTradePreview(deps: { rates: RateSource; fees: Pick<Fees, 'forPartner'> }): TradePreview {
  return {
    async preview(partnerId, { fromCurrency, toCurrency, amount }) {
      if (!isCryptoAsset(fromCurrency) || !isFiatAsset(toCurrency)) {
        throw new AppError('INVALID_PARAMETERS', 'fromCurrency/toCurrency: only offramp previews (USDT or USDC → fiat) are supported');
      }
      const fromAmount = parseAmountInput(fromCurrency, amount);
      const rate = await deps.rates.quote(fromCurrency, toCurrency);
      const fees = await deps.fees.forPartner(partnerId, toCurrency);
      return quoteView(computeQuote(fromCurrency, toCurrency, fromAmount, rate, fees));
    },
  };
}
