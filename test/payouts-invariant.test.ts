import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, createTestContext, onboard, type TestContext } from './helpers/harness.ts';
import { createAdjustableClock, systemClock } from '../src/infra/lib/clock.ts';
import { AppError } from '../src/infra/lib/errors.ts';
import { assertPayoutWithinTrade } from '../src/domain/payouts/payouts.ts';

const isInvariant = (e: unknown) => e instanceof AppError && e.code === 'INVARIANT_BROKEN' && !e.retryable;

describe('a payout never exceeds what its trade settled minus what was already paid out', () => {
  it('counts every live payout of the trade, and not the returned ones', () => {
    const base = { tradeId: 'trd_1', settled: 10_000n };
    assertPayoutWithinTrade({ ...base, payouts: [], amount: 10_000n });
    assertPayoutWithinTrade({ ...base, payouts: [{ amount: 10_000n, status: 'RETURNED' }], amount: 10_000n });
    assertPayoutWithinTrade({ ...base, payouts: [{ amount: 4_000n, status: 'SETTLED' }], amount: 6_000n });
    assert.throws(() => assertPayoutWithinTrade({ ...base, payouts: [], amount: 10_001n }), isInvariant);
    assert.throws(() => assertPayoutWithinTrade({ ...base, payouts: [], amount: 0n }), isInvariant);
    for (const status of ['PENDING', 'SUBMITTED', 'SETTLED'] as const)
      assert.throws(() => assertPayoutWithinTrade({ ...base, payouts: [{ amount: 1n, status }], amount: 10_000n }), isInvariant, status);
  });

  describe('in the pipeline', () => {
    let ctx: TestContext;
    const clock = createAdjustableClock({ now: () => new Date('2026-06-03T09:00:00Z') });
    before(async () => {
      ctx = await createTestContext({
        clock,
        authClock: systemClock,
        env: { OPENRAMP_SANDBOX_FINALITY_DEPTH: '1', OPENRAMP_MIN_DEPOSIT_TRX: '1' },
      });
    });
    after(() => ctx.close());

    it('refuses a second payout for a trade that is already being paid, and parks the job with an alert', async () => {
      const s = ctx.openramp.services;
      const c = await onboard(ctx, { name: 'Paula Payee' });
      const f = await call(ctx, {
        method: 'POST',
        url: '/autoramp-flow/offramp',
        body: { from: { customerId: c.customerId, currency: 'USDT', network: 'TRX' }, to: c.bankAccountId },
      });
      const m = await call(ctx, {
        method: 'POST',
        url: '/deposit/mock',
        body: {
          currency: 'USDT',
          amount: '100',
          senderName: 'S',
          senderAccountNo: 'x',
          receiverAccountNo: f.json.data.depositAddress,
          network: 'TRX',
        },
      });
      assert.equal(m.status, 200, m.body);
      clock.advance(5000);
      await s.sandboxChain!.produceBlocks();
      await s.scanners.TRX.tick();
      const d = await s.db.selectFrom('deposits').selectAll().where('tx_hash', '=', `0x${m.json.data.txid}`).executeTakeFirstOrThrow();
      assert.equal(d.status, 'CONFIRMED');
      const trade = await s.trades.create({ depositIds: [d.id] });
      await s.trades.settle(trade!.id);
      const settled = await s.db.selectFrom('trades').selectAll().where('id', '=', trade!.id).executeTakeFirstOrThrow();
      assert.equal(settled.status, 'SETTLED');

      // A payout already carries part of the trade (say, created by an operator's repair by hand).
      const now = clock.now();
      await s.db
        .insertInto('payouts')
        .values({
          id: 'pay_stray',
          partner_id: settled.partner_id,
          customer_id: settled.customer_id,
          trade_id: settled.id,
          bank_account_id: settled.bank_account_id,
          attempt: 2,
          previous_payout_id: null,
          currency: settled.to_currency,
          amount: '1',
          rail: 'SEPA_INSTANT',
          status: 'SUBMITTED',
          wait_reason: null,
          execution_date: '2026-06-03',
          expected_arrival_date: '2026-06-03',
          cutoff_at: null,
          batch_id: null,
          bank_reference: null,
          return_code: null,
          return_reason: null,
          version: 1,
          created_at: now,
          submitted_at: now,
          settled_at: null,
          returned_at: null,
          updated_at: now,
        })
        .execute();
      await assert.rejects(s.payouts.createForTrade(settled.id), isInvariant);

      // The payout.create job the settlement enqueued parks at once instead of retrying.
      while ((await s.jobs.runDue()) > 0);
      const parked = (await s.jobs.parked({ kind: 'payout.create' })).filter((j) => j.payload.tradeId === settled.id);
      assert.equal(parked.length, 1);
      assert.equal(parked[0]!.attempts, 1);
      assert.match(parked[0]!.lastError!, /^INVARIANT_BROKEN: payout of \d+ for trade/);
      const metric = await ctx.openramp.metrics.getSingleMetricAsString('openramp_invariant_broken_total');
      assert.match(metric, /^openramp_invariant_broken_total\{job="payout\.create"\} 1$/m);
      const payouts = await s.db.selectFrom('payouts').select(['id']).where('trade_id', '=', settled.id).execute();
      assert.deepEqual(
        payouts.map((p) => p.id),
        ['pay_stray'],
        'no payout beyond the trade',
      );

      // Once the stray payout is returned, the trade's amount is free again.
      await s.db.updateTable('payouts').set({ status: 'RETURNED' }).where('id', '=', 'pay_stray').execute();
      const p = await s.payouts.createForTrade(settled.id);
      assert.equal(p.amount, settled.to_amount);
    });
  });
});
