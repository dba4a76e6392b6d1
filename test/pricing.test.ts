import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { bpsOf, formatDecimal, formatRate, minor, parseRate, type Rate } from '../src/infra/lib/money.ts';
import { AppError } from '../src/infra/lib/errors.ts';
import type { Clock } from '../src/infra/lib/clock.ts';
import { computeQuote, divideRate, quoteView, type FeeSchedule } from '../src/adapters/pricing/pricing.ts';
import { createEcbRateSource, ecbCrossRate, parseEcbXml, type EcbRateSourceOptions } from '../src/adapters/pricing/ecb.ts';
import { parseFeeScheduleInput } from '../src/adapters/pricing/fees.ts';
import { RAILS, chooseRail, type RailId } from '../src/adapters/rails/rails.ts';
import { ConfigError, loadConfig } from '../src/config.ts';

const FIXTURE = readFileSync(new URL('./fixtures/ecb-eurofxref-daily.xml', import.meta.url), 'utf8');
const rate = (s: string) => parseRate(s)!;
const PAR = { USDT: rate('1'), USDC: rate('1') };

/** A clock the test sets. */
function testClock(iso: string): Clock & { set(iso: string): void; advance(ms: number): void } {
  let t = Date.parse(iso);
  return { now: () => new Date(t), set: (s) => (t = Date.parse(s)), advance: (ms) => (t += ms) };
}

async function rejectsUnavailable(p: Promise<unknown>, message: RegExp) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.code, 'DEPENDENCY_UNAVAILABLE', err.message);
    assert.equal(err.retryable, true);
    assert.match(err.message, message);
    return true;
  });
}

describe('exact rate division', () => {
  it('rounds down to the stated decimals and trims trailing zeros', () => {
    assert.deepEqual(divideRate(rate('1'), rate('1.1342'), 12), rate('0.881678716275'));
    assert.deepEqual(divideRate(rate('1.1342'), rate('1.1342'), 12), { value: 1n, scale: 0 });
    assert.deepEqual(divideRate(rate('1'), rate('4'), 12), rate('0.25'));
    assert.deepEqual(divideRate(rate('2'), rate('3'), 4), rate('0.6666'));
    assert.throws(() => divideRate(rate('1'), rate('100000'), 2), /rounds to zero/);
  });

  it('the quotient q satisfies q·b ≤ a < (q + 10^-d)·b, for any positive decimals', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.integer({ min: 0, max: 8 }),
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.integer({ min: 0, max: 8 }),
        (av, as, bv, bs) => {
          const a: Rate = { value: av, scale: as };
          const b: Rate = { value: bv, scale: bs };
          let q: Rate;
          try {
            q = divideRate(a, b, 12);
          } catch {
            // only when a/b < 10^-12
            assert.ok(av * 10n ** BigInt(bs + 12) < bv * 10n ** BigInt(as));
            return;
          }
          // Compare a·10^(12+…) against q·b on a common scale.
          const lhs = (qv: bigint) => qv * 10n ** BigInt(12 - q.scale) * bv * 10n ** BigInt(as); // (q·10^12)·b·10^as
          const target = av * 10n ** BigInt(12 + bs);
          assert.ok(lhs(q.value) <= target);
          assert.ok((q.value * 10n ** BigInt(12 - q.scale) + 1n) * bv * 10n ** BigInt(as) > target);
        },
      ),
    );
  });
});

describe('ECB reference rates: parsing and cross rates', () => {
  it('parses the daily file exactly (decimal strings, no floats)', () => {
    const r = parseEcbXml(FIXTURE);
    assert.equal(r.date, '2026-05-29');
    assert.equal(r.perEur.size, 29);
    assert.deepEqual(r.perEur.get('USD'), { value: 11342n, scale: 4 });
    assert.deepEqual(r.perEur.get('GBP'), { value: 84168n, scale: 5 });
    assert.deepEqual(r.perEur.get('CZK'), { value: 24930n, scale: 3 }, 'trailing zero kept as published');
    assert.deepEqual(r.perEur.get('IDR'), { value: 1850151n, scale: 2 });
  });

  it('crosses through USD: fiat per token = USD per token × fiat per EUR / USD per EUR, 12 decimals rounded down', () => {
    const r = parseEcbXml(FIXTURE);
    // Independent values (Python decimal, ROUND_FLOOR at 1e-12).
    const expected: Record<string, [string, string]> = {
      EUR: ['0.881678716275', '0.881502380532'],
      USD: ['1', '0.9998'],
      GBP: ['0.742091341915', '0.741942923646'],
      CAD: ['1.374008111444', '1.373733309821'],
      AUD: ['1.552459883618', '1.552149391641'],
      SGD: ['1.288837947451', '1.288580179862'],
    };
    for (const [fiat, [atPar, at9998]] of Object.entries(expected)) {
      assert.equal(formatRate(ecbCrossRate(r, rate('1'), fiat as 'EUR')), atPar, fiat);
      assert.equal(formatRate(ecbCrossRate(r, rate('0.9998'), fiat as 'EUR')), at9998, `${fiat} at 0.9998`);
    }
  });

  it('takes the latest day of a multi-day (90-day history) document', () => {
    const older = FIXTURE.replace("<Cube time='2026-05-29'>", "<Cube time='2026-05-28'>").replace("rate='1.1342'", "rate='1.1300'");
    const days = /<Cube time='2026-05-29'>[\s\S]*?<\/Cube>\s*(?=<\/Cube>)/.exec(FIXTURE)![0];
    const olderDay = /<Cube time='2026-05-28'>[\s\S]*?<\/Cube>\s*(?=<\/Cube>)/.exec(older)![0];
    const hist = FIXTURE.replace(days, `${olderDay}\n\t\t${days}`);
    const r = parseEcbXml(hist);
    assert.equal(r.date, '2026-05-29');
    assert.deepEqual(r.perEur.get('USD'), rate('1.1342'));
  });

  it('refuses malformed documents with a retryable DEPENDENCY_UNAVAILABLE', () => {
    const bad: [string, string, RegExp][] = [
      ['empty body', '', /empty body/],
      ['whitespace body', '  \n', /empty body/],
      ['an HTML error page', '<html><body>Service Unavailable</body></html>', /not a gesmes:Envelope/],
      ['truncated', FIXTURE.slice(0, FIXTURE.length / 2), /not a gesmes:Envelope/],
      ['no USD', FIXTURE.replace(/\s*<Cube currency='USD' rate='1.1342'\/>/, ''), /no USD rate/],
      ['non-numeric rate', FIXTURE.replace("rate='0.84168'", "rate='n/a'"), /GBP rate is not a positive decimal/],
      ['comma decimal', FIXTURE.replace("rate='0.84168'", "rate='0,84168'"), /GBP rate is not a positive decimal/],
      ['exponent', FIXTURE.replace("rate='0.84168'", "rate='8.4168E-1'"), /GBP rate is not a positive decimal/],
      ['negative', FIXTURE.replace("rate='0.84168'", "rate='-0.84168'"), /GBP rate is not a positive decimal/],
      ['zero', FIXTURE.replace("rate='0.84168'", "rate='0'"), /GBP rate is not a positive decimal/],
      ['empty rate', FIXTURE.replace("rate='0.84168'", "rate=''"), /GBP rate is not a positive decimal/],
      ['missing rate attribute', FIXTURE.replace(" rate='0.84168'", ''), /GBP has no rate/],
      ['missing currency attribute', FIXTURE.replace("currency='GBP' ", ''), /without a valid currency/],
      ['repeated currency', FIXTURE.replace("currency='GBP'", "currency='USD'"), /USD appears twice/],
      ['bad date', FIXTURE.replace("time='2026-05-29'", "time='2026-02-30'"), /bad date/],
      ['no dated cube', FIXTURE.replace(/<Cube time='2026-05-29'>[\s\S]*?<\/Cube>\s*(?=<\/Cube>)/, ''), /no dated/],
      ['unbalanced', FIXTURE.replace('</Cube>\n\t</Cube>', '</Cube>'), /unclosed <Cube>/],
    ];
    for (const [what, xml, message] of bad) {
      assert.throws(
        () => parseEcbXml(xml),
        (err: unknown) => err instanceof AppError && err.code === 'DEPENDENCY_UNAVAILABLE' && err.retryable && message.test(err.message),
        what,
      );
    }
  });

  it('a currency missing from the day fails only the pairs that need it', () => {
    const r = parseEcbXml(FIXTURE.replace(/\s*<Cube currency='GBP' rate='0.84168'\/>/, ''));
    assert.equal(formatRate(ecbCrossRate(r, rate('1'), 'EUR')), '0.881678716275');
    assert.throws(
      () => ecbCrossRate(r, rate('1'), 'GBP'),
      (e: unknown) => e instanceof AppError && e.code === 'DEPENDENCY_UNAVAILABLE' && /no GBP rate/.test(e.message),
    );
  });
});

describe('ECB rate source over HTTP (local server serving the recorded fixture)', () => {
  let server: Server;
  let url: string;
  const served = { status: 200, body: FIXTURE, hits: 0, hang: false };
  before(async () => {
    server = createServer((_req, res) => {
      served.hits++;
      if (served.hang) return; // never answers
      res.writeHead(served.status, { 'content-type': 'text/xml' });
      res.end(served.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/stats/eurofxref/eurofxref-daily.xml`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const reset = () => Object.assign(served, { status: 200, body: FIXTURE, hits: 0, hang: false });
  const source = (clock: Clock, over: Partial<EcbRateSourceOptions> = {}) =>
    createEcbRateSource({ url, clock, usdPerToken: PAR, maxAgeMs: 60_000, staleAfterDays: 5, fetchTimeoutMs: 2000, ...over });

  it('quotes with source "ecb" and the publication (16:00 Frankfurt) as asOf', async () => {
    reset();
    const clock = testClock('2026-06-01T12:00:00Z'); // Monday after the Friday fixture
    const s = source(clock, { usdPerToken: { USDT: rate('1'), USDC: rate('0.9998') } });
    const q = await s.quote('USDT', 'GBP');
    assert.equal(q.source, 'ecb');
    assert.equal(formatRate(q.rate), '0.742091341915');
    assert.equal(q.asOf.toISOString(), '2026-05-29T14:00:00.000Z');
    assert.equal(formatRate((await s.quote('USDC', 'USD')).rate), '0.9998', 'stablecoin par is per token');
    assert.equal(formatRate((await s.quote('USDT', 'USD')).rate), '1');
  });

  it('caches the document for maxAgeMs, shares one fetch between concurrent quotes, then refreshes', async () => {
    reset();
    const clock = testClock('2026-06-01T12:00:00Z');
    const s = source(clock);
    await Promise.all([s.quote('USDT', 'EUR'), s.quote('USDC', 'CAD'), s.quote('USDT', 'SGD')]);
    assert.equal(served.hits, 1);
    clock.advance(59_999);
    await s.quote('USDT', 'AUD');
    assert.equal(served.hits, 1);
    clock.advance(1);
    served.body = FIXTURE.replace("time='2026-05-29'", "time='2026-06-01'").replace("rate='1.1342'", "rate='1.1400'");
    const q = await s.quote('USDT', 'USD');
    assert.equal(served.hits, 2);
    assert.equal(q.asOf.toISOString(), '2026-06-01T14:00:00.000Z');
    assert.equal(formatRate((await s.quote('USDT', 'EUR')).rate), '0.877192982456');
  });

  it('a failed refresh keeps serving the last good rates while they are not stale', async () => {
    reset();
    const clock = testClock('2026-06-01T12:00:00Z');
    const s = source(clock);
    await s.quote('USDT', 'EUR');
    served.status = 503;
    served.body = 'maintenance';
    clock.advance(120_000);
    assert.equal(formatRate((await s.quote('USDT', 'EUR')).rate), '0.881678716275');
    assert.equal(served.hits, 2);
    // …but not once they are stale: then the failed refresh is the error.
    clock.set('2026-06-04T12:00:00Z');
    await rejectsUnavailable(s.quote('USDT', 'EUR'), /HTTP 503/);
    served.status = 200;
    served.body = FIXTURE; // refresh works again, but the document itself is stale
    await rejectsUnavailable(s.quote('USDT', 'EUR'), /stale/);
  });

  it('refuses stale rates (more than staleAfterDays calendar days, Frankfurt) with a retryable error', async () => {
    reset();
    const clock = testClock('2026-06-03T21:59:59Z'); // 23:59:59 in Frankfurt on 3 June: 5 days
    const s = source(clock, { maxAgeMs: 0 });
    assert.equal((await s.quote('USDT', 'EUR')).source, 'ecb');
    clock.set('2026-06-03T22:00:00Z'); // midnight in Frankfurt: 4 June, 6 days
    await rejectsUnavailable(s.quote('USDT', 'EUR'), /stale: published 2026-05-29, 6 days ago \(limit 5\)/);
    const lenient = source(clock, { staleAfterDays: 6 });
    assert.equal((await lenient.quote('USDT', 'EUR')).source, 'ecb');
    // Rates dated well in the future are refused too (a broken clock or document).
    await rejectsUnavailable(source(testClock('2026-05-20T12:00:00Z')).quote('USDT', 'EUR'), /future/);
  });

  it('malformed responses, HTTP errors, timeouts and refused connections are retryable DEPENDENCY_UNAVAILABLE', async () => {
    const clock = testClock('2026-06-01T12:00:00Z');
    const cases: [Partial<typeof served>, RegExp][] = [
      [{ body: '' }, /empty body/],
      [{ body: FIXTURE.replace(/\s*<Cube currency='USD' rate='1.1342'\/>/, '') }, /no USD rate/],
      [{ body: FIXTURE.replace("rate='1.5584'", "rate='1.55.84'") }, /CAD rate is not a positive decimal/],
      [{ status: 500, body: 'oops' }, /HTTP 500/],
      [{ status: 404, body: FIXTURE }, /HTTP 404/],
    ];
    for (const [over, message] of cases) {
      reset();
      Object.assign(served, over);
      await rejectsUnavailable(source(clock).quote('USDT', 'EUR'), message);
    }
    reset();
    served.hang = true;
    await rejectsUnavailable(source(clock, { fetchTimeoutMs: 200 }).quote('USDT', 'EUR'), /cannot fetch/);
    reset();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await rejectsUnavailable(
      createEcbRateSource({
        url: `http://127.0.0.1:${port}/x.xml`,
        clock,
        usdPerToken: PAR,
        maxAgeMs: 0,
        staleAfterDays: 5,
        fetchTimeoutMs: 2000,
      }).quote('USDT', 'EUR'),
      /cannot fetch/,
    );
  });
});

describe('quotes with itemised fees (spread, rail fixed fee, partner fee)', () => {
  const FIXED: Partial<Record<RailId, bigint>> = { SEPA_INSTANT: 25n, SEPA_CT: 100n };
  const railSchedule = (spreadBps: number, partnerFeeBps: number, at: Date): FeeSchedule<'EUR'> => ({
    spreadBps,
    partnerFeeBps,
    fixedFeeMinor: minor('EUR', 0n),
    forGross: (gross) => {
      const r = chooseRail('EUR', gross > 0n ? gross : 1n, at).id;
      return { rail: r, fixedFeeMinor: minor('EUR', FIXED[r] ?? 0n) };
    },
  });

  it('net fiat + spread + fixed + partner fee = gross, and gross + remainder = value in, exactly (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 15n }),
        fc.tuple(fc.integer({ min: 1, max: 99999 }), fc.integer({ min: 0, max: 6 })),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 1000 }),
        (amount, [rv, rs], spreadBps, partnerFeeBps) => {
          const r = parseRate(formatDecimal(BigInt(rv), rs))!;
          const q = computeQuote(
            'USDT',
            'EUR',
            amount,
            { rate: r, source: 'test', asOf: new Date(0) },
            railSchedule(spreadBps, partnerFeeBps, new Date('2026-06-01T12:00:00Z')),
          );
          const fees = q.spreadFee + q.fixedFee + q.partnerFee;
          if (q.grossAmount >= fees) assert.equal(q.toAmount + fees, q.grossAmount);
          else assert.equal(q.toAmount, 0n);
          assert.equal(q.grossAmount * q.remainderDen + q.remainderNum, amount * r.value * 100n);
          assert.ok(q.remainderNum >= 0n && q.remainderNum < q.remainderDen);
          assert.equal(q.spreadFee, bpsOf(q.grossAmount, spreadBps));
          assert.equal(q.partnerFee, bpsOf(q.grossAmount, partnerFeeBps));
          // The fixed fee is that of the rail the gross amount would be paid out on.
          const expectedRail = q.grossAmount <= RAILS.SEPA_INSTANT.maxAmountMinor! ? 'SEPA_INSTANT' : 'SEPA_CT';
          assert.equal(q.rail, expectedRail);
          assert.equal(q.fixedFee, FIXED[expectedRail]);
        },
      ),
    );
  });

  it('the preview view itemises the fees and names the rail', () => {
    const q = computeQuote(
      'USDT',
      'EUR',
      1000_123456n,
      { rate: rate('0.92'), source: 'static', asOf: new Date('2026-06-01T12:00:00Z') },
      railSchedule(50, 25, new Date('2026-06-01T12:00:00Z')),
    );
    const v = quoteView(q);
    // gross 920.11; spread ⌈460.055⌉ = 4.61; partner ⌈230.0275⌉ = 2.31; fixed 0.25
    assert.deepEqual(v.fees, { spread: '4.61', fixed: '0.25', partner: '2.31', total: '7.17' });
    assert.equal(v.rail, 'SEPA_INSTANT');
    assert.equal(v.grossAmount, '920.11');
    assert.equal(v.toAmount, '912.94');
    // A plain schedule (no rail) still works: flat fixed fee, no partner fee.
    const flat = computeQuote(
      'USDT',
      'EUR',
      1000_123456n,
      { rate: rate('0.92'), source: 'static', asOf: new Date(0) },
      { spreadBps: 0, fixedFeeMinor: minor('EUR', 10n) },
    );
    assert.equal(flat.rail, null);
    assert.equal(flat.partnerFee, 0n);
    assert.equal(flat.toAmount, 92001n);
  });

  it('validates operator fee input: bps integers 0–1000, fees decimal strings in the rail currency', () => {
    assert.deepEqual(
      parseFeeScheduleInput({ spreadBps: 50, partnerFeeBps: 25, fixedFees: { SEPA_INSTANT: '0.25', ACH: '0.5', WIRE: '25' } }),
      {
        spreadBps: 50,
        partnerFeeBps: 25,
        fixedFeeMinor: { SEPA_INSTANT: 25n, ACH: 50n, WIRE: 2500n },
      },
    );
    assert.deepEqual(parseFeeScheduleInput({ spreadBps: 0 }), { spreadBps: 0, partnerFeeBps: 0, fixedFeeMinor: {} });
    for (const bad of [
      { spreadBps: 1001 },
      { spreadBps: -1 },
      { spreadBps: 1.5 },
      { spreadBps: '50' },
      {},
      { spreadBps: 10, partnerFeeBps: 5000 },
      { spreadBps: 10, fixedFees: { SEPA_INSTANT: '0.255' } },
      { spreadBps: 10, fixedFees: { SEPA_INSTANT: '-0.25' } },
      { spreadBps: 10, fixedFees: { SEPA_INSTANT: '1e2' } },
      { spreadBps: 10, fixedFees: { SEPA_INSTANT: 0.25 } },
      { spreadBps: 10, fixedFees: { SWIFT_GPI: '1.00' } },
      { spreadBps: 10, fixedFees: ['0.25'] },
    ]) {
      assert.throws(
        () => parseFeeScheduleInput(bad as never),
        (e: unknown) => e instanceof AppError && e.code === 'INVALID_PARAMETERS',
        JSON.stringify(bad),
      );
    }
  });
});

describe('pricing settings', () => {
  const settingOf = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.setting;
    }
    return null;
  };

  it('defaults: static rates at par, ECB daily URL, 1 h cache, 5 days, zero fees', () => {
    const c = loadConfig({});
    assert.equal(c.rates.source, 'static');
    assert.equal(c.rates.ecbUrl, 'https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml');
    assert.equal(c.rates.maxAgeMs, 3_600_000);
    assert.equal(c.rates.staleAfterDays, 5);
    assert.deepEqual(c.rates.usdPerToken, { USDT: '1', USDC: '1' });
    assert.equal(c.fees.spreadBps, 0);
    assert.equal(c.fees.partnerFeeBps, 0);
    assert.equal(c.fees.fixedFeeMinor.SEPA_INSTANT, 0n);
  });

  it('reads and validates them, naming a bad one', () => {
    const c = loadConfig({
      OPENRAMP_RATE_SOURCE: 'ecb',
      OPENRAMP_RATE_USD_PER_USDC: '0.9998',
      OPENRAMP_FEE_SPREAD_BPS: '35',
      OPENRAMP_FEE_FIXED_SEPA_INSTANT: '0.25',
      OPENRAMP_FEE_FIXED_ACH: '0.50',
    });
    assert.equal(c.rates.source, 'ecb');
    assert.equal(c.rates.usdPerToken.USDC, '0.9998');
    assert.equal(c.fees.spreadBps, 35);
    assert.equal(c.fees.fixedFeeMinor.SEPA_INSTANT, 25n);
    assert.equal(c.fees.fixedFeeMinor.ACH, 50n);
    assert.equal(settingOf({ OPENRAMP_RATE_SOURCE: 'coinbase' }), 'OPENRAMP_RATE_SOURCE');
    assert.equal(settingOf({ OPENRAMP_RATES_ECB_URL: 'ftp://x' }), 'OPENRAMP_RATES_ECB_URL');
    assert.equal(settingOf({ OPENRAMP_RATES_STALE_AFTER_DAYS: '0' }), 'OPENRAMP_RATES_STALE_AFTER_DAYS');
    assert.equal(settingOf({ OPENRAMP_RATE_USD_PER_USDT: 'one' }), 'OPENRAMP_RATE_USD_PER_USDT');
    assert.equal(settingOf({ OPENRAMP_RATE_USD_PER_USDT: '0.99999999' }), 'OPENRAMP_RATE_USD_PER_USDT');
    assert.equal(settingOf({ OPENRAMP_FEE_SPREAD_BPS: '1001' }), 'OPENRAMP_FEE_SPREAD_BPS');
    assert.equal(settingOf({ OPENRAMP_FEE_PARTNER_BPS: '2.5' }), 'OPENRAMP_FEE_PARTNER_BPS');
    assert.equal(settingOf({ OPENRAMP_FEE_FIXED_ACH: '0.505' }), 'OPENRAMP_FEE_FIXED_ACH');
  });
});
