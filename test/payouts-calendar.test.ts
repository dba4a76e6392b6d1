import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { call, createTestContext, type TestContext } from './helpers/harness.ts';
import { mockDeposit, offrampCustomer, pipelineRound, runPipeline } from './helpers/pipeline.ts';
import { createAdjustableClock, systemClock } from '../src/infra/lib/clock.ts';
import { REFERENCE, referencePath, skipWithoutReference } from './helpers/reference.ts';
import { parsePain001 } from '../src/adapters/rails/formats/readers/index.ts';

const XSD = referencePath(REFERENCE.epcXsd);
const NO_XSD = skipWithoutReference('EPC XSD validation', REFERENCE.epcXsd);

/**
 * A SEPA credit transfer created after the 15:00 CET cut-off on Thursday 2 April 2026, the day
 * before Good Friday: T2 is closed Friday 3 and Monday 6 April (Easter), so the payout waits for
 * Tuesday 7 April's window, goes out in that window's file, and the sandbox bank (settling on
 * the expected date) credits it on Wednesday 8 April.
 */
describe('payouts follow the rail calendar and cut-offs (SEPA CT around Easter 2026)', () => {
  let ctx: TestContext;
  // Thursday 2 April 2026, 16:00 CEST (14:00 UTC): after the SEPA cut-off.
  const clock = createAdjustableClock({ now: () => new Date('2026-04-02T14:00:00Z') });
  const at = (iso: string) => clock.advance(new Date(iso).getTime() - clock.now().getTime());
  let payoutId = '';

  before(async () => {
    ctx = await createTestContext({
      clock,
      authClock: systemClock,
      env: {
        OPENRAMP_SANDBOX_FINALITY_DEPTH: '1',
        OPENRAMP_MIN_DEPOSIT_TRX: '1',
        OPENRAMP_PAYOUT_BATCH_IMMEDIATELY: 'false',
        OPENRAMP_SANDBOX_BANK_SETTLE_IMMEDIATELY: 'false',
      },
    });
    await ctx.openramp.services.payouts.fundTreasury('EUR', 50_000_000_00n);
  });
  after(() => ctx.close());

  // The test sets the time itself (`at`); payouts settle on their expected arrival date.
  const round = () => pipelineRound(ctx, { advanceMs: 0, settleImmediately: false });

  it('is dated to the next T2 business day and arrives a business day later', async () => {
    const c = await offrampCustomer(ctx, { name: 'Large Larry' });
    await mockDeposit(ctx, { to: c.depositAddress, amount: '120000' });
    await runPipeline(ctx, 4, { advanceMs: 2000, settleImmediately: false });
    const p = await ctx.openramp.services.db
      .selectFrom('payouts')
      .selectAll()
      .where('customer_id', '=', c.customerId)
      .executeTakeFirstOrThrow();
    payoutId = p.id;
    assert.equal(p.rail, 'SEPA_CT', 'above 100,000.00 EUR SEPA Instant is not used');
    assert.equal(p.amount, '11040000'); // 120,000 USDT × 0.92
    assert.equal(p.status, 'PENDING');
    assert.equal(p.execution_date, '2026-04-07');
    assert.equal(p.expected_arrival_date, '2026-04-08');
    const d = await call(ctx, { method: 'GET', url: `/payout/detail?id=${p.id}` });
    assert.equal(d.json.data.executionDate, '2026-04-07');
    assert.equal(d.json.data.cutoffAt, '2026-04-07T13:00:00.000Z', '15:00 CEST');
  });

  it('waits through the holiday weekend, then goes out in the 7 April window’s file', async (t) => {
    at('2026-04-06T10:00:00Z'); // Easter Monday: T2 closed
    await round();
    let p = await ctx.openramp.services.db.selectFrom('payouts').selectAll().where('id', '=', payoutId).executeTakeFirstOrThrow();
    assert.equal(p.status, 'PENDING');
    at('2026-04-07T12:55:00Z'); // 14:55 CEST: inside the 10-minute lead before the cut-off
    await round();
    p = await ctx.openramp.services.db.selectFrom('payouts').selectAll().where('id', '=', payoutId).executeTakeFirstOrThrow();
    assert.equal(p.status, 'SUBMITTED');
    const batch = await ctx.openramp.services.db
      .selectFrom('payout_batches')
      .selectAll()
      .where('id', '=', p.batch_id!)
      .executeTakeFirstOrThrow();
    const parsed = parsePain001(batch.file_content);
    assert.equal(parsed.paymentInfos[0]!.executionDate, '2026-04-07');
    assert.equal(parsed.paymentInfos[0]!.serviceLevel, 'SEPA');
    assert.equal(parsed.paymentInfos[0]!.localInstrument, null, 'a credit transfer, not SCT Inst');
    await t.test('the file validates against the EPC XSD', { skip: NO_XSD }, () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'sct-'));
      writeFileSync(path.join(dir, 'f.xml'), batch.file_content);
      const v = spawnSync('xmllint', ['--noout', '--schema', XSD, path.join(dir, 'f.xml')], { encoding: 'utf8' });
      assert.equal(v.status, 0, v.stderr || 'xmllint missing: apt-get install libxml2-utils');
    });
  });

  it('the sandbox bank settles it on the expected arrival date, not before', async () => {
    at('2026-04-07T21:00:00Z'); // 23:00 CEST on the execution day
    await round();
    let p = await ctx.openramp.services.db.selectFrom('payouts').selectAll().where('id', '=', payoutId).executeTakeFirstOrThrow();
    assert.equal(p.status, 'SUBMITTED');
    at('2026-04-07T22:30:00Z'); // 00:30 CEST on 8 April
    await round();
    p = await ctx.openramp.services.db.selectFrom('payouts').selectAll().where('id', '=', payoutId).executeTakeFirstOrThrow();
    assert.equal(p.status, 'SETTLED');
    assert.ok((await ctx.openramp.services.ledger.reconcile()).ok);
  });
});
