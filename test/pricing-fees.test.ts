import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { call, createTestContext, type TestContext } from './helpers/harness.ts';
import { depositAndConfirm, offrampCustomer, runJobsUntilIdle, runPipeline } from './helpers/pipeline.ts';
import { createAdjustableClock, systemClock } from '../src/infra/lib/clock.ts';
import { ACCOUNTS } from '../src/domain/ledger/ledger.ts';

const FIXTURE = readFileSync(new URL('./fixtures/ecb-eurofxref-daily.xml', import.meta.url), 'utf8');

function opsClient(ctx: () => TestContext) {
  return async (method: 'GET' | 'POST', url: string, payload?: unknown, token?: string | null) => {
    const res = await ctx().openramp.api.inject({
      method,
      url,
      headers: token === null ? {} : { authorization: `Bearer ${token ?? ctx().operatorToken}` },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
    return { status: res.statusCode, json: res.json(), body: res.body };
  };
}

describe('per-partner fee schedules: operator API, trades, ledger, preview', () => {
  let ctx: TestContext;
  // Monday 1 June 2026, 12:00 UTC.
  const clock = createAdjustableClock({ now: () => new Date('2026-06-01T12:00:00Z') });
  const ops = opsClient(() => ctx);
  const path = () => `/ops/partners/${ctx.partner.partnerId}/fee-schedule`;
  const CUSTOM = { spreadBps: 50, partnerFeeBps: 25, fixedFees: { SEPA_INSTANT: '0.25', SEPA_CT: '1.00', ACH: '0.50' } };

  before(async () => {
    ctx = await createTestContext({
      clock,
      authClock: systemClock,
      env: {
        OPENRAMP_SANDBOX_FINALITY_DEPTH: '2',
        OPENRAMP_MIN_DEPOSIT_TRX: '1',
        OPENRAMP_FEE_SPREAD_BPS: '10',
        OPENRAMP_FEE_FIXED_ACH: '0.75',
        OPENRAMP_FEE_FIXED_ACH_SAME_DAY: '1.00',
        OPENRAMP_FEE_FIXED_FPS: '0.20',
      },
    });
  });
  after(() => ctx.close());

  it('a partner without a schedule has the configured default', async () => {
    const r = await ops('GET', path());
    assert.equal(r.status, 200, r.body);
    const s = r.json.data;
    assert.equal(s.partnerId, ctx.partner.partnerId);
    assert.equal(s.isDefault, true);
    assert.equal(s.spreadBps, 10);
    assert.equal(s.partnerFeeBps, 0);
    assert.deepEqual(s.fixedFees.ACH, { currency: 'USD', amount: '0.75', source: 'default' });
    assert.deepEqual(s.fixedFees.FPS, { currency: 'GBP', amount: '0.20', source: 'default' });
    assert.deepEqual(s.fixedFees.SEPA_INSTANT, { currency: 'EUR', amount: '0.00', source: 'default' });
    assert.equal(Object.keys(s.fixedFees).length, 12);
    assert.equal(s.version, null);
  });

  it('needs the operator bearer token', async () => {
    assert.equal((await ops('GET', path(), undefined, null)).status, 401);
    assert.equal((await ops('POST', path(), CUSTOM, 'not-the-token')).status, 401);
    const partnerCall = await call(ctx, { method: 'POST', url: path(), body: CUSTOM });
    assert.equal(partnerCall.status, 401, 'partner API keys do not open the operator API');
  });

  it('refuses bad schedules and unknown partners', async () => {
    const bad: [unknown, RegExp][] = [
      [{ spreadBps: 1001 }, /spreadBps/],
      [{ spreadBps: -1 }, /spreadBps/],
      [{ spreadBps: 12.5 }, /spreadBps/],
      [{ spreadBps: '50' }, /spreadBps/],
      [{ partnerFeeBps: 10 }, /spreadBps: is required/],
      [{ spreadBps: 10, partnerFeeBps: 1500 }, /partnerFeeBps/],
      [
        { spreadBps: 10, fixedFees: { SEPA_INSTANT: '0.255' } },
        /fixedFees.SEPA_INSTANT: must be a decimal string in EUR with at most 2 decimals/,
      ],
      [{ spreadBps: 10, fixedFees: { ACH: '-0.50' } }, /fixedFees.ACH/],
      [{ spreadBps: 10, fixedFees: { ACH: '5e-1' } }, /fixedFees.ACH/],
      [{ spreadBps: 10, fixedFees: { ACH: 0.5 } }, /fixedFees.ACH/],
      [{ spreadBps: 10, fixedFees: { ACH: '' } }, /fixedFees.ACH/],
      [{ spreadBps: 10, fixedFees: { SWIFT: '1.00' } }, /fixedFees/],
      [{ spreadBps: 10, spread_bps: 10 }, /additional properties/],
      ['not json object', /body/],
    ];
    for (const [body, message] of bad) {
      const r = await ops('POST', path(), body);
      assert.equal(r.status, 422, `${JSON.stringify(body)} → ${r.body}`);
      assert.equal(r.json.status, 'INVALID_PARAMETERS', r.body);
      assert.match(r.json.message, message, JSON.stringify(body));
    }
    assert.equal((await ops('GET', path())).json.data.isDefault, true, 'nothing stored');
    const unknown = await ops('POST', '/ops/partners/partner_nope/fee-schedule', CUSTOM);
    assert.equal(unknown.status, 422);
    assert.match(unknown.json.message, /partner not found/);
    assert.match((await ops('GET', '/ops/partners/partner_nope/fee-schedule')).json.message, /partner not found/);
  });

  it('sets, reads and replaces a schedule (rails left out take the default)', async () => {
    const first = await ops('POST', path(), { spreadBps: 5, fixedFees: { WIRE: '25' } });
    assert.equal(first.status, 200, first.body);
    assert.equal(first.json.data.version, 1);
    assert.deepEqual(first.json.data.fixedFees.WIRE, { currency: 'USD', amount: '25.00', source: 'partner' });
    const r = await ops('POST', path(), CUSTOM);
    assert.equal(r.status, 200, r.body);
    const s = r.json.data;
    assert.equal(s.isDefault, false);
    assert.equal(s.version, 2);
    assert.equal(s.spreadBps, 50);
    assert.equal(s.partnerFeeBps, 25);
    assert.deepEqual(s.fixedFees.SEPA_INSTANT, { currency: 'EUR', amount: '0.25', source: 'partner' });
    assert.deepEqual(s.fixedFees.SEPA_CT, { currency: 'EUR', amount: '1.00', source: 'partner' });
    assert.deepEqual(s.fixedFees.ACH, { currency: 'USD', amount: '0.50', source: 'partner' });
    assert.deepEqual(s.fixedFees.WIRE, { currency: 'USD', amount: '0.00', source: 'default' }, 'replaced, not merged');
    assert.deepEqual(s.fixedFees.FPS, { currency: 'GBP', amount: '0.20', source: 'default' });
    assert.deepEqual((await ops('GET', path())).json.data, s);
    const rows = await ctx.openramp.services.db
      .selectFrom('partner_rail_fees')
      .select(['rail', 'fixed_fee'])
      .where('partner_id', '=', ctx.partner.partnerId)
      .orderBy('rail')
      .execute();
    assert.deepEqual(rows, [
      { rail: 'ACH', fixed_fee: '50' },
      { rail: 'SEPA_CT', fixed_fee: '100' },
      { rail: 'SEPA_INSTANT', fixed_fee: '25' },
    ]);
  });

  let previewSmall: any;
  it('trade-preview itemises the partner schedule (SEPA Instant fee below 100,000 EUR, SEPA CT above)', async () => {
    const r = await call(ctx, { method: 'GET', url: '/autoramp-flow/trade-preview?fromCurrency=USDT&toCurrency=EUR&amount=1000.123456' });
    assert.equal(r.status, 200, r.body);
    previewSmall = r.json.data;
    // gross ⌊1000.123456 × 0.92⌋ = 920.11; spread ⌈0.5% ⌉ = 4.61; partner ⌈0.25%⌉ = 2.31; fixed 0.25
    assert.equal(previewSmall.grossAmount, '920.11');
    assert.deepEqual(previewSmall.fees, { spread: '4.61', fixed: '0.25', partner: '2.31', total: '7.17' });
    assert.equal(previewSmall.rail, 'SEPA_INSTANT');
    assert.equal(previewSmall.toAmount, '912.94');
    const big = await call(ctx, { method: 'GET', url: '/autoramp-flow/trade-preview?fromCurrency=USDT&toCurrency=EUR&amount=120000' });
    assert.equal(big.status, 200, big.body);
    assert.equal(big.json.data.grossAmount, '110400.00');
    assert.deepEqual(big.json.data.fees, { spread: '552.00', fixed: '1.00', partner: '276.00', total: '829.00' });
    assert.equal(big.json.data.rail, 'SEPA_CT');
    assert.equal(big.json.data.toAmount, '109571.00');
  });

  it('a trade for the partner has exactly those itemised fees, books the partner fee as payable, and the ledger reconciles through payout', async () => {
    const { depositAddress } = await offrampCustomer(ctx, { name: 'Fee Payer' });
    const s = ctx.openramp.services;
    const small = await depositAndConfirm(ctx, { to: depositAddress, amount: '1000.123456' });
    const large = await depositAndConfirm(ctx, { to: depositAddress, amount: '120000' });
    await runJobsUntilIdle(ctx); // trade.create, trade.settle, payout.create
    const tradeOf = async (depositId: string) => {
      const t = await s.db.selectFrom('trades').selectAll().where('deposit_key', '=', depositId).executeTakeFirstOrThrow();
      const r = await call(ctx, { method: 'GET', url: `/trade/detail?id=${t.id}` });
      assert.equal(r.status, 200, r.body);
      return { row: t, detail: r.json.data };
    };
    const a = await tradeOf(small.id);
    assert.equal(a.detail.status, 'SETTLED');
    // The preview showed the same numbers as the trade.
    for (const k of ['fromAmount', 'toAmount', 'grossAmount', 'rate', 'rateSource', 'fees', 'rail'] as const)
      assert.deepEqual(a.detail[k], previewSmall[k], k);
    assert.deepEqual(a.detail.fees, { spread: '4.61', fixed: '0.25', partner: '2.31', total: '7.17' });
    assert.equal(a.detail.rail, 'SEPA_INSTANT');
    assert.equal(a.row.partner_fee, '231');
    assert.equal(a.row.fee_rail, 'SEPA_INSTANT');
    const b = await tradeOf(large.id);
    assert.deepEqual(b.detail.fees, { spread: '552.00', fixed: '1.00', partner: '276.00', total: '829.00' });
    assert.equal(b.detail.rail, 'SEPA_CT');
    assert.equal(b.detail.toAmount, '109571.00');

    // The journal: gross into the FX position; net owed to the customer; spread + fixed are
    // OpenRamp's revenue; the partner fee is owed to the partner.
    const [journal] = await s.ledger.journalsFor(a.row.id);
    const eur = journal!.entries.filter((e) => e.asset === 'EUR');
    const byAccount = Object.fromEntries(eur.map((e) => [e.account, e.amount]));
    assert.deepEqual(byAccount, {
      [ACCOUNTS.fxPosition()]: 92011n,
      [ACCOUNTS.customerFiat(ctx.partner.partnerId, a.row.customer_id)]: -91294n,
      [ACCOUNTS.feeRevenue(ctx.partner.partnerId)]: -486n,
      [ACCOUNTS.partnerFees(ctx.partner.partnerId)]: -231n,
    });
    assert.equal(await s.ledger.balance(ACCOUNTS.partnerFees(ctx.partner.partnerId), 'EUR'), -(231n + 27600n));
    assert.equal(await s.ledger.balance(ACCOUNTS.feeRevenue(ctx.partner.partnerId), 'EUR'), -(486n + 55300n));
    const bal = await call(ctx, { method: 'GET', url: '/balance' });
    assert.equal(bal.json.data.find((x: any) => x.currency === 'EUR').balance, '110483.94', 'only the net amounts are owed to customers');
    let rec = await ops('GET', '/ops/reconcile');
    assert.ok(rec.json.data.ok, JSON.stringify(rec.json.data, null, 1));

    // Pay both out: the payouts take the rails the fixed fees were priced for.
    assert.equal((await ops('POST', '/ops/treasury/fund', { currency: 'EUR', amount: '1000000.00' })).status, 200);
    await runPipeline(ctx, 3, { advanceMs: 0 });
    for (const t of [a, b]) {
      const p = await s.db.selectFrom('payouts').selectAll().where('trade_id', '=', t.row.id).executeTakeFirstOrThrow();
      assert.equal(p.status, 'SETTLED');
      assert.equal(p.amount, t.row.to_amount);
      assert.equal(p.rail, t.row.fee_rail);
    }
    rec = await ops('GET', '/ops/reconcile');
    assert.ok(rec.json.data.ok, JSON.stringify(rec.json.data, null, 1));
    assert.equal(
      await s.ledger.balance(ACCOUNTS.partnerFees(ctx.partner.partnerId), 'EUR'),
      -27831n,
      'the partner fee stays owed to the partner',
    );
  });

  it('resetting the schedule goes back to the default for new quotes', async () => {
    const r = await ops('POST', `${path()}/reset`);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.data.removed, true);
    assert.equal(r.json.data.schedule.isDefault, true);
    assert.equal((await ops('POST', `${path()}/reset`)).json.data.removed, false);
    const p = await call(ctx, { method: 'GET', url: '/autoramp-flow/trade-preview?fromCurrency=USDT&toCurrency=EUR&amount=1000.123456' });
    // default: 10 bps spread (⌈92.011⌉ = 0.93), no partner fee, SEPA Instant 0.00
    assert.deepEqual(p.json.data.fees, { spread: '0.93', fixed: '0.00', partner: '0.00', total: '0.93' });
    // USD: the rail (so the fixed fee) also depends on the time: Same Day ACH before its last window.
    const usdPreview = () => call(ctx, { method: 'GET', url: '/autoramp-flow/trade-preview?fromCurrency=USDC&toCurrency=USD&amount=100' });
    const morning = await usdPreview(); // ~08:00 in New York
    assert.equal(morning.json.data.rail, 'ACH_SAME_DAY');
    assert.equal(morning.json.data.fees.fixed, '1.00');
    clock.advance(8 * 3_600_000); // ~16:00 in New York: past the 14:45 same-day window
    const afternoon = await usdPreview();
    assert.equal(afternoon.json.data.rail, 'ACH');
    assert.equal(afternoon.json.data.fees.fixed, '0.75');
  });
});

describe('ECB rates through the app: trades wait for fresh rates', () => {
  let ctx: TestContext;
  let server: Server;
  const served = { body: FIXTURE };
  // Monday 1 June 2026, 15:00 UTC (17:00 in Frankfurt, after the day's publication).
  const clock = createAdjustableClock({ now: () => new Date('2026-06-01T15:00:00Z') });

  before(async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(served.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/eurofxref-daily.xml`;
    ctx = await createTestContext({
      clock,
      authClock: systemClock,
      env: {
        OPENRAMP_SANDBOX_FINALITY_DEPTH: '2',
        OPENRAMP_MIN_DEPOSIT_TRX: '1',
        OPENRAMP_RATE_SOURCE: 'ecb',
        OPENRAMP_RATES_ECB_URL: url,
        OPENRAMP_RATES_MAX_AGE_MS: '0',
      },
    });
  });
  after(async () => {
    await ctx.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('previews with the ECB cross rate, its source and publication time', async () => {
    const r = await call(ctx, { method: 'GET', url: '/autoramp-flow/trade-preview?fromCurrency=USDT&toCurrency=GBP&amount=1000' });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.data.rate, '0.742091341915');
    assert.equal(r.json.data.rateSource, 'ecb');
    assert.equal(r.json.data.rateTime, '2026-05-29T14:00:00.000Z');
    assert.equal(r.json.data.grossAmount, '742.09');
    assert.equal(r.json.data.rail, 'FPS');
  });

  it('a deposit while the rates are stale is not traded: trade.create retries, then trades at the fresh rate', async () => {
    const { depositAddress } = await offrampCustomer(ctx, { name: 'Patient Payee' });
    clock.advance(3 * 86_400_000); // Thursday 4 June: Friday's rates are 6 days old
    const stale = await call(ctx, { method: 'GET', url: '/autoramp-flow/trade-preview?fromCurrency=USDT&toCurrency=EUR&amount=10' });
    assert.equal(stale.status, 503, stale.body);
    assert.match(stale.json.message, /stale/);
    const d = await depositAndConfirm(ctx, { to: depositAddress, amount: '500' });
    const s = ctx.openramp.services;
    await s.jobs.runDue();
    const job = await s.db
      .selectFrom('jobs')
      .selectAll()
      .where('kind', '=', 'trade.create')
      .where('unique_key', '=', `trade.create:${d.id}`)
      .executeTakeFirstOrThrow();
    assert.equal(job.status, 'queued', 'retryable: waits for fresh rates');
    assert.equal(job.attempts, 1);
    assert.match(job.last_error ?? '', /stale/);
    assert.equal(await s.db.selectFrom('trades').select('id').where('deposit_key', '=', d.id).executeTakeFirst(), undefined);

    served.body = FIXTURE.replace("time='2026-05-29'", "time='2026-06-04'").replace("rate='1.1342'", "rate='1.1400'");
    clock.advance(5000); // past the retry back-off
    await runJobsUntilIdle(ctx);
    const t = await s.db.selectFrom('trades').selectAll().where('deposit_key', '=', d.id).executeTakeFirstOrThrow();
    assert.equal(t.status, 'SETTLED');
    assert.equal(t.rate, '0.877192982456');
    assert.equal(t.rate_source, 'ecb');
    assert.equal(t.rate_time.toISOString(), '2026-06-04T14:00:00.000Z');
    assert.equal(t.gross_amount, '43859'); // ⌊500 × 0.877192982456 × 100⌋
    assert.ok((await s.ledger.reconcile()).ok);
  });
});
