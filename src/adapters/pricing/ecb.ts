import type { Logger } from 'pino';
import { AppError } from '../../infra/lib/errors.ts';
import { mulRate, parseRate, type CryptoAsset, type FiatAsset, type Rate } from '../../infra/lib/money.ts';
import type { Clock } from '../../infra/lib/clock.ts';
import { localDate, zonedTimeToInstant } from '../rails/rails.ts';
import { divideRate, type RateQuote, type RateSource } from './pricing.ts';

/**
 * The ECB's euro foreign exchange reference rates (docs/pricing.md, a real-format rate source): the
 * daily XML (`eurofxref-daily.xml`) quotes units of each currency per 1 EUR, published on
 * TARGET business days at around 16:00 CET. OpenRamp needs fiat per token, and tokens are priced
 * in USD (stablecoins at a configured par), so every rate is a cross through USD:
 *
 *   fiat per token = (USD per token) × (fiat per EUR) / (USD per EUR)      (EUR per EUR = 1)
 *
 * computed on exact decimals and rounded once, down, to ECB_CROSS_RATE_DECIMALS places. Rates
 * are read as decimal strings (never parsed as numbers); a document that is not exactly the
 * expected shape is refused, as are rates published more than `staleAfterDays` calendar days
 * (Frankfurt) ago: both are retryable DEPENDENCY_UNAVAILABLE errors, so a trade.create job waits
 * for fresh rates instead of trading at a stale or garbled one.
 */
export const ECB_DAILY_URL = 'https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml';
/** Cross rates are rounded down to this many decimal places (a division is rarely exact). */
export const ECB_CROSS_RATE_DECIMALS = 12;
/** The rates of a date are taken as of their publication, 16:00 Frankfurt time. */
export const ECB_PUBLICATION_TIME = '16:00';
export const ECB_TIME_ZONE = 'Europe/Berlin';
/** A daily document is ~1.5 KB; anything far larger is not what we asked for. */
const BODY_BYTES_MAX = 1_048_576;
const DAY_MS = 86_400_000;

export interface EcbRates {
  /** Reference date, YYYY-MM-DD. */
  date: string;
  /** Units of the currency per 1 EUR, exactly as published. */
  perEur: Map<string, Rate>;
}

const unavailable = (message: string, cause?: unknown) =>
  new AppError('DEPENDENCY_UNAVAILABLE', message, cause === undefined ? {} : { cause });

function attributes(raw: string, where: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/gy;
  let rest = raw.trim();
  while (rest.length > 0) {
    re.lastIndex = 0;
    const m = re.exec(rest);
    if (!m) throw unavailable(`ECB rates: malformed attributes in ${where}: ${JSON.stringify(raw.slice(0, 80))}`);
    if (out.has(m[1]!)) throw unavailable(`ECB rates: duplicate attribute ${m[1]} in ${where}`);
    out.set(m[1]!, m[2] ?? m[3] ?? '');
    rest = rest.slice(m[0].length).trimStart();
  }
  return out;
}

function isIsoDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/**
 * Parses the ECB reference-rate XML (the daily file, or the 90-day/historical files, in which
 * case the latest date is used). Strict: a gesmes:Envelope with `<Cube time="…">` days holding
 * `<Cube currency="XXX" rate="decimal"/>` entries; a bad date, a missing or non-decimal rate, a
 * repeated currency, or no USD rate makes the whole document invalid.
 */
export function parseEcbXml(xml: string): EcbRates {
  if (xml.trim() === '') throw unavailable('ECB rates: empty body');
  const body = xml.replace(/<!--[\s\S]*?-->/g, '');
  if (!/<gesmes:Envelope[\s>]/.test(body) || !/<\/gesmes:Envelope>\s*$/.test(body))
    throw unavailable('ECB rates: not a gesmes:Envelope document');
  const days = new Map<string, Map<string, Rate>>();
  let day: Map<string, Rate> | null = null;
  let dayDate = '';
  let depth = 0; // open <Cube> elements
  let dayDepth = -1;
  const tag = /<(\/?)Cube\b([^>]*?)(\/?)>/g;
  for (let m = tag.exec(body); m; m = tag.exec(body)) {
    const [, closing, rawAttrs, selfClosing] = m;
    if (closing) {
      if (rawAttrs!.trim() !== '' || depth === 0) throw unavailable('ECB rates: unbalanced </Cube>');
      depth--;
      if (depth === dayDepth) {
        day = null;
        dayDepth = -1;
      }
      continue;
    }
    const attrs = attributes(rawAttrs!, '<Cube>');
    if (attrs.has('time')) {
      const date = attrs.get('time')!;
      if (day) throw unavailable('ECB rates: a dated <Cube> inside another');
      if (!isIsoDate(date)) throw unavailable(`ECB rates: bad date ${JSON.stringify(date)}`);
      if (days.has(date)) throw unavailable(`ECB rates: date ${date} appears twice`);
      day = new Map();
      dayDate = date;
      days.set(date, day);
      if (selfClosing) day = null;
      else dayDepth = depth;
    } else if (attrs.has('currency') || attrs.has('rate')) {
      if (!day) throw unavailable('ECB rates: a rate outside a dated <Cube>');
      const currency = attrs.get('currency');
      const rateText = attrs.get('rate');
      if (currency === undefined || !/^[A-Z]{3}$/.test(currency))
        throw unavailable(`ECB rates ${dayDate}: <Cube> without a valid currency (${JSON.stringify(currency ?? null)})`);
      if (rateText === undefined) throw unavailable(`ECB rates ${dayDate}: ${currency} has no rate`);
      const rate = parseRate(rateText.trim());
      if (!rate) throw unavailable(`ECB rates ${dayDate}: ${currency} rate is not a positive decimal: ${JSON.stringify(rateText)}`);
      if (day.has(currency)) throw unavailable(`ECB rates ${dayDate}: ${currency} appears twice`);
      day.set(currency, rate);
    } else if (attrs.size > 0) {
      throw unavailable(`ECB rates: unexpected <Cube> attributes ${[...attrs.keys()].join(', ')}`);
    }
    if (!selfClosing) depth++;
  }
  if (depth !== 0) throw unavailable('ECB rates: unclosed <Cube>');
  const latest = [...days.keys()].sort().at(-1);
  if (latest === undefined) throw unavailable('ECB rates: no dated <Cube time="…"> in the document');
  const perEur = days.get(latest)!;
  if (perEur.size === 0) throw unavailable(`ECB rates ${latest}: no rates`);
  if (!perEur.has('USD')) throw unavailable(`ECB rates ${latest}: no USD rate (every cross rate needs it)`);
  return { date: latest, perEur };
}

/** `fiat` per 1 token, given USD per token, from the ECB's per-EUR rates (see the module comment). */
export function ecbCrossRate(rates: EcbRates, usdPerToken: Rate, fiat: FiatAsset): Rate {
  const usdPerEur = rates.perEur.get('USD');
  const fiatPerEur = fiat === 'EUR' ? { value: 1n, scale: 0 } : rates.perEur.get(fiat);
  if (!usdPerEur) throw unavailable(`ECB rates ${rates.date}: no USD rate`);
  if (!fiatPerEur) throw unavailable(`ECB rates ${rates.date}: no ${fiat} rate`);
  try {
    return divideRate(mulRate(usdPerToken, fiatPerEur), usdPerEur, ECB_CROSS_RATE_DECIMALS);
  } catch (err) {
    throw unavailable(`ECB rates ${rates.date}: cannot derive ${fiat} per token (${(err as Error).message})`, err);
  }
}

/** Publication instant of a reference date (16:00 Frankfurt). */
export function ecbPublishedAt(date: string): Date {
  return zonedTimeToInstant(date, ECB_PUBLICATION_TIME, ECB_TIME_ZONE);
}

/** Whole calendar days (Frankfurt) from the reference date to `now`. */
export function ecbAgeDays(date: string, now: Date): number {
  const today = localDate(now, ECB_TIME_ZONE);
  return Math.round((Date.parse(`${today}T00:00:00Z`) - Date.parse(`${date}T00:00:00Z`)) / DAY_MS); // not money: whole days between two dates
}

export interface EcbRateSourceOptions {
  url: string;
  clock: Clock;
  /** USD per token (stablecoin par), exact decimals. */
  usdPerToken: Record<CryptoAsset, Rate>;
  /** A fetched document is reused this long before it is fetched again. */
  maxAgeMs: number;
  /** Rates published more than this many calendar days ago are refused (ECB publishes on TARGET business days). */
  staleAfterDays: number;
  fetchTimeoutMs: number;
  fetch?: typeof fetch;
  logger?: Logger;
}

export interface EcbRateSource extends RateSource {
  /** The document in use (fetching it if the cache is empty or older than maxAgeMs). */
  current(): Promise<EcbRates>;
}

export function createEcbRateSource(o: EcbRateSourceOptions): EcbRateSource {
  const fetchImpl = o.fetch ?? globalThis.fetch;
  let cache: { rates: EcbRates; fetchedAt: number } | null = null;
  let inFlight: Promise<EcbRates> | null = null;

  async function download(): Promise<EcbRates> {
    let res: Response;
    try {
      res = await fetchImpl(o.url, { signal: AbortSignal.timeout(o.fetchTimeoutMs), headers: { accept: 'application/xml, text/xml' } });
    } catch (err) {
      throw unavailable(`ECB rates: cannot fetch ${o.url} (${(err as Error).message})`, err);
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw unavailable(`ECB rates: HTTP ${res.status} from ${o.url}`);
    }
    const declared = Number(res.headers.get('content-length') ?? '0'); // not money: a byte count
    if (declared > BODY_BYTES_MAX) {
      await res.body?.cancel().catch(() => {});
      throw unavailable(`ECB rates: response of ${declared} bytes is too large`);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw unavailable(`ECB rates: reading the response failed (${(err as Error).message})`, err);
    }
    if (text.length > BODY_BYTES_MAX) throw unavailable('ECB rates: response too large');
    return parseEcbXml(text);
  }

  const isStale = (r: EcbRates, now: Date) => ecbAgeDays(r.date, now) > o.staleAfterDays;

  async function current(): Promise<EcbRates> {
    const now = o.clock.now();
    if (cache && now.getTime() - cache.fetchedAt < o.maxAgeMs) return cache.rates;
    if (!inFlight) {
      inFlight = download()
        .then((rates) => {
          cache = { rates, fetchedAt: o.clock.now().getTime() };
          return rates;
        })
        .finally(() => {
          inFlight = null;
        });
    }
    try {
      return await inFlight;
    } catch (err) {
      // A failed refresh keeps the last good document while it is not stale; the staleness
      // check in quote() still applies to it.
      if (cache && !isStale(cache.rates, now)) {
        o.logger?.warn({ err, date: cache.rates.date }, 'ECB rate refresh failed; using the last good rates');
        return cache.rates;
      }
      throw err;
    }
  }

  return {
    name: 'ecb',
    current,
    async quote(from, to): Promise<RateQuote> {
      const usdPerToken = o.usdPerToken[from];
      if (!usdPerToken) throw new AppError('PRECONDITION_FAILED', `no USD par configured for ${from}`);
      const rates = await current();
      const now = o.clock.now();
      const age = ecbAgeDays(rates.date, now);
      if (age > o.staleAfterDays)
        throw unavailable(
          `ECB rates are stale: published ${rates.date}, ${age} days ago (limit ${o.staleAfterDays}); waiting for fresh rates`,
        );
      if (age < -1) throw unavailable(`ECB rates are dated in the future (${rates.date}); refusing them`);
      return { rate: ecbCrossRate(rates, usdPerToken, to), source: 'ecb', asOf: ecbPublishedAt(rates.date) };
    },
  };
}
