import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, createTestContext, onboard, type TestContext } from './helpers/harness.ts';
import { createAdjustableClock, systemClock } from '../src/infra/lib/clock.ts';
import { AppError } from '../src/infra/lib/errors.ts';

/**
 * A crash at any point of the pipeline resumes without loss or duplication. Two kinds of crash
 * are injected at every step (deposit credit, trade create, trade settle, payout create, payout
 * submit, payout settle):
 *  - inside the step's transaction (it rolls back; the step runs again later);
 *  - after the step committed but before its job was marked done (the job runs twice).
 */
const STEPS = ['DEPOSIT_APPROVED', 'TRADE_CREATED', 'TRADE_SETTLED', 'PAYOUT_SUBMITTED', 'PAYOUT_SETTLED'] as const;

describe('crash recovery across the pipeline', () => {
  let ctx: TestContext;
  const clock = createAdjustableClock({ now: () => new Date('2026-06-03T09:00:00Z') });
  let depositAddress: string;

  before(async () => {
    ctx = await createTestContext({
      clock,
      authClock: systemClock,
      env: { OPENRAMP_SANDBOX_FINALITY_DEPTH: '1', OPENRAMP_MIN_DEPOSIT_TRX: '1' },
    });
    const c = await onboard(ctx, { name: 'Crash Test' });
    const f = await call(ctx, {
      method: 'POST',
      url: '/autoramp-flow/offramp',
      body: { from: { customerId: c.customerId, currency: 'USDT', network: 'TRX' }, to: c.bankAccountId },
    });
    depositAddress = f.json.data.depositAddress;
    await ctx.openramp.services.payouts.fundTreasury('EUR', 100_000_000n);
  });
  after(() => ctx.close());

  /** One round of everything the workers do; failures are swallowed like a crashed worker's. */
  async function round() {
    const s = ctx.openramp.services;
    clock.advance(61_000); // past any job backoff
    await s.sandboxChain!.produceBlocks();
    await s.scanners.TRX.tick().catch(() => {});
    for (let i = 0; i < 5; i++) await s.jobs.runDue();
    await s.payouts.runBatcher().catch(() => {});
    await s.payouts.runSandboxBank({ settleImmediately: true }).catch(() => {});
  }

  async function counts(txid: string) {
    const db = ctx.openramp.services.db;
    const d = await db.selectFrom('deposits').selectAll().where('tx_hash', '=', `0x${txid}`).execute();
    const trades = d[0]?.trade_id ? await db.selectFrom('trades').selectAll().where('id', '=', d[0].trade_id).execute() : [];
    const allTrades = d[0] ? await db.selectFrom('trades').select('id').where('deposit_key', '=', d[0].id).execute() : [];
    const payouts = trades[0] ? await db.selectFrom('payouts').selectAll().where('trade_id', '=', trades[0].id).execute() : [];
    const events = d[0]
      ? await db
          .selectFrom('events')
          .select(['type', 'object_id'])
          .where('object_id', 'in', [d[0].id, ...(trades[0] ? [trades[0].id] : []), ...payouts.map((p) => p.id)])
          .execute()
      : [];
    return { deposits: d, trades: allTrades, trade: trades[0], payouts, events: events.map((e) => e.type) };
  }

  for (const step of STEPS) {
    for (const mode of ['inside the transaction', 'after commit, before the job is acknowledged'] as const) {
      it(`crash at ${step} (${mode}): exactly one deposit, trade, payout and event each`, async () => {
        const s = ctx.openramp.services;
        const outbox = s.outbox;
        const original = outbox.append.bind(outbox);
        let armed = true;
        outbox.append = async (tx, e) => {
          if (armed && e.type === step && mode === 'inside the transaction') {
            armed = false;
            throw new AppError('DEPENDENCY_UNAVAILABLE', `injected crash at ${step}`);
          }
          const id = await original(tx, e);
          return id;
        };
        // "After commit": the job handler finishes its work, then the process dies before the
        // queue marks the job done — simulated by making the job look unfinished again.
        const jobsDb = s.db;
        const m = await call(ctx, {
          method: 'POST',
          url: '/deposit/mock',
          body: {
            currency: 'USDT',
            amount: '123.45',
            senderName: 'S',
            senderAccountNo: 'x',
            receiverAccountNo: depositAddress,
            network: 'TRX',
          },
        });
        assert.equal(m.status, 200, m.body);
        try {
          for (let i = 0; i < 8; i++) {
            await round();
            if (mode !== 'inside the transaction' && armed) {
              const c = await counts(m.json.data.txid);
              if (c.events.includes(step)) {
                armed = false;
                await jobsDb
                  .updateTable('jobs')
                  .set({ status: 'queued', run_at: new Date(0) })
                  .where('status', '=', 'done')
                  .execute();
              }
            }
          }
        } finally {
          outbox.append = original;
        }
        const c = await counts(m.json.data.txid);
        assert.equal(c.deposits.length, 1);
        assert.equal(c.deposits[0]!.status, 'CONFIRMED');
        assert.equal(c.trades.length, 1, 'one trade');
        assert.equal(c.trade!.status, 'SETTLED');
        assert.equal(c.payouts.length, 1, 'one payout');
        assert.equal(c.payouts[0]!.status, 'SETTLED');
        const tally = (t: string) => c.events.filter((x) => x === t).length;
        for (const t of ['DEPOSIT_RECEIVED', 'DEPOSIT_APPROVED', 'TRADE_CREATED', 'TRADE_SETTLED', 'PAYOUT_SUBMITTED', 'PAYOUT_SETTLED'])
          assert.equal(tally(t), 1, `${t} once`);
        const journals = await s.db
          .selectFrom('ledger_journals')
          .select('kind')
          .where('ref_id', 'in', [c.deposits[0]!.id, c.trade!.id, c.payouts[0]!.id])
          .execute();
        assert.deepEqual(journals.map((j) => j.kind).sort(), ['deposit.credited', 'payout.settled', 'payout.submitted', 'trade.executed']);
        const rec = await s.ledger.reconcile();
        assert.ok(rec.ok, JSON.stringify(rec));
      });
    }
  }
});
