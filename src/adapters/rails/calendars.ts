/**
 * Business-day calendars of the payout rails (docs/rails.md). A rail calendar is the set of days its
 * settlement system is closed — NOT the country's public holidays: the Fed is open on the Friday
 * before a Saturday holiday, Payments Canada is open on Civic Holiday and Easter Monday, RITS
 * ignores state-only holidays, T2 has six closing days and no substitutes.
 *
 * Everything is computed by rule. Dated lists exist only where the day is truly ad hoc (a state
 * funeral, a royal jubilee) or follows a lunar / religious calendar that a government gazettes
 * year by year (Singapore); each list names its source.
 *
 * Dates are ISO `YYYY-MM-DD` strings for the civil date in the rail's own time zone; this module
 * never looks at a clock or a time zone (`rails.ts` turns instants into local dates).
 *
 * `holidaysOf` lists the *closure days that would otherwise be business days* (Mon–Fri): a
 * holiday that falls on a weekend and is not moved (Fed 4 Jul 2026, a Saturday) does not appear,
 * a substitute day does (UK 28 Dec 2026 for Boxing Day on the Saturday).
 */

export type CalendarId = 'T2' | 'FED' | 'UK' | 'CA' | 'AU' | 'SG';
export const CALENDAR_IDS: readonly CalendarId[] = ['T2', 'FED', 'UK', 'CA', 'AU', 'SG'];

export interface Holiday {
  date: string;
  name: string;
  /** Set on dates not yet gazetted by the authority (an estimate to be replaced when published). */
  provisional?: true;
}

/** Thrown for a year a table-driven calendar (SG) has no data for: better loud than a wrong date. */
export class CalendarCoverageError extends RangeError {
  constructor(
    readonly calendar: CalendarId,
    readonly year: number,
    range: { from: number; to: number },
  ) {
    super(`calendar ${calendar} has no holiday data for ${year} (covered: ${range.from}–${range.to}); add the gazetted dates`);
    this.name = 'CalendarCoverageError';
  }
}

export const CALENDAR_INFO: Record<CalendarId, { name: string; source: string }> = {
  T2: {
    name: 'T2 (TARGET2) closing days — SEPA',
    source: 'ECB, "TARGET closing days": Sat, Sun, 1 Jan, Good Friday, Easter Monday, 1 May, 25 Dec, 26 Dec (no substitutes)',
  },
  FED: {
    name: 'Federal Reserve Banks holidays — FedACH, Fedwire',
    source:
      'federalreserve.gov "Holidays Observed by the Federal Reserve System": Sunday holidays observed Monday; on Saturday holidays the Reserve Banks are open the preceding Friday',
  },
  UK: {
    name: 'England & Wales bank holidays — Faster Payments, CHAPS, Bacs',
    source:
      'Banking and Financial Dealings Act 1971 sch. 1 + royal proclamations; GOV.UK https://www.gov.uk/bank-holidays.json (england-and-wales)',
  },
  CA: {
    name: 'Payments Canada (ACSS/Lynx) non-business days — EFT',
    source:
      'Payments Canada holiday schedule; the ten general holidays of the Canada Labour Code s.166 (federally regulated); Bills of Exchange Act s.42',
  },
  AU: {
    name: 'RITS/BECS non-settlement days',
    source:
      'RBA "RITS Business Hours": closed weekends and New Year\'s Day, Australia Day, Good Friday, Easter Monday, Anzac Day, King\'s Birthday, Christmas Day, Boxing Day "where they are observed in NSW and Victoria"',
  },
  SG: {
    name: 'Singapore public holidays — MEPS+ (MAS)',
    source:
      'Holidays Act 1998 (Sunday → next day not itself a public holiday); dates gazetted yearly by the Ministry of Manpower (mom.gov.sg public holidays)',
  },
};

// ---------------------------------------------------------------------------------------------
// ISO date helpers (day numbers = days since 1970-01-01, proleptic Gregorian, UTC-free of zones)

const ISO_DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

function dayNumberOf(iso: string): number {
  const m = ISO_DATE_RE.exec(iso);
  if (!m) throw new RangeError(`not an ISO date (YYYY-MM-DD): ${JSON.stringify(iso)}`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const n = Date.UTC(y, mo - 1, d) / DAY_MS;
  if (mo < 1 || mo > 12 || d < 1 || isoOf(n) !== iso) throw new RangeError(`not a calendar date: ${iso}`);
  return n;
}

function isoOf(dayNumber: number): string {
  return new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
}

function ymd(year: number, month: number, day: number): number {
  return Date.UTC(year, month - 1, day) / DAY_MS;
}

/** 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday). */
function weekdayOf(dayNumber: number): number {
  return (((dayNumber + 4) % 7) + 7) % 7;
}

const isWeekend = (dayNumber: number): boolean => {
  const w = weekdayOf(dayNumber);
  return w === 0 || w === 6;
};

const MON = 1;
const THU = 4;

/** The n-th (1-based) given weekday of a month. */
function nthWeekday(year: number, month: number, weekday: number, n: number): number {
  const first = ymd(year, month, 1);
  return first + ((weekday - weekdayOf(first) + 7) % 7) + (n - 1) * 7;
}

/** The last given weekday of a month. */
function lastWeekday(year: number, month: number, weekday: number): number {
  const last = ymd(year, month + 1, 1) - 1;
  return last - ((weekdayOf(last) - weekday + 7) % 7);
}

/** The last given weekday on or before a date. */
function weekdayOnOrBefore(dayNumber: number, weekday: number): number {
  return dayNumber - ((weekdayOf(dayNumber) - weekday + 7) % 7);
}

/**
 * Gregorian Easter Sunday (anonymous Gregorian algorithm, Meeus/Jones/Butcher), as ISO date.
 * Valid for every Gregorian year; Western churches, which is what T2, the UK, Canada, Australia
 * and Singapore (Good Friday) use.
 */
export function easterSunday(year: number): string {
  return isoOf(easterDay(year));
}

function easterDay(year: number): number {
  if (!Number.isInteger(year) || year < 1583 || year > 9999) throw new RangeError(`year out of range: ${year}`);
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return ymd(year, month, day);
}

// ---------------------------------------------------------------------------------------------
// Raw holidays per calendar, then a weekend-substitution pass.

/**
 * How a holiday that falls on a weekend is handled:
 * - `none`: not moved (T2; Good Friday; Anzac Day in NSW/Vic).
 * - `nextFreeWeekday`: Sat or Sun → the next Mon–Fri that is not already a holiday (UK, CA, AU
 *   substitute days; Christmas on Sat + Boxing Day on Sun → Mon 27 + Tue 28).
 * - `fed`: Sun → Mon; Sat → not moved (the Reserve Banks open on the Friday before).
 * - `sgSunday`: Sun → the next day that is not itself a public holiday (Holidays Act 1998);
 *   Sat → not moved.
 */
type Substitution = 'none' | 'nextFreeWeekday' | 'fed' | 'sgSunday';

interface RawHoliday {
  day: number;
  name: string;
  sub: Substitution;
  provisional?: true;
}

function raw(day: number, name: string, sub: Substitution, provisional?: true): RawHoliday {
  return provisional ? { day, name, sub, provisional } : { day, name, sub };
}

function fromIso(e: Holiday, sub: Substitution): RawHoliday {
  return raw(dayNumberOf(e.date), e.name, sub, e.provisional);
}

function t2Raw(year: number): RawHoliday[] {
  const easter = easterDay(year);
  return [
    raw(ymd(year, 1, 1), "New Year's Day", 'none'),
    raw(easter - 2, 'Good Friday', 'none'),
    raw(easter + 1, 'Easter Monday', 'none'),
    raw(ymd(year, 5, 1), 'Labour Day', 'none'),
    raw(ymd(year, 12, 25), 'Christmas Day', 'none'),
    raw(ymd(year, 12, 26), 'Christmas Holiday', 'none'),
  ];
}

/**
 * Federal Reserve holidays (12 U.S.C. / 5 U.S.C. 6103 list as the Fed observes it). Juneteenth:
 * the Reserve Banks first closed for it in 2022 (20 Jun 2022, observed); on 18 Jun 2021 — the
 * day after the law was signed — FedACH and Fedwire operated normally.
 * Ad hoc: none. National days of mourning (5 Dec 2018, 9 Jan 2025) closed the markets but the
 * Reserve Banks' payment services operated; add a dated entry here if the Fed ever closes.
 */
function fedRaw(year: number): RawHoliday[] {
  const out = [
    raw(ymd(year, 1, 1), "New Year's Day", 'fed'),
    raw(nthWeekday(year, 1, MON, 3), 'Birthday of Martin Luther King, Jr.', 'fed'),
    raw(nthWeekday(year, 2, MON, 3), "Washington's Birthday", 'fed'),
    raw(lastWeekday(year, 5, MON), 'Memorial Day', 'fed'),
    raw(ymd(year, 7, 4), 'Independence Day', 'fed'),
    raw(nthWeekday(year, 9, MON, 1), 'Labor Day', 'fed'),
    raw(nthWeekday(year, 10, MON, 2), 'Columbus Day', 'fed'),
    raw(ymd(year, 11, 11), 'Veterans Day', 'fed'),
    raw(nthWeekday(year, 11, THU, 4), 'Thanksgiving Day', 'fed'),
    raw(ymd(year, 12, 25), 'Christmas Day', 'fed'),
  ];
  if (year >= 2022) out.push(raw(ymd(year, 6, 19), 'Juneteenth National Independence Day', 'fed'));
  return out;
}

interface AdHocChange {
  /** Rule-generated holiday dates that did not happen that year (moved by proclamation). */
  remove?: string[];
  add: Holiday[];
  source: string;
}

/**
 * England & Wales: changes to the rule-based list made by royal proclamation. Source: GOV.UK
 * bank-holidays.json (england-and-wales) and the proclamations it reflects.
 */
const UK_AD_HOC: Record<number, AdHocChange> = {
  2002: {
    remove: ['2002-05-27'],
    add: [
      { date: '2002-06-03', name: 'Golden Jubilee bank holiday' },
      { date: '2002-06-04', name: 'Spring bank holiday' },
    ],
    source: 'Golden Jubilee of Elizabeth II: Spring bank holiday moved from 27 May to 4 Jun; extra holiday 3 Jun',
  },
  2011: {
    add: [{ date: '2011-04-29', name: 'Wedding of Prince William and Catherine Middleton' }],
    source: 'Royal Wedding bank holiday, 29 Apr 2011',
  },
  2012: {
    remove: ['2012-05-28'],
    add: [
      { date: '2012-06-04', name: 'Spring bank holiday' },
      { date: '2012-06-05', name: 'Diamond Jubilee bank holiday' },
    ],
    source: 'Diamond Jubilee of Elizabeth II: Spring bank holiday moved from 28 May to 4 Jun; extra holiday 5 Jun',
  },
  2020: {
    remove: ['2020-05-04'],
    add: [{ date: '2020-05-08', name: 'Early May bank holiday (VE day)' }],
    source: '75th anniversary of VE Day: Early May bank holiday moved from Mon 4 May to Fri 8 May 2020',
  },
  2022: {
    remove: ['2022-05-30'],
    add: [
      { date: '2022-06-02', name: 'Spring bank holiday' },
      { date: '2022-06-03', name: 'Bank holiday for the Platinum Jubilee' },
      { date: '2022-09-19', name: 'Bank Holiday for the State Funeral of Queen Elizabeth II' },
    ],
    source: 'Platinum Jubilee: Spring bank holiday moved from 30 May to Thu 2 Jun, extra holiday Fri 3 Jun; State Funeral 19 Sep 2022',
  },
  2023: {
    add: [{ date: '2023-05-08', name: 'Bank holiday for the coronation of King Charles III' }],
    source: 'Coronation of King Charles III, Mon 8 May 2023 (Early May bank holiday on 1 May unchanged)',
  },
};

function ukRaw(year: number): RawHoliday[] {
  const easter = easterDay(year);
  let out = [
    raw(ymd(year, 1, 1), "New Year's Day", 'nextFreeWeekday'),
    raw(easter - 2, 'Good Friday', 'none'),
    raw(easter + 1, 'Easter Monday', 'none'),
    raw(nthWeekday(year, 5, MON, 1), 'Early May bank holiday', 'none'),
    raw(lastWeekday(year, 5, MON), 'Spring bank holiday', 'none'),
    raw(lastWeekday(year, 8, MON), 'Summer bank holiday', 'none'),
    raw(ymd(year, 12, 25), 'Christmas Day', 'nextFreeWeekday'),
    raw(ymd(year, 12, 26), 'Boxing Day', 'nextFreeWeekday'),
  ];
  const change = UK_AD_HOC[year];
  if (change) {
    const removed = new Set((change.remove ?? []).map(dayNumberOf));
    out = out.filter((h) => !removed.has(h.day));
    out.push(...change.add.map((h) => fromIso(h, 'none')));
  }
  return out;
}

/**
 * Payments Canada (ACSS/Lynx, hence AFT/EFT) non-business days. Choices, with the evidence:
 * - The ten general holidays of the Canada Labour Code (banks and Payments Canada are federally
 *   regulated): New Year's, Good Friday, Victoria Day, Canada Day, Labour Day, National Day for
 *   Truth and Reconciliation, Thanksgiving, Remembrance Day, Christmas, Boxing Day.
 * - Civic Holiday (1st Mon Aug) is NOT a closure: it is provincial, not in the Labour Code list;
 *   bank AFT schedules treat it (like Family Day, Saint-Jean-Baptiste, Easter Monday) as a
 *   regional holiday with files processed as usual.
 * - National Day for Truth and Reconciliation (30 Sep): closed every year from 2021 — Payments
 *   Canada announced its systems close "on this first day [30 Sep 2021] and every year from
 *   then" (paiements.ca news 1071); in 2023 (a Saturday) it was observed Mon 2 Oct.
 * - Weekend holidays move to the next free weekday (2023: Canada Day → 3 Jul, NDTR → 2 Oct,
 *   Remembrance Day → 13 Nov; 2021: Christmas → 27 Dec, Boxing Day → 28 Dec).
 * - Ad hoc: none. The 19 Sep 2022 federal day of mourning was NOT a closure (Payments Canada
 *   confirmed its systems ran; CBA: banks open).
 */
function caRaw(year: number): RawHoliday[] {
  const easter = easterDay(year);
  const out = [
    raw(ymd(year, 1, 1), "New Year's Day", 'nextFreeWeekday'),
    raw(easter - 2, 'Good Friday', 'none'),
    // Monday preceding 25 May = the Monday in 18–24 May.
    raw(weekdayOnOrBefore(ymd(year, 5, 24), MON), 'Victoria Day', 'none'),
    raw(ymd(year, 7, 1), 'Canada Day', 'nextFreeWeekday'),
    raw(nthWeekday(year, 9, MON, 1), 'Labour Day', 'none'),
    raw(nthWeekday(year, 10, MON, 2), 'Thanksgiving Day', 'none'),
    raw(ymd(year, 11, 11), 'Remembrance Day', 'nextFreeWeekday'),
    raw(ymd(year, 12, 25), 'Christmas Day', 'nextFreeWeekday'),
    raw(ymd(year, 12, 26), 'Boxing Day', 'nextFreeWeekday'),
  ];
  if (year >= 2021) out.push(raw(ymd(year, 9, 30), 'National Day for Truth and Reconciliation', 'nextFreeWeekday'));
  return out;
}

/**
 * RITS (BECS settlement) closing days, "where they are observed in NSW and Victoria":
 * - New Year's Day, Australia Day, Christmas, Boxing Day: weekend → next free weekday
 *   (additional/substitute days under the NSW Public Holidays Act 2010 and Vic Public Holidays
 *   Act 1993).
 * - Anzac Day: NOT substituted — neither NSW nor Victoria adds a weekday when 25 Apr falls on a
 *   weekend (e.g. Sun 25 Apr 2027: RITS open Mon 26 Apr, even though ACT/WA take that Monday).
 * - King's (Queen's before 2023) Birthday: 2nd Monday of June (the NSW/Vic date; WA and Qld
 *   differ but are not RITS closures).
 * - Ad hoc: 22 Sep 2022 National Day of Mourning for Queen Elizabeth II (a national public
 *   holiday; RITS was closed for non-NPP settlement).
 * NPP runs 24/7/365 through the RITS Fast Settlement Service: that is a rail property, not a
 * calendar (see `alwaysOn` in rails.ts).
 */
function auRaw(year: number): RawHoliday[] {
  const easter = easterDay(year);
  const out = [
    raw(ymd(year, 1, 1), "New Year's Day", 'nextFreeWeekday'),
    raw(ymd(year, 1, 26), 'Australia Day', 'nextFreeWeekday'),
    raw(easter - 2, 'Good Friday', 'none'),
    raw(easter + 1, 'Easter Monday', 'none'),
    raw(ymd(year, 4, 25), 'Anzac Day', 'none'),
    raw(nthWeekday(year, 6, MON, 2), year >= 2023 ? "King's Birthday" : "Queen's Birthday", 'none'),
    raw(ymd(year, 12, 25), 'Christmas Day', 'nextFreeWeekday'),
    raw(ymd(year, 12, 26), 'Boxing Day', 'nextFreeWeekday'),
  ];
  if (year === 2022) out.push(raw(ymd(2022, 9, 22), 'National Day of Mourning for Queen Elizabeth II', 'none'));
  return out;
}

/**
 * Singapore: the moveable (lunar / Islamic / Hindu) public holidays and ad hoc ones (polling
 * days), as gazetted by the Ministry of Manpower. Fixed-date ones and Good Friday are by rule.
 *
 * Sources: MOM public holiday lists 2020–2026 (press releases; 2022 Hari Raya dates as revised
 * 21 Oct 2021 after MUIS; 2023 Vesak as revised 29 Sep 2022 to 2 Jun). Polling days are public
 * holidays under Parliamentary/Presidential Elections Acts s.35 (10 Jul 2020, 1 Sep 2023,
 * 3 May 2025).
 *
 * Chinese New Year 2024–2030 is fixed by astronomy (first day = the day of the new moon in
 * Beijing time, Hong Kong Observatory / Purple Mountain Observatory tables): do NOT derive it
 * from ICU's `chinese` calendar — Intl gives 2027-02-07 and 2030-02-02, a day off in both years
 * because the new moon falls within minutes of Beijing midnight (6 Feb 2027 23:56, 3 Feb 2030
 * 00:07).
 *
 * 2027–2030 Hari Raya Puasa / Hari Raya Haji / Vesak / Deepavali are ESTIMATES (`provisional`):
 * MOM publishes each year around June of the year before (2027 list: MOM press release
 * 18 Jun 2026, not verified here). Estimates: Hari Raya from the tabular Islamic calendar, which
 * matched MUIS's dates in 2022–2025 except 2026 Puasa (a day later); Vesak = 15th day of the 4th
 * Chinese month; Deepavali = the day before the Kartika new moon in Indian time (matched
 * 2022–2026). Replace with the gazetted dates when published.
 */
const SG_COVERAGE = { from: 2020, to: 2030 } as const;
const SG_DATED: readonly Holiday[] = [
  // 2020
  { date: '2020-01-25', name: 'Chinese New Year' },
  { date: '2020-01-26', name: 'Chinese New Year (second day)' },
  { date: '2020-05-07', name: 'Vesak Day' },
  { date: '2020-05-24', name: 'Hari Raya Puasa' },
  { date: '2020-07-10', name: 'Polling Day (General Election)' },
  { date: '2020-07-31', name: 'Hari Raya Haji' },
  { date: '2020-11-14', name: 'Deepavali' },
  // 2021
  { date: '2021-02-12', name: 'Chinese New Year' },
  { date: '2021-02-13', name: 'Chinese New Year (second day)' },
  { date: '2021-05-13', name: 'Hari Raya Puasa' },
  { date: '2021-05-26', name: 'Vesak Day' },
  { date: '2021-07-20', name: 'Hari Raya Haji' },
  { date: '2021-11-04', name: 'Deepavali' },
  // 2022
  { date: '2022-02-01', name: 'Chinese New Year' },
  { date: '2022-02-02', name: 'Chinese New Year (second day)' },
  { date: '2022-05-03', name: 'Hari Raya Puasa' },
  { date: '2022-05-15', name: 'Vesak Day' },
  { date: '2022-07-10', name: 'Hari Raya Haji' },
  { date: '2022-10-24', name: 'Deepavali' },
  // 2023
  { date: '2023-01-22', name: 'Chinese New Year' },
  { date: '2023-01-23', name: 'Chinese New Year (second day)' },
  { date: '2023-04-22', name: 'Hari Raya Puasa' },
  { date: '2023-06-02', name: 'Vesak Day' },
  { date: '2023-06-29', name: 'Hari Raya Haji' },
  { date: '2023-09-01', name: 'Polling Day (Presidential Election)' },
  { date: '2023-11-12', name: 'Deepavali' },
  // 2024
  { date: '2024-02-10', name: 'Chinese New Year' },
  { date: '2024-02-11', name: 'Chinese New Year (second day)' },
  { date: '2024-04-10', name: 'Hari Raya Puasa' },
  { date: '2024-05-22', name: 'Vesak Day' },
  { date: '2024-06-17', name: 'Hari Raya Haji' },
  { date: '2024-10-31', name: 'Deepavali' },
  // 2025
  { date: '2025-01-29', name: 'Chinese New Year' },
  { date: '2025-01-30', name: 'Chinese New Year (second day)' },
  { date: '2025-03-31', name: 'Hari Raya Puasa' },
  { date: '2025-05-03', name: 'Polling Day (General Election)' },
  { date: '2025-05-12', name: 'Vesak Day' },
  { date: '2025-06-07', name: 'Hari Raya Haji' },
  { date: '2025-10-20', name: 'Deepavali' },
  // 2026 (MOM, 16 Jun 2025)
  { date: '2026-02-17', name: 'Chinese New Year' },
  { date: '2026-02-18', name: 'Chinese New Year (second day)' },
  { date: '2026-03-21', name: 'Hari Raya Puasa' },
  { date: '2026-05-27', name: 'Hari Raya Haji' },
  { date: '2026-05-31', name: 'Vesak Day' },
  { date: '2026-11-08', name: 'Deepavali' },
  // 2027
  { date: '2027-02-06', name: 'Chinese New Year' },
  { date: '2027-02-07', name: 'Chinese New Year (second day)' },
  { date: '2027-03-10', name: 'Hari Raya Puasa', provisional: true },
  { date: '2027-05-17', name: 'Hari Raya Haji', provisional: true },
  { date: '2027-05-20', name: 'Vesak Day', provisional: true },
  { date: '2027-10-28', name: 'Deepavali', provisional: true },
  // 2028
  { date: '2028-01-26', name: 'Chinese New Year' },
  { date: '2028-01-27', name: 'Chinese New Year (second day)' },
  { date: '2028-02-27', name: 'Hari Raya Puasa', provisional: true },
  { date: '2028-05-05', name: 'Hari Raya Haji', provisional: true },
  { date: '2028-05-09', name: 'Vesak Day', provisional: true },
  { date: '2028-10-17', name: 'Deepavali', provisional: true },
  // 2029
  { date: '2029-02-13', name: 'Chinese New Year' },
  { date: '2029-02-14', name: 'Chinese New Year (second day)' },
  { date: '2029-02-15', name: 'Hari Raya Puasa', provisional: true },
  { date: '2029-04-24', name: 'Hari Raya Haji', provisional: true },
  { date: '2029-05-27', name: 'Vesak Day', provisional: true },
  { date: '2029-11-05', name: 'Deepavali', provisional: true },
  // 2030
  { date: '2030-02-03', name: 'Chinese New Year' },
  { date: '2030-02-04', name: 'Chinese New Year (second day)' },
  { date: '2030-02-05', name: 'Hari Raya Puasa', provisional: true },
  { date: '2030-04-14', name: 'Hari Raya Haji', provisional: true },
  { date: '2030-05-16', name: 'Vesak Day', provisional: true },
  { date: '2030-10-25', name: 'Deepavali', provisional: true },
];

function sgRaw(year: number): RawHoliday[] {
  if (year < SG_COVERAGE.from || year > SG_COVERAGE.to) throw new CalendarCoverageError('SG', year, SG_COVERAGE);
  const easter = easterDay(year);
  const out = [
    raw(ymd(year, 1, 1), "New Year's Day", 'sgSunday'),
    raw(easter - 2, 'Good Friday', 'sgSunday'),
    raw(ymd(year, 5, 1), 'Labour Day', 'sgSunday'),
    raw(ymd(year, 8, 9), 'National Day', 'sgSunday'),
    raw(ymd(year, 12, 25), 'Christmas Day', 'sgSunday'),
  ];
  const prefix = `${year}-`;
  for (const h of SG_DATED) if (h.date.startsWith(prefix)) out.push(fromIso(h, 'sgSunday'));
  return out;
}

/** The years a table-driven calendar covers (null: computed by rule for any year). */
export function coverageOf(cal: CalendarId): { from: number; to: number } | null {
  return cal === 'SG' ? { ...SG_COVERAGE } : null;
}

const RAW: Record<CalendarId, (year: number) => RawHoliday[]> = {
  T2: t2Raw,
  FED: fedRaw,
  UK: ukRaw,
  CA: caRaw,
  AU: auRaw,
  SG: sgRaw,
};

/** Apply the substitution rules; returns closure days on weekdays, sorted. */
function closures(list: RawHoliday[]): Holiday[] {
  const sorted = [...list].sort((a, b) => a.day - b.day);
  // A day "is a holiday" for substitution purposes if any raw holiday or earlier substitute is on it.
  const taken = new Set(sorted.map((h) => h.day));
  const out = new Map<number, Holiday>();
  const put = (day: number, name: string, provisional?: true) => {
    if (isWeekend(day)) return;
    const prev = out.get(day);
    const entry: Holiday = { date: isoOf(day), name: prev ? `${prev.name} / ${name}` : name };
    if (provisional || prev?.provisional) entry.provisional = true;
    out.set(day, entry);
  };
  for (const h of sorted) {
    put(h.day, h.name, h.provisional);
    const w = weekdayOf(h.day);
    let sub: number | null = null;
    if (h.sub === 'nextFreeWeekday' && (w === 0 || w === 6)) {
      sub = h.day + 1;
      while (isWeekend(sub) || taken.has(sub)) sub++;
    } else if (h.sub === 'fed' && w === 0) {
      sub = h.day + 1; // Sunday → Monday (no two Fed holidays are adjacent)
    } else if (h.sub === 'sgSunday' && w === 0) {
      sub = h.day + 1;
      while (taken.has(sub)) sub++;
    }
    if (sub !== null) {
      taken.add(sub);
      put(sub, `${h.name} (${h.sub === 'fed' ? 'observed' : 'substitute day'})`, h.provisional);
    }
  }
  return [...out.entries()].sort((a, b) => a[0] - b[0]).map(([, h]) => h);
}

const cache = new Map<string, { list: Holiday[]; days: Set<string> }>();

function yearData(cal: CalendarId, year: number): { list: Holiday[]; days: Set<string> } {
  const key = `${cal}:${year}`;
  let hit = cache.get(key);
  if (!hit) {
    const make = RAW[cal];
    if (!make) throw new RangeError(`unknown calendar: ${String(cal)}`);
    const list = closures(make(year));
    hit = { list, days: new Set(list.map((h) => h.date)) };
    cache.set(key, hit);
  }
  return hit;
}

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * Closure days of `cal` in `year` that fall Monday–Friday (observed / substitute days included,
 * unmoved weekend holidays excluded), sorted by date. Returns fresh copies.
 */
export function holidaysOf(cal: CalendarId, year: number): Holiday[] {
  if (!Number.isInteger(year)) throw new RangeError(`year must be an integer: ${year}`);
  return yearData(cal, year).list.map((h) => ({ ...h }));
}

export function isBusinessDay(cal: CalendarId, isoDate: string): boolean {
  const n = dayNumberOf(isoDate);
  if (isWeekend(n)) {
    // Still validate the calendar id / coverage so a bad input never passes silently.
    yearData(cal, Number(isoDate.slice(0, 4)));
    return false;
  }
  return !yearData(cal, Number(isoDate.slice(0, 4))).days.has(isoDate);
}

/** The first business day strictly after `isoDate`. */
export function nextBusinessDay(cal: CalendarId, isoDate: string): string {
  let n = dayNumberOf(isoDate) + 1;
  // No calendar here closes more than a handful of consecutive days; the bound catches a bad table.
  for (let i = 0; i < 31; i++, n++) {
    const iso = isoOf(n);
    if (isBusinessDay(cal, iso)) return iso;
  }
  throw new Error(`calendar ${cal}: no business day within 31 days after ${isoDate}`);
}

/** The last business day strictly before `isoDate`. */
export function previousBusinessDay(cal: CalendarId, isoDate: string): string {
  let n = dayNumberOf(isoDate) - 1;
  for (let i = 0; i < 31; i++, n--) {
    const iso = isoOf(n);
    if (isBusinessDay(cal, iso)) return iso;
  }
  throw new Error(`calendar ${cal}: no business day within 31 days before ${isoDate}`);
}

/**
 * `n` business days after `isoDate` (n > 0), before it (n < 0), or — for n = 0 — `isoDate`
 * itself if it is a business day, else the next business day (roll forward). `isoDate` need not
 * be a business day: addBusinessDays(cal, Saturday, 1) is the first business day after it.
 */
export function addBusinessDays(cal: CalendarId, isoDate: string, n: number): string {
  if (!Number.isSafeInteger(n)) throw new RangeError(`n must be an integer: ${n}`);
  if (n === 0) return isBusinessDay(cal, isoDate) ? isoDate : nextBusinessDay(cal, isoDate);
  let d = isoDate;
  if (n > 0) for (let i = 0; i < n; i++) d = nextBusinessDay(cal, d);
  else for (let i = 0; i < -n; i++) d = previousBusinessDay(cal, d);
  return d;
}
