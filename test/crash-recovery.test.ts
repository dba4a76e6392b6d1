import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestContext, type TestContext } from './helpers/harness.ts';
import { depositOfTx, mockDeposit, offrampCustomer, pipelineRound } from './helpers/pipeline.ts';
import { createAdjustableClock, systemClock } from '../src/infra/lib/clock.ts';
import { AppError } from '../src/infra/lib/errors.ts';
import type { Services } from '../src/app.ts';
import { onEachCommit } from './helpers/commit-hook.ts';

/**
 * A crash at any point of the pipeline resumes without loss or duplication. Each step that
 * changes money state (deposit credit, trade create, trade settle, payout submit, payout settle)
 * is found by the event it writes, and a crash is injected there in two ways:
 *  - inside the step's transaction, as the event is written: it rolls back, the step runs again;
 *  - right after the step's transaction commits, before anything that follows it in the same
 *    worker (the job queue marking the job done, the batcher writing the file to the outbox
 *    folder, the sandbox bank settling the next payout, the scanner finishing its tick): the
 *    worker's next run meets work that is already done and must not do it twice.
 * Either way the test then checks there is exactly one of each row, event and journal.
 */
const STEPS = ['DEPOSIT_APPROVED', 'TRADE_CREATED', 'TRADE_SETTLED', 'PAYOUT_SUBMITTED', 'PAYOUT_SETTLED'] as const;
const MODES = ['inside the transaction', 'after commit, before the follow-up'] as const;
type Step = (typeof STEPS)[number];
type Mode = (typeof MODES)[number];

/**
 * Arms one crash at `step`. The step is recognised by its event (`outbox.append` is called with
 * the step's own transaction); `db.transaction()` is wrapped so that, in the after-commit mode,
 * the error is thrown only once that transaction has committed. Returns how many crashes fired
 * (the test asserts exactly one: a crash that never fires proves nothing) and the undo.
 */
function armCrash(s: Services, step: Step, mode: Mode) {
  const state = { fired: 0 };
  const crash = () => {
    state.fired++;
    return new AppError('DEPENDENCY_UNAVAILABLE', `injected crash at ${step} (${mode})`);
  };
  const crashAfterCommitOf = new Set<unknown>();
  const outbox = s.outbox;
  const append = outbox.append;
  outbox.append = async (tx, e) => {
    if (state.fired === 0 && e.type === step) {
      if (mode === 'inside the transaction') throw crash();
      crashAfterCommitOf.add(tx);
    }
    return append.call(outbox, tx, e);
  };
  // Committed. Anything the caller would do next is lost, as in a crash.
  const commits = onEachCommit(s.db, (tx) => {
    if (crashAfterCommitOf.delete(tx) && state.fired === 0) throw crash();
  });
  return {
    state,
    restore() {
      outbox.append = append;
      commits.restore();
    },
  };
}

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
    ({ depositAddress } = await offrampCustomer(ctx, { name: 'Crash Test' }));
    await ctx.openramp.services.payouts.fundTreasury('EUR', 100_000_000n);
  });
  after(() => ctx.close());

  /** One round of everything the workers do, past any job back-off; a failing stage is swallowed like a crashed worker's. */
  const round = () => pipelineRound(ctx, { advanceMs: 61_000, tolerateFailures: true });

  async function counts(txid: string) {
    const db = ctx.openramp.services.db;
    const deposits = await db.selectFrom('deposits').selectAll().where('tx_hash', '=', `0x${txid}`).execute();
    const d = deposits[0];
    const trades = d ? await db.selectFrom('trades').selectAll().where('deposit_key', '=', d.id).execute() : [];
    const payouts = trades.length
      ? await db
          .selectFrom('payouts')
          .selectAll()
          .where(
            'trade_id',
            'in',
            trades.map((t) => t.id),
          )
          .execute()
      : [];
    const objectIds = [...deposits, ...trades, ...payouts].map((x) => x.id);
    const events = objectIds.length ? await db.selectFrom('events').select('type').where('object_id', 'in', objectIds).execute() : [];
    const journals = objectIds.length
      ? await db.selectFrom('ledger_journals').select('kind').where('ref_id', 'in', objectIds).execute()
      : [];
    const batches = payouts.filter((p) => p.batch_id !== null).map((p) => p.batch_id!);
    return { deposits, trades, payouts, events: events.map((e) => e.type), journals: journals.map((j) => j.kind), batches };
  }

  for (const step of STEPS) {
    for (const mode of MODES) {
      it(`crash at ${step} (${mode}): exactly one deposit, trade, payout, event and journal each`, async () => {
        const s = ctx.openramp.services;
        const crash = armCrash(s, step, mode);
        let txid: string;
        try {
          txid = await mockDeposit(ctx, { to: depositAddress, amount: '123.45' });
          // Until the payout settles, then two more rounds: a step that is not idempotent would
          // repeat itself there.
          let extra = 2;
          for (let i = 0; i < 20 && extra > 0; i++) {
            await round();
            if (crash.state.fired > 0 && (await counts(txid)).payouts.some((p) => p.status === 'SETTLED')) extra--;
          }
        } finally {
          crash.restore();
        }
        assert.equal(crash.state.fired, 1, `the crash at ${step} was injected once`);
        assert.ok(await depositOfTx(ctx, txid), 'the deposit was seen');

        const c = await counts(txid);
        assert.equal(c.deposits.length, 1, 'one deposit');
        assert.equal(c.deposits[0]!.status, 'CONFIRMED');
        assert.equal(c.trades.length, 1, 'one trade');
        assert.equal(c.trades[0]!.status, 'SETTLED');
        assert.equal(c.deposits[0]!.trade_id, c.trades[0]!.id);
        assert.equal(c.payouts.length, 1, 'one payout');
        assert.equal(c.payouts[0]!.status, 'SETTLED');
        assert.equal(c.payouts[0]!.amount, c.trades[0]!.to_amount);
        assert.equal(new Set(c.batches).size, 1, 'in one payment file');
        assert.deepEqual(
          c.events.sort(),
          ['DEPOSIT_APPROVED', 'DEPOSIT_RECEIVED', 'PAYOUT_SETTLED', 'PAYOUT_SUBMITTED', 'TRADE_CREATED', 'TRADE_SETTLED'],
          'each event once',
        );
        assert.deepEqual(
          c.journals.sort(),
          ['deposit.credited', 'payout.settled', 'payout.submitted', 'trade.executed'],
          'each journal once',
        );
        const rec = await s.ledger.reconcile();
        assert.ok(rec.ok, JSON.stringify(rec));
      });
    }
  }
});
