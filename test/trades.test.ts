import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, createTestContext, type TestContext } from './helpers/harness.ts';
import { depositAndConfirm, offrampCustomer } from './helpers/pipeline.ts';
import { createAdjustableClock, systemClock } from '../src/infra/lib/clock.ts';
import { AppError } from '../src/infra/lib/errors.ts';

describe('trades and the ledger', () => {
  let ctx: TestContext;
  const clock = createAdjustableClock({ now: () => new Date('2026-06-01T12:00:00Z') });
  let addr: string;
  before(async () => {
    ctx = await createTestContext({
      clock,
      authClock: systemClock,
      env: { OPENRAMP_SANDBOX_FINALITY_DEPTH: '2', OPENRAMP_MIN_DEPOSIT_TRX: '1' },
    });
    addr = (await offrampCustomer(ctx, { name: 'Tina Trader' })).depositAddress;
  });
  after(() => ctx.close());

  it('a confirmed deposit becomes one trade, CREATED then SETTLED, booked in a balanced ledger', async () => {
    const d = await depositAndConfirm(ctx, { to: addr, amount: '1000.123456' });
    await ctx.openramp.services.jobs.runDue(); // trade.create
    let trade = await ctx.openramp.services.db.selectFrom('trades').selectAll().where('deposit_key', '=', d.id).executeTakeFirstOrThrow();
    assert.equal(trade.status, 'CREATED');
    await ctx.openramp.services.jobs.runDue(); // trade.settle
    const r = await call(ctx, { method: 'GET', url: `/trade/detail?id=${trade.id}` });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.data.status, 'SETTLED');
    assert.equal(r.json.data.fromAmount, '1000.123456');
    assert.equal(r.json.data.fromCurrency, 'USDT');
    assert.equal(r.json.data.toCurrency, 'EUR');
    assert.equal(r.json.data.rate, '0.92');
    assert.equal(r.json.data.rateSource, 'static');
    assert.equal(r.json.data.toAmount, '920.11');
    assert.equal(r.json.data.roundingRemainder, '0.00357952000000000000000000');
    assert.equal(r.json.data.deposit.id, d.id);
    const events = await ctx.openramp.services.db
      .selectFrom('events')
      .select('type')
      .where('object_id', '=', trade.id)
      .orderBy('seq')
      .execute();
    assert.deepEqual(
      events.map((e) => e.type),
      ['TRADE_CREATED', 'TRADE_SETTLED'],
    );
    trade = await ctx.openramp.services.db.selectFrom('trades').selectAll().where('id', '=', trade.id).executeTakeFirstOrThrow();
    const dep = await ctx.openramp.services.db.selectFrom('deposits').select('trade_id').where('id', '=', d.id).executeTakeFirstOrThrow();
    assert.equal(dep.trade_id, trade.id);

    const journals = await ctx.openramp.services.ledger.journalsFor(trade.id);
    assert.equal(journals.length, 1);
    const report = await ctx.openramp.services.ledger.reconcile();
    assert.ok(report.ok, JSON.stringify(report, null, 2));
    const bal = await call(ctx, { method: 'GET', url: '/balance' });
    assert.equal(bal.json.data.find((b: any) => b.currency === 'EUR').balance, '920.11', 'fiat owed to the customer until paid out');
    assert.equal(bal.json.data.find((b: any) => b.currency === 'USDT').balance, '0.000000');
  });

  it('re-running or racing the steps never creates a second trade or journal', async () => {
    const d = await depositAndConfirm(ctx, { to: addr, amount: '50' });
    const [a, b] = await Promise.all([
      ctx.openramp.services.trades.create({ depositIds: [d.id] }),
      ctx.openramp.services.trades.create({ depositIds: [d.id] }),
    ]);
    assert.equal(a!.id, b!.id);
    await ctx.openramp.services.jobs.runDue();
    await ctx.openramp.services.trades.settle(a!.id);
    await ctx.openramp.services.trades.settle(a!.id);
    const trades = await ctx.openramp.services.db.selectFrom('trades').select('id').where('deposit_key', '=', d.id).execute();
    assert.equal(trades.length, 1);
    assert.equal((await ctx.openramp.services.ledger.journalsFor(a!.id)).length, 1);
    const events = await ctx.openramp.services.db.selectFrom('events').select('type').where('object_id', '=', a!.id).execute();
    assert.deepEqual(events.map((e) => e.type).sort(), ['TRADE_CREATED', 'TRADE_SETTLED']);
    assert.ok((await ctx.openramp.services.ledger.reconcile()).ok);
    // The same deposit under another trade key (an aggregate) is a broken invariant, not retried.
    await assert.rejects(
      ctx.openramp.services.trades.create({ depositIds: [d.id], aggregateId: 'agg_again' }),
      (e: unknown) => e instanceof AppError && e.code === 'DEPOSIT_ALREADY_TRADED' && e.invariant && !e.retryable,
    );
    assert.equal(
      (await ctx.openramp.services.db.selectFrom('trades').select('id').where('deposit_key', '=', 'agg_again').execute()).length,
      0,
    );
  });

  it('lists trades with the contract shape', async () => {
    const r = await call(ctx, { method: 'GET', url: '/trade/list?status=SETTLED' });
    assert.equal(r.status, 200);
    assert.ok(r.json.data.total >= 2);
    assert.deepEqual(Object.keys(r.json.data.list[0]).sort(), [
      'createTime',
      'fromAmount',
      'fromCurrency',
      'id',
      'status',
      'toAmount',
      'toCurrency',
    ]);
  });
});
