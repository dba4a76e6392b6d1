/**
 * Payout rails (docs/rails.md): the rail table, the choice of rail for a payout, and its dating
 * (execution date, expected arrival date, cut-off window) in the rail's own time zone.
 *
 * The numbers are data: operators with different bank cut-offs pass their own table
 * (`withRailOverrides`) to `chooseRail` / use it with `schedule`. Every default names its source.
 * Wall times are computed with `Intl.DateTimeFormat` (full ICU), never the process time zone.
 */
import type { FiatAsset, Minor, Unbranded } from '../../infra/lib/money.ts';
import { type CalendarId, addBusinessDays, isBusinessDay, nextBusinessDay } from './calendars.ts';

export type RailId =
  | 'SEPA_INSTANT'
  | 'SEPA_CT'
  | 'ACH'
  | 'ACH_SAME_DAY'
  | 'WIRE'
  | 'FPS'
  | 'CHAPS'
  | 'EFT'
  | 'NPP'
  | 'BECS'
  | 'FAST'
  | 'MEPS';
export const RAIL_IDS: readonly RailId[] = [
  'SEPA_INSTANT',
  'SEPA_CT',
  'ACH',
  'ACH_SAME_DAY',
  'WIRE',
  'FPS',
  'CHAPS',
  'EFT',
  'NPP',
  'BECS',
  'FAST',
  'MEPS',
];

/** Every fiat asset has at least one rail. */
export type RailCurrency = FiatAsset;
export type RailFileFormat = 'pain001' | 'nacha' | 'cpa005' | 'aba';

export interface RailSpec {
  id: RailId;
  currency: RailCurrency;
  calendar: CalendarId;
  /** IANA zone the cut-offs are expressed in. */
  timeZone: string;
  /** Local "HH:MM" submission deadlines, ascending; a payout must be submitted strictly before one. [] = continuous on business days. */
  cutoffs: string[];
  /** Instant rail running 24/7/365: no calendar, no cut-off, arrival on the local date of submission. */
  alwaysOn: boolean;
  /** Business days (rail calendar) from execution to arrival. */
  settlementDays: number;
  /** Largest single payment the rail (scheme) takes, minor units; null = no scheme limit. */
  maxAmountMinor: bigint | null;
  fileFormat: RailFileFormat;
}

const HHMM_RE = /^([01]\d|2[0-3]):([0-5]\d)$/;
const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------------------------
// Time-zone arithmetic on Intl only.

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClock(instantMs: number, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const p of formatterFor(timeZone).formatToParts(new Date(instantMs))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year ?? NaN,
    month: parts.month ?? NaN,
    day: parts.day ?? NaN,
    hour: (parts.hour ?? NaN) % 24,
    minute: parts.minute ?? NaN,
    second: parts.second ?? NaN,
  };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** The civil date (YYYY-MM-DD) of an instant in a zone. */
export function localDate(at: Date, timeZone: string): string {
  const w = wallClock(at.getTime(), timeZone);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
}

/** UTC offset (ms) of a zone at an instant. */
function offsetMs(instantMs: number, timeZone: string): number {
  const whole = Math.floor(instantMs / 1000) * 1000;
  const w = wallClock(whole, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - whole;
}

/**
 * The instant at which the wall clock in `timeZone` shows `isoDate` `hhmm`. For a wall time in a
 * DST gap the instant after the gap is returned; for an ambiguous one, the earlier. (Rail
 * cut-offs are afternoon times, far from any transition.)
 */
export function zonedTimeToInstant(isoDate: string, hhmm: string, timeZone: string): Date {
  const dm = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  const tm = HHMM_RE.exec(hhmm);
  if (!dm || !tm) throw new RangeError(`bad local date/time: ${isoDate} ${hhmm}`);
  const asUtc = Date.UTC(Number(dm[1]), Number(dm[2]) - 1, Number(dm[3]), Number(tm[1]), Number(tm[2]));
  // Offsets a day either side bracket any single transition; try both and keep those that map back.
  const before = asUtc - offsetMs(asUtc - DAY_MS, timeZone);
  const after = asUtc - offsetMs(asUtc + DAY_MS, timeZone);
  const mapsBack = (t: number) => t + offsetMs(t, timeZone) === asUtc;
  const valid = [before, after].filter(mapsBack);
  // Ambiguous (fall back): the earlier instant. Gap (spring forward): the wall time read with the
  // pre-transition offset, i.e. just after the gap.
  return new Date(valid.length > 0 ? Math.min(...valid) : before);
}

/**
 * Defaults and their sources. Cut-offs are the customer-submission deadlines a bank typically
 * publishes for the scheme; the operator's own bank agreement wins — override them.
 */
const DEFAULT_RAILS: Record<RailId, RailSpec> = {
  // EPC SCT Inst rulebook: 24/7/365, funds available to the payee within 10 s. Scheme maximum
  // EUR 100,000 (2020–2025 rulebooks; the 2025 rulebook drops the scheme maximum under the
  // Instant Payments Regulation (EU) 2024/886 — kept here as OpenRamp's routing threshold,
  // docs/rails.md "SEPA Instant (≤ 100,000)").
  SEPA_INSTANT: {
    id: 'SEPA_INSTANT',
    currency: 'EUR',
    calendar: 'T2',
    timeZone: 'Europe/Berlin',
    cutoffs: [],
    alwaysOn: true,
    settlementDays: 0,
    maxAmountMinor: 10_000_000n,
    fileFormat: 'pain001',
  },
  // EPC SCT rulebook + PSD2 art. 83(1): credited to the payee's PSP by the end of the next
  // business day (D+1) on the T2 calendar. 15:00 CET/CEST: docs/rails.md ("SEPA 15:00 CET"), the usual
  // bank same-day cut-off ahead of the EBA STEP2-T afternoon cycles.
  SEPA_CT: {
    id: 'SEPA_CT',
    currency: 'EUR',
    calendar: 'T2',
    timeZone: 'Europe/Berlin',
    cutoffs: ['15:00'],
    alwaysOn: false,
    settlementDays: 1,
    maxAmountMinor: null,
    fileFormat: 'pain001',
  },
  // Nacha Operating Rules: next-day ACH credit settles one banking day after the effective
  // (execution) date. 17:00 ET: docs/rails.md ("ACH 17:00 ET"), a typical ODFI deadline (FedACH's own
  // last next-day deadline is 02:15 ET the following morning).
  ACH: {
    id: 'ACH',
    currency: 'USD',
    calendar: 'FED',
    timeZone: 'America/New_York',
    cutoffs: ['17:00'],
    alwaysOn: false,
    settlementDays: 1,
    maxAmountMinor: null,
    fileFormat: 'nacha',
  },
  // Nacha Same Day ACH / FedACH same-day windows: submission 10:30 ET (settles 13:00) and
  // 14:45 ET (settles 17:00); a third window (16:45 ET, settles 18:00, since 19 Mar 2021) exists
  // at FedACH but most ODFIs do not offer it to originators — add '16:45' if yours does.
  // Per-payment limit USD 1,000,000 (Nacha, since 18 Mar 2022).
  ACH_SAME_DAY: {
    id: 'ACH_SAME_DAY',
    currency: 'USD',
    calendar: 'FED',
    timeZone: 'America/New_York',
    cutoffs: ['10:30', '14:45'],
    alwaysOn: false,
    settlementDays: 0,
    maxAmountMinor: 100_000_000n,
    fileFormat: 'nacha',
  },
  // Fedwire Funds Service: operating day ends 19:00 ET, third-party (customer) transfers cut off
  // 18:00 ET; real-time gross settlement, same day. Banks take wires as pain.001 (a NACHA file
  // cannot carry a wire).
  WIRE: {
    id: 'WIRE',
    currency: 'USD',
    calendar: 'FED',
    timeZone: 'America/New_York',
    cutoffs: ['18:00'],
    alwaysOn: false,
    settlementDays: 0,
    maxAmountMinor: null,
    fileFormat: 'pain001',
  },
  // Pay.UK Faster Payments: 24/7/365, scheme transaction limit GBP 1,000,000.
  FPS: {
    id: 'FPS',
    currency: 'GBP',
    calendar: 'UK',
    timeZone: 'Europe/London',
    cutoffs: [],
    alwaysOn: true,
    settlementDays: 0,
    maxAmountMinor: 100_000_000n,
    fileFormat: 'pain001',
  },
  // Bank of England RTGS/CHAPS operating day: CHAPS customer payments cut-off 17:40 London
  // (bank-to-bank 18:00); same-day settlement; no scheme maximum.
  CHAPS: {
    id: 'CHAPS',
    currency: 'GBP',
    calendar: 'UK',
    timeZone: 'Europe/London',
    cutoffs: ['17:40'],
    alwaysOn: false,
    settlementDays: 0,
    maxAmountMinor: null,
    fileFormat: 'pain001',
  },
  // Payments Canada ACSS AFT (CPA-005 files): credits value-dated the next business day;
  // 16:00 Toronto is a typical FI file cut-off for next-day value (bank-specific — override).
  EFT: {
    id: 'EFT',
    currency: 'CAD',
    calendar: 'CA',
    timeZone: 'America/Toronto',
    cutoffs: ['16:00'],
    alwaysOn: false,
    settlementDays: 1,
    maxAmountMinor: null,
    fileFormat: 'cpa005',
  },
  // NPP (Australian Payments Plus): 24/7/365, settled one by one in the RITS Fast Settlement
  // Service; limits are set by each bank, not the scheme. The spec's AUD file is ABA.
  NPP: {
    id: 'NPP',
    currency: 'AUD',
    calendar: 'AU',
    timeZone: 'Australia/Sydney',
    cutoffs: [],
    alwaysOn: true,
    settlementDays: 0,
    maxAmountMinor: null,
    fileFormat: 'aba',
  },
  // AusPayNet BECS (Direct Entry, ABA/Cemtex files): 16:00 Sydney is a typical bank cut-off for
  // the day's last exchange; funds reach the payee next business day (RITS calendar).
  BECS: {
    id: 'BECS',
    currency: 'AUD',
    calendar: 'AU',
    timeZone: 'Australia/Sydney',
    cutoffs: ['16:00'],
    alwaysOn: false,
    settlementDays: 1,
    maxAmountMinor: null,
    fileFormat: 'aba',
  },
  // ABS FAST: 24/7/365, per-transaction limit SGD 200,000.
  FAST: {
    id: 'FAST',
    currency: 'SGD',
    calendar: 'SG',
    timeZone: 'Asia/Singapore',
    cutoffs: [],
    alwaysOn: true,
    settlementDays: 0,
    maxAmountMinor: 20_000_000n,
    fileFormat: 'pain001',
  },
  // MAS MEPS+ (RTGS): 17:00 Singapore customer cut-off, same-day settlement.
  MEPS: {
    id: 'MEPS',
    currency: 'SGD',
    calendar: 'SG',
    timeZone: 'Asia/Singapore',
    cutoffs: ['17:00'],
    alwaysOn: false,
    settlementDays: 0,
    maxAmountMinor: null,
    fileFormat: 'pain001',
  },
};

/** Checks a rail spec (zone exists, cut-offs well-formed and ascending, numbers sane). */
export function validateRail(spec: RailSpec): void {
  const where = `rail ${spec.id}`;
  formatterFor(spec.timeZone); // throws RangeError on an unknown zone
  let prev = -1;
  for (const c of spec.cutoffs) {
    const m = HHMM_RE.exec(c);
    if (!m) throw new RangeError(`${where}: cut-off ${JSON.stringify(c)} is not HH:MM`);
    const mins = Number(m[1]) * 60 + Number(m[2]);
    if (mins <= prev) throw new RangeError(`${where}: cut-offs must be strictly ascending`);
    prev = mins;
  }
  if (spec.alwaysOn && spec.cutoffs.length > 0) throw new RangeError(`${where}: an always-on rail has no cut-offs`);
  if (!Number.isSafeInteger(spec.settlementDays) || spec.settlementDays < 0)
    throw new RangeError(`${where}: settlementDays must be a non-negative integer`);
  if (spec.maxAmountMinor !== null && spec.maxAmountMinor <= 0n) throw new RangeError(`${where}: maxAmountMinor must be positive or null`);
}

function freezeRail(spec: RailSpec): RailSpec {
  validateRail(spec);
  return Object.freeze({ ...spec, cutoffs: Object.freeze([...spec.cutoffs]) as string[] });
}

function freezeTable(table: Record<RailId, RailSpec>): Record<RailId, RailSpec> {
  const out = {} as Record<RailId, RailSpec>;
  for (const id of RAIL_IDS) {
    const spec = table[id];
    if (spec.id !== id) throw new RangeError(`rail table entry ${id} has id ${spec.id}`);
    out[id] = freezeRail(spec);
  }
  return Object.freeze(out);
}

/** The default rail table (frozen). */
export const RAILS: Record<RailId, RailSpec> = freezeTable(DEFAULT_RAILS);

/** A new (validated, frozen) table: `base` with per-rail field overrides, e.g. an operator's own bank cut-offs. */
export function withRailOverrides(
  overrides: Partial<Record<RailId, Partial<Omit<RailSpec, 'id'>>>>,
  base: Record<RailId, RailSpec> = RAILS,
): Record<RailId, RailSpec> {
  const merged = {} as Record<RailId, RailSpec>;
  for (const id of RAIL_IDS) merged[id] = { ...base[id], ...overrides[id], id };
  return freezeTable(merged);
}

// ---------------------------------------------------------------------------------------------
// Choice and dating

export interface ChooseRailOptions {
  /** USD above this goes by wire. Default USD 1,000,000.00 (100_000_000 minor). */
  wireThresholdMinor?: bigint;
  /** AUD: use BECS Direct Entry (batch) instead of NPP. Default false (NPP; BECS is the fallback). */
  preferBatch?: boolean;
  /** Rail table to choose from (operator overrides). Default `RAILS`. */
  rails?: Record<RailId, RailSpec>;
}

export const DEFAULT_WIRE_THRESHOLD_MINOR = 100_000_000n;

const withinMax = (spec: RailSpec, amountMinor: bigint) => spec.maxAmountMinor === null || amountMinor <= spec.maxAmountMinor;

/**
 * The rail for a payout of `amountMinor` (a `Minor` of `currency`) submitted at `at`:
 * - EUR: SEPA Instant up to its max (100,000.00), else SEPA Credit Transfer.
 * - USD: wire above `wireThresholdMinor` (default 1,000,000.00); otherwise Same Day ACH when
 *   `at` is on a Fed business day before the last same-day window (and within the same-day
 *   limit), else standard (next-day) ACH. A payout created on a weekend/holiday goes standard
 *   ACH: it is executed on the next business day either way.
 * - GBP: Faster Payments up to its limit (1,000,000.00), else CHAPS.
 * - CAD: EFT.
 * - AUD: NPP (24/7); BECS when `preferBatch`.
 * - SGD: FAST up to its limit (200,000.00), else MEPS+.
 */
export function chooseRail<C extends RailCurrency>(
  currency: C,
  amountMinor: Minor<NoInfer<C>> | Unbranded,
  at: Date,
  options: ChooseRailOptions = {},
): RailSpec {
  if (typeof amountMinor !== 'bigint' || amountMinor <= 0n) throw new RangeError('amountMinor must be a positive bigint');
  assertInstant(at);
  const rails = options.rails ?? RAILS;
  switch (currency) {
    case 'EUR':
      return withinMax(rails.SEPA_INSTANT, amountMinor) ? rails.SEPA_INSTANT : rails.SEPA_CT;
    case 'USD': {
      const threshold = options.wireThresholdMinor ?? DEFAULT_WIRE_THRESHOLD_MINOR;
      if (threshold < 0n) throw new RangeError('wireThresholdMinor must be non-negative');
      if (amountMinor > threshold) return rails.WIRE;
      const sameDay = rails.ACH_SAME_DAY;
      if (withinMax(sameDay, amountMinor) && openWindowToday(sameDay, at) !== null) return sameDay;
      return rails.ACH;
    }
    case 'GBP':
      return withinMax(rails.FPS, amountMinor) ? rails.FPS : rails.CHAPS;
    case 'CAD':
      return rails.EFT;
    case 'AUD':
      return options.preferBatch ? rails.BECS : rails.NPP;
    case 'SGD':
      return withinMax(rails.FAST, amountMinor) ? rails.FAST : rails.MEPS;
    default:
      throw new RangeError(`no payout rail for currency ${String(currency)}`);
  }
}

export interface RailSchedule {
  /** Local (rail zone) date the payment is submitted to the rail. */
  executionDate: string;
  /** Local date the payee is expected to be credited. */
  expectedArrivalDate: string;
  /** The cut-off instant the payout is batched against; null for continuous rails. */
  cutoffAt: Date | null;
  /** e.g. '2026-04-07T15:00 Europe/Berlin', or 'continuous'. */
  window: string;
}

function assertInstant(at: Date): void {
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new RangeError('at must be a valid Date');
}

/** The first cut-off today (local) that `at` is strictly before, if today is a business day. */
function openWindowToday(rail: RailSpec, at: Date): { date: string; cutoff: string; cutoffAt: Date } | null {
  const today = localDate(at, rail.timeZone);
  if (!isBusinessDay(rail.calendar, today)) return null;
  for (const cutoff of rail.cutoffs) {
    const cutoffAt = zonedTimeToInstant(today, cutoff, rail.timeZone);
    if (at.getTime() < cutoffAt.getTime()) return { date: today, cutoff, cutoffAt };
  }
  return null;
}

/**
 * Dates a payout on `rail` submitted at `at`.
 * - alwaysOn rails: executed and credited on the local calendar date of `at` (any day).
 * - rails with cut-offs: the first window of the local day that `at` is strictly before (a
 *   payout at exactly 15:00:00.000 has missed a 15:00 cut-off); if none is left, or the local day
 *   is not a business day, the first window of the next business day.
 * - rails with no cut-offs but a calendar: executed on the local day if a business day, else the
 *   next business day.
 * Arrival = execution + settlementDays business days of the rail's calendar.
 */
export function schedule(rail: RailSpec, at: Date): RailSchedule {
  assertInstant(at);
  const today = localDate(at, rail.timeZone);
  if (rail.alwaysOn) {
    return { executionDate: today, expectedArrivalDate: today, cutoffAt: null, window: 'continuous' };
  }
  if (rail.cutoffs.length === 0) {
    const executionDate = addBusinessDays(rail.calendar, today, 0);
    return {
      executionDate,
      expectedArrivalDate: addBusinessDays(rail.calendar, executionDate, rail.settlementDays),
      cutoffAt: null,
      window: 'continuous',
    };
  }
  let open = openWindowToday(rail, at);
  if (!open) {
    const date = nextBusinessDay(rail.calendar, today);
    const cutoff = rail.cutoffs[0]!;
    open = { date, cutoff, cutoffAt: zonedTimeToInstant(date, cutoff, rail.timeZone) };
  }
  return {
    executionDate: open.date,
    expectedArrivalDate: addBusinessDays(rail.calendar, open.date, rail.settlementDays),
    cutoffAt: open.cutoffAt,
    window: `${open.date}T${open.cutoff} ${rail.timeZone}`,
  };
}
