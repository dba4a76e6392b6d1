import { AppError } from '../lib/errors.ts';
import { ASSET_SCALE, convert, bpsOf, formatDecimal, formatRate, mulRate, parseRate, type CryptoAsset, type FiatAsset, type Rate } from '../lib/money.ts';
import type { Clock } from '../lib/clock.ts';

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

export interface FeeSchedule {
  spreadBps: number;
  fixedFeeMinor: bigint; // in the fiat currency
}

export interface Quote {
  fromCurrency: CryptoAsset;
  toCurrency: FiatAsset;
  fromAmount: bigint;
  grossAmount: bigint; // fiat before fees, rounded down
  spreadFee: bigint;
  fixedFee: bigint;
  toAmount: bigint; // net fiat paid out
  remainderNum: bigint; // rounding remainder, fraction of one fiat minor unit
  remainderDen: bigint;
  rate: RateQuote;
}

/** The one money formula (trade preview now, trades later): gross = floor(amount × rate). */
export function computeQuote(from: CryptoAsset, to: FiatAsset, fromAmount: bigint, rate: RateQuote, fees: FeeSchedule): Quote {
  const { out: gross, remainderNum, remainderDen } = convert(fromAmount, ASSET_SCALE[from], rate.rate, ASSET_SCALE[to]);
  const spreadFee = bpsOf(gross, fees.spreadBps);
  const fixedFee = fees.fixedFeeMinor;
  const toAmount = gross - spreadFee - fixedFee;
  return { fromCurrency: from, toCurrency: to, fromAmount, grossAmount: gross, spreadFee, fixedFee, toAmount: toAmount > 0n ? toAmount : 0n, remainderNum, remainderDen, rate };
}

export function quoteView(q: Quote) {
  const fs = ASSET_SCALE[q.toCurrency];
  return {
    fromCurrency: q.fromCurrency,
    toCurrency: q.toCurrency,
    fromAmount: formatDecimal(q.fromAmount, ASSET_SCALE[q.fromCurrency]),
    toAmount: formatDecimal(q.toAmount, fs),
    rate: formatRate(q.rate.rate),
    rateSource: q.rate.source,
    rateTime: q.rate.asOf.toISOString(),
    fees: { spread: formatDecimal(q.spreadFee, fs), fixed: formatDecimal(q.fixedFee, fs), total: formatDecimal(q.spreadFee + q.fixedFee, fs) },
    grossAmount: formatDecimal(q.grossAmount, fs),
    indicative: true,
  };
}
