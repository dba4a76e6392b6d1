import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  CALENDAR_IDS,
  CalendarCoverageError,
  addBusinessDays,
  easterSunday,
  holidaysOf,
  isBusinessDay,
  nextBusinessDay,
  previousBusinessDay,
  type CalendarId,
} from '../src/adapters/rails/calendars.ts';
import { RAILS, chooseRail, schedule, withRailOverrides, zonedTimeToInstant, localDate } from '../src/adapters/rails/rails.ts';

const dates = (cal: CalendarId, year: number) => holidaysOf(cal, year).map((h) => h.date);
const at = (iso: string) => new Date(iso);

describe('easterSunday', () => {
  test('known Easter dates', () => {
    assert.equal(easterSunday(2024), '2024-03-31');
    assert.equal(easterSunday(2025), '2025-04-20');
    assert.equal(easterSunday(2026), '2026-04-05');
    assert.equal(easterSunday(2027), '2027-03-28');
    // Extremes of the Gregorian computus: 2008 was the earliest in a century (23 Mar),
    // 2038 hits the latest possible date (25 Apr), 2285 the earliest possible (22 Mar).
    assert.equal(easterSunday(2008), '2008-03-23');
    assert.equal(easterSunday(2038), '2038-04-25');
    assert.equal(easterSunday(2285), '2285-03-22');
  });
  test('rejects non-Gregorian / non-integer years', () => {
    assert.throws(() => easterSunday(1500), RangeError);
    assert.throws(() => easterSunday(2026.5), RangeError);
  });
});

describe('calendar primitives', () => {
  test('nextBusinessDay is strictly after; previousBusinessDay strictly before', () => {
    // Thu 2 Apr 2026 → Fri 3 Good Friday, Sat, Sun, Mon 6 Easter Monday (T2 closed) → Tue 7.
    assert.equal(nextBusinessDay('T2', '2026-04-02'), '2026-04-07');
    assert.equal(previousBusinessDay('T2', '2026-04-07'), '2026-04-02');
    // A business day's next is the following business day, never itself.
    assert.equal(nextBusinessDay('T2', '2026-04-07'), '2026-04-08');
  });
  test('addBusinessDays: n > 0, n < 0, n = 0 rolls forward', () => {
    assert.equal(addBusinessDays('T2', '2026-04-02', 1), '2026-04-07');
    assert.equal(addBusinessDays('T2', '2026-04-02', 2), '2026-04-08');
    assert.equal(addBusinessDays('T2', '2026-04-07', -1), '2026-04-02');
    assert.equal(addBusinessDays('T2', '2026-04-04', 0), '2026-04-07'); // Sat → Tue
    assert.equal(addBusinessDays('T2', '2026-04-07', 0), '2026-04-07');
    assert.equal(addBusinessDays('T2', '2026-04-04', 1), '2026-04-07'); // Sat + 1 = first business day after
  });
  test('rejects malformed and impossible dates', () => {
    for (const bad of ['2026-02-30', '2026-4-1', '2026-13-01', '20260401', '', '2026-04-01T00:00']) {
      assert.throws(() => isBusinessDay('T2', bad), RangeError, bad);
    }
    assert.throws(() => addBusinessDays('T2', '2026-04-01', 1.5), RangeError);
    assert.throws(() => isBusinessDay('XX' as CalendarId, '2026-04-01'), RangeError);
  });
  test('holidaysOf returns copies', () => {
    const list = holidaysOf('UK', 2026);
    list[0]!.date = '1999-01-01';
    list.pop();
    assert.equal(holidaysOf('UK', 2026)[0]!.date, '2026-01-01');
    assert.equal(holidaysOf('UK', 2026).length, 8);
  });
  test('consistency: every listed holiday is a weekday and not a business day; counts add up', () => {
    for (const cal of CALENDAR_IDS) {
      for (let year = 2024; year <= 2030; year++) {
        const hs = holidaysOf(cal, year);
        const sorted = [...hs].map((h) => h.date).sort();
        assert.deepEqual(
          hs.map((h) => h.date),
          sorted,
          `${cal} ${year} sorted`,
        );
        assert.equal(new Set(sorted).size, sorted.length, `${cal} ${year} unique`);
        let business = 0;
        let weekend = 0;
        const start = Date.UTC(year, 0, 1);
        const end = Date.UTC(year + 1, 0, 1);
        for (let t = start; t < end; t += 86_400_000) {
          const d = new Date(t);
          const iso = d.toISOString().slice(0, 10);
          const wd = d.getUTCDay();
          if (wd === 0 || wd === 6) {
            weekend++;
            assert.equal(isBusinessDay(cal, iso), false);
          } else if (isBusinessDay(cal, iso)) business++;
        }
        for (const h of hs) {
          const wd = new Date(`${h.date}T00:00:00Z`).getUTCDay();
          assert.ok(wd >= 1 && wd <= 5, `${cal} ${h.date} is a weekday`);
          assert.equal(isBusinessDay(cal, h.date), false);
        }
        assert.equal(business + weekend + hs.length, (end - start) / 86_400_000, `${cal} ${year}`);
      }
    }
  });
});

describe('T2 / SEPA', () => {
  test('T2 closing days 2026: no substitutes', () => {
    // 2026: 1 Jan Thu, Good Friday 3 Apr, Easter Monday 6 Apr, 1 May Fri, 25 Dec Fri;
    // 26 Dec is a Saturday and T2 never substitutes, so Mon 28 Dec 2026 is open.
    assert.deepEqual(dates('T2', 2026), ['2026-01-01', '2026-04-03', '2026-04-06', '2026-05-01', '2026-12-25']);
    assert.equal(isBusinessDay('T2', '2026-12-28'), true);
  });

  test('SEPA CT after the 15:00 cut-off on the day before Good Friday', () => {
    // Thu 2 Apr 2026 is a T2 business day; Europe/Berlin is on CEST (UTC+2) since 29 Mar, so
    // 16:00 CEST = 14:00Z is past the 15:00 cut-off. Next T2 day: Fri 3 Good Friday (closed),
    // Sat 4, Sun 5, Mon 6 Easter Monday (closed) → execution Tue 7 Apr, 15:00 CEST = 13:00Z;
    // arrival D+1 = Wed 8 Apr.
    const s = schedule(RAILS.SEPA_CT, at('2026-04-02T14:00:00Z'));
    assert.deepEqual(s, {
      executionDate: '2026-04-07',
      expectedArrivalDate: '2026-04-08',
      cutoffAt: at('2026-04-07T13:00:00Z'),
      window: '2026-04-07T15:00 Europe/Berlin',
    });
  });

  test('SEPA CT on Friday 24 Dec 2027 after the cut-off', () => {
    // 24 Dec 2027 is a Friday; Berlin is on CET (UTC+1) so 16:00 CET = 15:00Z is late.
    // Sat 25 (Christmas), Sun 26 (Christmas holiday): T2 closes on 25/26 Dec themselves only, with
    // no substitute, so Mon 27 Dec 2027 is open → execution Mon 27, arrival Tue 28.
    const s = schedule(RAILS.SEPA_CT, at('2027-12-24T15:00:00Z'));
    assert.equal(s.executionDate, '2027-12-27');
    assert.equal(s.expectedArrivalDate, '2027-12-28');
    assert.deepEqual(s.cutoffAt, at('2027-12-27T14:00:00Z'));
    // The England & Wales calendar differs: 27 and 28 Dec 2027 are substitute bank holidays.
    assert.equal(isBusinessDay('T2', '2027-12-27'), true);
    assert.equal(isBusinessDay('UK', '2027-12-27'), false);
    // Before the cut-off the same Friday is the execution day; arrival is Monday 27.
    const early = schedule(RAILS.SEPA_CT, at('2027-12-24T13:59:59Z'));
    assert.equal(early.executionDate, '2027-12-24');
    assert.equal(early.expectedArrivalDate, '2027-12-27');
  });

  test('cut-off boundary in CET and in CEST (spring-forward 29 Mar 2026)', () => {
    // Fri 27 Mar 2026, CET (UTC+1): 15:00 CET = 14:00Z.
    const before = schedule(RAILS.SEPA_CT, at('2026-03-27T13:59:59.999Z'));
    assert.equal(before.executionDate, '2026-03-27');
    assert.deepEqual(before.cutoffAt, at('2026-03-27T14:00:00Z'));
    assert.equal(before.expectedArrivalDate, '2026-03-30');
    // Exactly at the cut-off is late → Mon 30 Mar, now CEST (UTC+2): 15:00 CEST = 13:00Z.
    const onTheDot = schedule(RAILS.SEPA_CT, at('2026-03-27T14:00:00Z'));
    assert.equal(onTheDot.executionDate, '2026-03-30');
    assert.deepEqual(onTheDot.cutoffAt, at('2026-03-30T13:00:00Z'));
    assert.equal(onTheDot.expectedArrivalDate, '2026-03-31');
    // Mon 30 Mar (CEST): 12:59:59Z = 14:59:59 local is in time, 13:00Z is not.
    assert.equal(schedule(RAILS.SEPA_CT, at('2026-03-30T12:59:59Z')).executionDate, '2026-03-30');
    assert.equal(schedule(RAILS.SEPA_CT, at('2026-03-30T13:00:00Z')).executionDate, '2026-03-31');
  });

  test('cut-off boundary after fall-back (25 Oct 2026): CET again', () => {
    // Fri 23 Oct 2026 is still CEST: cut-off 13:00Z. Mon 26 Oct 2026 is CET: cut-off 14:00Z, so
    // 13:30Z (14:30 CET) is in time — it would be late under CEST.
    assert.deepEqual(schedule(RAILS.SEPA_CT, at('2026-10-23T12:00:00Z')).cutoffAt, at('2026-10-23T13:00:00Z'));
    const mon = schedule(RAILS.SEPA_CT, at('2026-10-26T13:30:00Z'));
    assert.equal(mon.executionDate, '2026-10-26');
    assert.deepEqual(mon.cutoffAt, at('2026-10-26T14:00:00Z'));
  });

  test('the local date decides, not the UTC date', () => {
    // 2026-04-01T23:30Z is 01:30 CEST on Thu 2 Apr: in time for Thursday's window.
    const s = schedule(RAILS.SEPA_CT, at('2026-04-01T23:30:00Z'));
    assert.equal(s.executionDate, '2026-04-02');
    assert.equal(s.window, '2026-04-02T15:00 Europe/Berlin');
  });

  test('weekend submission moves to the next business day first window', () => {
    // Sat 4 Apr 2026 → Sun → Mon 6 Easter Monday (closed) → Tue 7.
    const s = schedule(RAILS.SEPA_CT, at('2026-04-04T08:00:00Z'));
    assert.equal(s.executionDate, '2026-04-07');
    assert.equal(s.expectedArrivalDate, '2026-04-08');
  });

  test('SEPA Instant is continuous: same local calendar date, even on Good Friday', () => {
    assert.deepEqual(schedule(RAILS.SEPA_INSTANT, at('2026-04-03T10:00:00Z')), {
      executionDate: '2026-04-03',
      expectedArrivalDate: '2026-04-03',
      cutoffAt: null,
      window: 'continuous',
    });
    // 22:30Z on 3 Apr is 00:30 CEST on Sat 4 Apr.
    assert.equal(schedule(RAILS.SEPA_INSTANT, at('2026-04-03T22:30:00Z')).expectedArrivalDate, '2026-04-04');
  });
});

describe('Federal Reserve (ACH / Fedwire)', () => {
  test('2026 list: Independence Day on Saturday is not moved', () => {
    // MLK 3rd Mon Jan = 19 Jan; Washington 3rd Mon Feb = 16 Feb; Memorial last Mon May = 25 May;
    // Juneteenth Fri 19 Jun; 4 Jul is a Saturday → no weekday closure; Labor 1st Mon Sep = 7 Sep;
    // Columbus 2nd Mon Oct = 12 Oct; Veterans Wed 11 Nov; Thanksgiving 4th Thu Nov = 26 Nov.
    assert.deepEqual(dates('FED', 2026), [
      '2026-01-01',
      '2026-01-19',
      '2026-02-16',
      '2026-05-25',
      '2026-06-19',
      '2026-09-07',
      '2026-10-12',
      '2026-11-11',
      '2026-11-26',
      '2026-12-25',
    ]);
    assert.equal(isBusinessDay('FED', '2026-07-03'), true); // federal offices close, the Fed does not
    assert.equal(isBusinessDay('FED', '2026-07-04'), false);
  });

  test('ACH around 4 July 2026 settles on Friday 3 July', () => {
    // Thu 2 Jul 2026 18:00 EDT (22:00Z) is after the 17:00 ET cut-off → execution Fri 3 Jul
    // (a Fed business day) → next-day settlement skips Sat/Sun → Mon 6 Jul.
    const s = schedule(RAILS.ACH, at('2026-07-02T22:00:00Z'));
    assert.equal(s.executionDate, '2026-07-03');
    assert.equal(s.expectedArrivalDate, '2026-07-06');
    assert.equal(s.window, '2026-07-03T17:00 America/New_York');
    // Submitted in time on Thursday: executes Thu 2, settles Fri 3.
    assert.equal(schedule(RAILS.ACH, at('2026-07-02T20:59:00Z')).expectedArrivalDate, '2026-07-03');
  });

  test('Saturday holidays: Christmas 2027 and New Year 2028 leave the Fridays open', () => {
    assert.equal(isBusinessDay('FED', '2027-12-24'), true);
    assert.equal(isBusinessDay('FED', '2027-12-31'), true);
    assert.equal(isBusinessDay('FED', '2023-11-10'), true); // Veterans Day Sat 11 Nov 2023
    assert.ok(!dates('FED', 2027).includes('2027-12-24'));
  });

  test('Sunday holidays are observed on Monday', () => {
    assert.equal(isBusinessDay('FED', '2023-01-02'), false); // New Year's Day Sun 1 Jan 2023
    assert.equal(isBusinessDay('FED', '2022-06-20'), false); // Juneteenth Sun 19 Jun 2022
    assert.equal(isBusinessDay('FED', '2027-07-05'), false); // Independence Day Sun 4 Jul 2027
  });

  test('Juneteenth only from 2022', () => {
    assert.equal(isBusinessDay('FED', '2021-06-18'), true);
    assert.equal(isBusinessDay('FED', '2025-06-19'), false);
  });
});

describe('England & Wales bank holidays', () => {
  test('2026 exact', () => {
    // Early May: 1 May 2026 is a Friday → first Monday 4 May. Spring: 31 May is a Sunday → last
    // Monday 25 May. Summer: 31 Aug 2026 is a Monday. Boxing Day Sat 26 Dec → Mon 28 Dec.
    assert.deepEqual(dates('UK', 2026), [
      '2026-01-01',
      '2026-04-03',
      '2026-04-06',
      '2026-05-04',
      '2026-05-25',
      '2026-08-31',
      '2026-12-25',
      '2026-12-28',
    ]);
  });

  test('2022 ad hoc: Spring moved to 2 Jun, Platinum Jubilee 3 Jun, State Funeral 19 Sep', () => {
    // 1 Jan 2022 Sat → Mon 3 Jan; Easter 17 Apr; Christmas Sun → Boxing Mon 26 + substitute Tue 27.
    assert.deepEqual(dates('UK', 2022), [
      '2022-01-03',
      '2022-04-15',
      '2022-04-18',
      '2022-05-02',
      '2022-06-02',
      '2022-06-03',
      '2022-08-29',
      '2022-09-19',
      '2022-12-26',
      '2022-12-27',
    ]);
    assert.equal(isBusinessDay('UK', '2022-05-30'), true); // the rule date that was moved away
  });

  test('2020 Early May on Friday 8 May (VE Day); 2023 Coronation', () => {
    assert.equal(isBusinessDay('UK', '2020-05-08'), false);
    assert.equal(isBusinessDay('UK', '2020-05-04'), true);
    assert.equal(isBusinessDay('UK', '2023-05-01'), false);
    assert.equal(isBusinessDay('UK', '2023-05-08'), false);
  });

  test('Christmas on Saturday, Boxing Day on Sunday → Mon 27 and Tue 28', () => {
    assert.deepEqual(dates('UK', 2021).slice(-2), ['2021-12-27', '2021-12-28']);
  });

  test('CHAPS and Faster Payments over Christmas 2026', () => {
    // Thu 24 Dec 2026, GMT: 17:39 is in time (same-day settlement); 17:40 exactly is late →
    // Fri 25 (Christmas), Sat, Sun, Mon 28 (Boxing Day substitute) → Tue 29 Dec.
    assert.equal(schedule(RAILS.CHAPS, at('2026-12-24T17:39:00Z')).expectedArrivalDate, '2026-12-24');
    const late = schedule(RAILS.CHAPS, at('2026-12-24T17:40:00Z'));
    assert.equal(late.executionDate, '2026-12-29');
    assert.equal(late.expectedArrivalDate, '2026-12-29');
    assert.equal(late.window, '2026-12-29T17:40 Europe/London');
    // FPS is 24/7.
    assert.equal(schedule(RAILS.FPS, at('2026-12-25T12:00:00Z')).expectedArrivalDate, '2026-12-25');
  });
});

describe('Payments Canada', () => {
  test('2023 weekend holidays move to Monday', () => {
    assert.equal(isBusinessDay('CA', '2023-07-03'), false); // Canada Day Sat 1 Jul
    assert.equal(isBusinessDay('CA', '2023-10-02'), false); // NDTR Sat 30 Sep
    assert.equal(isBusinessDay('CA', '2023-11-13'), false); // Remembrance Day Sat 11 Nov
  });

  test('regional holidays and Easter Monday are business days', () => {
    // Civic Holiday: 1 Aug 2026 is a Saturday → first Monday of August is 3 Aug: open.
    assert.equal(isBusinessDay('CA', '2026-08-03'), true);
    assert.equal(isBusinessDay('CA', '2026-04-06'), true); // Easter Monday
    assert.equal(isBusinessDay('CA', '2026-02-16'), true); // Family Day (ON/BC/AB…)
    assert.equal(isBusinessDay('CA', '2022-09-19'), true); // Queen's funeral: Payments Canada open
    assert.equal(isBusinessDay('UK', '2022-09-19'), false);
  });

  test('Victoria Day = Monday before 25 May; NDTR from 2021', () => {
    // 25 May 2026 is itself a Monday, so "the Monday preceding 25 May" is 18 May.
    assert.equal(isBusinessDay('CA', '2026-05-18'), false);
    assert.equal(isBusinessDay('CA', '2026-05-25'), true);
    assert.equal(isBusinessDay('CA', '2021-09-30'), false);
    assert.equal(isBusinessDay('CA', '2020-09-30'), true);
  });

  test('2026 list exact', () => {
    assert.deepEqual(dates('CA', 2026), [
      '2026-01-01',
      '2026-04-03',
      '2026-05-18',
      '2026-07-01',
      '2026-09-07',
      '2026-09-30',
      '2026-10-12',
      '2026-11-11',
      '2026-12-25',
      '2026-12-28',
    ]);
  });

  test('EFT across NDTR 2026', () => {
    // Tue 29 Sep 2026 17:00 EDT (21:00Z) is after the 16:00 cut-off → next business day skips
    // Wed 30 Sep (NDTR) → execution Thu 1 Oct, arrival (1 day) Fri 2 Oct.
    const s = schedule(RAILS.EFT, at('2026-09-29T21:00:00Z'));
    assert.equal(s.executionDate, '2026-10-01');
    assert.equal(s.expectedArrivalDate, '2026-10-02');
  });
});

describe('Australia (RITS/BECS)', () => {
  test('Australia Day substitution, Anzac Day never substituted', () => {
    assert.equal(isBusinessDay('AU', '2025-01-27'), false); // 26 Jan 2025 was a Sunday
    assert.equal(isBusinessDay('AU', '2026-01-26'), false);
    assert.equal(isBusinessDay('AU', '2026-04-27'), true); // Anzac Day Sat 25 Apr 2026
    assert.equal(isBusinessDay('AU', '2027-04-26'), true); // Anzac Day Sun 25 Apr 2027 (NSW/Vic: no substitute)
    assert.equal(isBusinessDay('AU', '2025-04-25'), false); // Fri
  });

  test("King's Birthday yes, NSW-only holidays no, 2022 day of mourning", () => {
    assert.equal(isBusinessDay('AU', '2026-06-08'), false); // 2nd Mon June
    assert.equal(isBusinessDay('AU', '2026-08-03'), true); // NSW Bank Holiday
    assert.equal(isBusinessDay('AU', '2026-10-05'), true); // NSW Labour Day
    assert.equal(isBusinessDay('AU', '2022-09-22'), false);
  });

  test('BECS over Christmas 2026, NPP continuous', () => {
    // Thu 24 Dec 2026 17:00 AEDT (UTC+11) = 06:00Z, after the 16:00 cut-off. Fri 25 Christmas,
    // Sat 26 Boxing Day → substitute Mon 28 → execution Tue 29, arrival (1 day) Wed 30.
    const s = schedule(RAILS.BECS, at('2026-12-24T06:00:00Z'));
    assert.equal(s.executionDate, '2026-12-29');
    assert.equal(s.expectedArrivalDate, '2026-12-30');
    assert.deepEqual(s.cutoffAt, at('2026-12-29T05:00:00Z'));
    // NPP: 14:00Z on 24 Dec is 01:00 AEDT on 25 Dec → credited 25 Dec (Sydney date).
    assert.equal(schedule(RAILS.NPP, at('2026-12-24T14:00:00Z')).expectedArrivalDate, '2026-12-25');
  });
});

describe('Singapore (MEPS+)', () => {
  test('Sunday → next day that is not itself a holiday; Saturday not moved', () => {
    assert.equal(isBusinessDay('SG', '2024-02-12'), false); // CNY Sat 10 + Sun 11 Feb 2024 → Mon 12
    assert.equal(isBusinessDay('SG', '2023-01-24'), false); // CNY Sun 22 + Mon 23 Jan 2023 → Tue 24
    assert.equal(isBusinessDay('SG', '2026-06-01'), false); // Vesak Sun 31 May 2026
    assert.equal(isBusinessDay('SG', '2026-08-10'), false); // National Day Sun 9 Aug 2026
    assert.equal(isBusinessDay('SG', '2026-11-09'), false); // Deepavali Sun 8 Nov 2026
    assert.equal(isBusinessDay('SG', '2026-03-23'), true); // Hari Raya Puasa Sat 21 Mar 2026: no lieu day
    assert.equal(isBusinessDay('SG', '2027-02-08'), false); // CNY Sat 6 + Sun 7 Feb 2027 → Mon 8
  });

  test('2026 list exact (MOM)', () => {
    assert.deepEqual(dates('SG', 2026), [
      '2026-01-01',
      '2026-02-17',
      '2026-02-18',
      '2026-04-03',
      '2026-05-01',
      '2026-05-27',
      '2026-06-01',
      '2026-08-10',
      '2026-11-09',
      '2026-12-25',
    ]);
    assert.ok(holidaysOf('SG', 2026).every((h) => !h.provisional));
  });

  test('ungazetted years are flagged provisional; uncovered years throw', () => {
    assert.ok(holidaysOf('SG', 2028).some((h) => h.provisional));
    assert.ok(holidaysOf('SG', 2028).some((h) => h.date === '2028-01-26' && !h.provisional)); // CNY is astronomical
    assert.throws(() => isBusinessDay('SG', '2031-01-02'), CalendarCoverageError);
    assert.throws(() => holidaysOf('SG', 2019), CalendarCoverageError);
  });

  test('MEPS+ over the Vesak weekend 2026, FAST continuous', () => {
    // Fri 29 May 2026 17:30 SGT (09:30Z) is after the 17:00 cut-off → Sat, Sun, Mon 1 Jun
    // (Vesak in lieu) → execution and same-day arrival Tue 2 Jun.
    const s = schedule(RAILS.MEPS, at('2026-05-29T09:30:00Z'));
    assert.equal(s.executionDate, '2026-06-02');
    assert.equal(s.expectedArrivalDate, '2026-06-02');
    assert.equal(schedule(RAILS.FAST, at('2026-05-31T03:00:00Z')).expectedArrivalDate, '2026-05-31');
  });
});

describe('chooseRail', () => {
  const weekday = at('2026-04-14T14:00:00Z'); // Tue 14 Apr 2026, 10:00 EDT / 16:00 CEST / 15:00 BST

  test('thresholds: exactly at the limit and one cent above', () => {
    assert.equal(chooseRail('EUR', 10_000_000n, weekday).id, 'SEPA_INSTANT'); // EUR 100,000.00
    assert.equal(chooseRail('EUR', 10_000_001n, weekday).id, 'SEPA_CT');
    assert.equal(chooseRail('GBP', 100_000_000n, weekday).id, 'FPS'); // GBP 1,000,000.00
    assert.equal(chooseRail('GBP', 100_000_001n, weekday).id, 'CHAPS');
    assert.equal(chooseRail('SGD', 20_000_000n, weekday).id, 'FAST'); // SGD 200,000.00
    assert.equal(chooseRail('SGD', 20_000_001n, weekday).id, 'MEPS');
    assert.equal(chooseRail('USD', 100_000_000n, weekday).id, 'ACH_SAME_DAY'); // USD 1,000,000.00
    assert.equal(chooseRail('USD', 100_000_001n, weekday).id, 'WIRE');
    assert.equal(chooseRail('USD', 5_000_000n, weekday, { wireThresholdMinor: 5_000_000n }).id, 'ACH_SAME_DAY');
    assert.equal(chooseRail('USD', 5_000_001n, weekday, { wireThresholdMinor: 5_000_000n }).id, 'WIRE');
  });

  test('CAD and AUD', () => {
    assert.equal(chooseRail('CAD', 1n, weekday).id, 'EFT');
    assert.equal(chooseRail('AUD', 1n, weekday).id, 'NPP');
    assert.equal(chooseRail('AUD', 1n, weekday, { preferBatch: true }).id, 'BECS');
  });

  test('ACH same-day vs next-day around the windows (EDT, UTC-4)', () => {
    const usd = (iso: string) => {
      const rail = chooseRail('USD', 25_00n, at(iso));
      return { rail: rail.id, ...schedule(rail, at(iso)) };
    };
    // 10:29:59 ET → first same-day window, settles the same day.
    let r = usd('2026-04-14T14:29:59Z');
    assert.equal(r.rail, 'ACH_SAME_DAY');
    assert.equal(r.window, '2026-04-14T10:30 America/New_York');
    assert.equal(r.expectedArrivalDate, '2026-04-14');
    // 10:30:00 ET: first window missed, second (14:45) still open.
    r = usd('2026-04-14T14:30:00Z');
    assert.equal(r.rail, 'ACH_SAME_DAY');
    assert.equal(r.window, '2026-04-14T14:45 America/New_York');
    // 14:44:59 ET → still same day.
    assert.equal(usd('2026-04-14T18:44:59Z').rail, 'ACH_SAME_DAY');
    // 14:45:00 ET → standard ACH, executed today (before 17:00), settles next day.
    r = usd('2026-04-14T18:45:00Z');
    assert.equal(r.rail, 'ACH');
    assert.equal(r.executionDate, '2026-04-14');
    assert.equal(r.expectedArrivalDate, '2026-04-15');
    // 17:00:00 ET → standard ACH, executed Wed 15, settles Thu 16.
    r = usd('2026-04-14T21:00:00Z');
    assert.equal(r.rail, 'ACH');
    assert.equal(r.executionDate, '2026-04-15');
    assert.equal(r.expectedArrivalDate, '2026-04-16');
  });

  test('ACH same-day window in winter (EST, UTC-5), on weekends and Fed holidays', () => {
    // Tue 13 Jan 2026: 14:44 EST = 19:44Z same day; 14:45 EST = 19:45Z standard.
    assert.equal(chooseRail('USD', 100n, at('2026-01-13T19:44:00Z')).id, 'ACH_SAME_DAY');
    assert.equal(chooseRail('USD', 100n, at('2026-01-13T19:45:00Z')).id, 'ACH');
    assert.equal(chooseRail('USD', 100n, at('2026-04-18T14:00:00Z')).id, 'ACH'); // Saturday
    // MLK Day Mon 19 Jan 2026, 10:00 EST: no same-day window → ACH executed Tue 20, settles Wed 21.
    const rail = chooseRail('USD', 100n, at('2026-01-19T15:00:00Z'));
    assert.equal(rail.id, 'ACH');
    const s = schedule(rail, at('2026-01-19T15:00:00Z'));
    assert.equal(s.executionDate, '2026-01-20');
    assert.equal(s.expectedArrivalDate, '2026-01-21');
  });

  test('wire: 18:00 ET cut-off, same-day', () => {
    const s = schedule(RAILS.WIRE, at('2026-04-14T21:59:00Z')); // 17:59 EDT
    assert.equal(s.executionDate, '2026-04-14');
    assert.equal(s.expectedArrivalDate, '2026-04-14');
    assert.equal(schedule(RAILS.WIRE, at('2026-04-14T22:00:00Z')).executionDate, '2026-04-15');
  });

  test('rejects bad input', () => {
    assert.throws(() => chooseRail('EUR', 0n, weekday), RangeError);
    assert.throws(() => chooseRail('EUR', -1n, weekday), RangeError);
    assert.throws(() => chooseRail('EUR', 1n, new Date(Number.NaN)), RangeError);
    assert.throws(() => chooseRail('JPY' as 'EUR', 1n, weekday), RangeError);
    assert.throws(() => schedule(RAILS.ACH, new Date('nope')), RangeError);
  });
});

describe('rail table as data', () => {
  test('every rail is consistent', () => {
    for (const [id, r] of Object.entries(RAILS)) {
      assert.equal(r.id, id);
      assert.equal(r.alwaysOn, r.cutoffs.length === 0, id);
      assert.ok(Object.isFrozen(r), id);
    }
  });

  test('operator overrides make a new validated table and leave RAILS alone', () => {
    const mine = withRailOverrides({ SEPA_CT: { cutoffs: ['16:30'] } });
    // Thu 2 Apr 2026 16:00 CEST: late for 15:00, in time for 16:30.
    assert.equal(schedule(mine.SEPA_CT, at('2026-04-02T14:00:00Z')).executionDate, '2026-04-02');
    assert.equal(schedule(RAILS.SEPA_CT, at('2026-04-02T14:00:00Z')).executionDate, '2026-04-07');
    assert.equal(chooseRail('EUR', 20_000_000n, at('2026-04-14T14:00:00Z'), { rails: mine }), mine.SEPA_CT);
    assert.throws(() => withRailOverrides({ CHAPS: { cutoffs: ['25:00'] } }), RangeError);
    assert.throws(() => withRailOverrides({ ACH_SAME_DAY: { cutoffs: ['14:45', '10:30'] } }), RangeError);
    assert.throws(() => withRailOverrides({ EFT: { timeZone: 'Mars/Olympus' } }), RangeError);
  });

  test('zone helpers', () => {
    assert.deepEqual(zonedTimeToInstant('2026-07-01', '17:40', 'Europe/London'), at('2026-07-01T16:40:00Z'));
    assert.deepEqual(zonedTimeToInstant('2026-01-15', '16:00', 'Australia/Sydney'), at('2026-01-15T05:00:00Z'));
    assert.deepEqual(zonedTimeToInstant('2026-07-15', '16:00', 'Australia/Sydney'), at('2026-07-15T06:00:00Z'));
    assert.equal(localDate(at('2026-04-14T20:00:00Z'), 'Asia/Singapore'), '2026-04-15');
    // DST edges: a wall time in the spring-forward gap resolves to just after it (02:30 → 03:30
    // CEST = 01:30Z); a repeated wall time in the fall-back hour resolves to the earlier (CEST) one.
    assert.deepEqual(zonedTimeToInstant('2026-03-29', '02:30', 'Europe/Berlin'), at('2026-03-29T01:30:00Z'));
    assert.deepEqual(zonedTimeToInstant('2026-10-25', '02:30', 'Europe/Berlin'), at('2026-10-25T00:30:00Z'));
    assert.deepEqual(zonedTimeToInstant('2026-11-01', '01:30', 'America/New_York'), at('2026-11-01T05:30:00Z'));
  });
});
