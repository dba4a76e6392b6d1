import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { call, createTestContext, type TestContext } from './helpers/harness.ts';
import { SAMPLE_BANKS } from './helpers/banks.ts';
import { mockDeposit, offrampCustomer, runPipeline } from './helpers/pipeline.ts';
import { createAdjustableClock, systemClock } from '../src/infra/lib/clock.ts';
import { REFERENCE, referencePath, skipWithoutReference } from './helpers/reference.ts';
import { parseAba, parseCpa005, parseNacha, parsePain001 } from '../src/adapters/rails/formats/readers/index.ts';

const XSD = referencePath(REFERENCE.epcXsd);
const NO_XSD = skipWithoutReference('EPC XSD validation', REFERENCE.epcXsd);
const hasXmllint = spawnSync('xmllint', ['--version']).status === 0;

const BANKS: Record<string, Record<string, string>> = SAMPLE_BANKS;
// 09:00 UTC is 05:00 in New York: before the first same-day ACH window (10:30 ET).
const EXPECTED_RAIL: Record<string, string> = { EUR: 'SEPA_INSTANT', USD: 'ACH_SAME_DAY', GBP: 'FPS', CAD: 'EFT', AUD: 'NPP', SGD: 'FAST' };

describe('end to end: mock deposit → trade → payout file → settled, for each currency', () => {
  let ctx: TestContext;
  // Wednesday 3 June 2026, 09:00 UTC: a business day for every rail calendar.
  const clock = createAdjustableClock({ now: () => new Date('2026-06-03T09:00:00Z') });
  const ops = (method: 'GET' | 'POST', url: string, payload?: object) =>
    ctx.openramp.api.inject({ method, url, headers: { authorization: `Bearer ${ctx.operatorToken}` }, ...(payload ? { payload } : {}) });

  before(async () => {
    ctx = await createTestContext({
      clock,
      authClock: systemClock,
      env: { OPENRAMP_SANDBOX_FINALITY_DEPTH: '2', OPENRAMP_MIN_DEPOSIT_TRX: '1', OPENRAMP_MIN_DEPOSIT_ETH: '1' },
    });
  });
  after(() => ctx.close());

  /** Six rounds take a deposit through finality, trade, batch and settlement. */
  const pipeline = (rounds = 6) => runPipeline(ctx, rounds);

  async function offramp(currency: string, name: string, amount: string) {
    const c = await offrampCustomer(ctx, { name, bank: { currency, accountName: name, ...BANKS[currency] } });
    return { ...c, txid: await mockDeposit(ctx, { to: c.depositAddress, amount }) };
  }

  async function payoutOf(txid: string) {
    const d = await ctx.openramp.services.db
      .selectFrom('deposits')
      .selectAll()
      .where('tx_hash', '=', `0x${txid}`)
      .executeTakeFirstOrThrow();
    assert.ok(d.trade_id, `deposit ${d.id} has a trade`);
    const p = await ctx.openramp.services.db
      .selectFrom('payouts')
      .selectAll()
      .where('trade_id', '=', d.trade_id!)
      .orderBy('attempt', 'desc')
      .executeTakeFirstOrThrow();
    return { deposit: d, payout: p };
  }

  it('funds the treasury through the operator API', async () => {
    for (const currency of Object.keys(BANKS)) {
      const r = await ops('POST', '/ops/treasury/fund', { currency, amount: '1000000.00' });
      assert.equal(r.statusCode, 200, r.body);
    }
  });

  for (const currency of Object.keys(BANKS)) {
    it(`${currency}: ${EXPECTED_RAIL[currency]} payout submitted in a real file, then settled; ledger reconciles`, async (t) => {
      const x = await offramp(currency, `Payee ${currency} Person`, '500.25');
      await pipeline();
      const { payout } = await payoutOf(x.txid);
      const detail = await call(ctx, { method: 'GET', url: `/payout/detail?id=${payout.id}` });
      assert.equal(detail.status, 200, detail.body);
      const p = detail.json.data;
      assert.equal(p.status, 'SETTLED');
      assert.equal(p.rail, EXPECTED_RAIL[currency]);
      assert.equal(p.currency, currency);
      assert.ok(p.batchId && p.bankReference && p.expectedArrivalDate && p.executionDate);
      const trade = await call(ctx, { method: 'GET', url: `/trade/detail?id=${payout.trade_id}` });
      assert.equal(trade.json.data.status, 'SETTLED');
      assert.equal(p.amount, trade.json.data.toAmount, 'the payout is the settled trade amount');
      const events = await ctx.openramp.services.db
        .selectFrom('events')
        .select('type')
        .where('object_id', '=', payout.id)
        .orderBy('seq')
        .execute();
      assert.deepEqual(
        events.map((e) => e.type),
        ['PAYOUT_SUBMITTED', 'PAYOUT_SETTLED'],
      );

      const batch = await ctx.openramp.services.db
        .selectFrom('payout_batches')
        .selectAll()
        .where('id', '=', p.batchId)
        .executeTakeFirstOrThrow();
      const onDisk = path.join(ctx.outboxDir, batch.rail, batch.file_name);
      assert.ok(existsSync(onDisk), `file written to the outbox: ${onDisk}`);
      assert.equal(readFileSync(onDisk, 'utf8'), batch.file_content);
      const dl = await ops('GET', `/ops/payout-batches/${batch.id}/file`);
      assert.equal(dl.body, batch.file_content);
      // Every file passes its format's parser (lengths, control and hash totals).
      const amountMinor = BigInt(payout.amount);
      if (batch.file_format === 'pain001') {
        const parsed = parsePain001(batch.file_content);
        assert.equal(parsed.ctrlSumMinor, amountMinor);
        if (currency === 'EUR') {
          await t.test('the file validates against the EPC XSD', { skip: NO_XSD }, () => {
            if (!hasXmllint) assert.fail('xmllint is required (apt-get install libxml2-utils)');
            const dir = mkdtempSync(path.join(tmpdir(), 'pain-'));
            writeFileSync(path.join(dir, 'f.xml'), batch.file_content);
            const v = spawnSync('xmllint', ['--noout', '--schema', XSD, path.join(dir, 'f.xml')], { encoding: 'utf8' });
            assert.equal(v.status, 0, v.stderr);
          });
        }
      } else if (batch.file_format === 'nacha') assert.equal(parseNacha(batch.file_content).totalCreditMinor, amountMinor);
      else if (batch.file_format === 'cpa005') assert.equal(parseCpa005(batch.file_content).totalCreditMinor, amountMinor);
      else if (batch.file_format === 'aba') assert.equal(parseAba(batch.file_content).creditTotalMinor, amountMinor);

      const rec = await ops('GET', '/ops/reconcile');
      assert.ok(rec.json().data.ok, JSON.stringify(rec.json().data, null, 1));
    });
  }

  for (const [currency, code] of [
    ['EUR', 'AC04'],
    ['USD', 'R03'],
  ] as const) {
    it(`${currency}: a returned payout (${code}) is owed again and a retry to a new account succeeds`, async () => {
      const name = `Ret ${currency} Person`;
      const x = await offramp(currency, name, '300');
      await pipeline();
      const { payout } = await payoutOf(x.txid);
      const bad = await call(ctx, { method: 'POST', url: '/sandbox/payout/return', body: { payoutId: payout.id, reasonCode: 'R99' } });
      assert.equal(bad.status, 422);
      const ret = await call(ctx, { method: 'POST', url: '/sandbox/payout/return', body: { payoutId: payout.id, reasonCode: code } });
      assert.equal(ret.status, 200, ret.body);
      assert.equal(ret.json.data.status, 'RETURNED');
      assert.equal(ret.json.data.returnCode, code);
      const bal = await call(ctx, { method: 'GET', url: '/balance' });
      assert.ok(
        Number(bal.json.data.find((b: any) => b.currency === currency).balance.replace('.', '')) > 0,
        'the money is owed to the customer again',
      );
      assert.ok((await ops('GET', '/ops/reconcile')).json().data.ok);

      const nb = await call(ctx, {
        method: 'POST',
        url: '/bank-account/add',
        body: {
          customerId: x.customerId,
          currency,
          accountName: name,
          ...BANKS[currency],
          ...(currency === 'EUR' ? { iban: 'FR1420041010050500013M02606', swift: 'BNPAFRPP' } : { accountNo: '987654321' }),
        },
      });
      assert.equal(nb.status, 200, nb.body);
      const retry = await call(ctx, {
        method: 'POST',
        url: '/payout/retry',
        body: { payoutId: payout.id, bankAccountId: nb.json.bankAccountId },
      });
      assert.equal(retry.status, 200, retry.body);
      assert.equal(retry.json.data.attempt, 2);
      assert.equal(retry.json.data.previousPayoutId, payout.id);
      const again = await call(ctx, { method: 'POST', url: '/payout/retry', body: { payoutId: payout.id } });
      assert.equal(again.status, 422, 'a payout is retried once');
      await pipeline(2);
      const d = await call(ctx, { method: 'GET', url: `/payout/detail?id=${retry.json.data.id}` });
      assert.equal(d.json.data.status, 'SETTLED');
      assert.equal(d.json.data.bankAccountId, nb.json.bankAccountId);
      const history = await call(ctx, { method: 'GET', url: `/payout/list?tradeId=${payout.trade_id}` });
      assert.equal(history.json.data.total, 2);
      const events = await ctx.openramp.services.db
        .selectFrom('events')
        .select('type')
        .where('object_id', '=', payout.id)
        .orderBy('seq')
        .execute();
      assert.deepEqual(
        events.map((e) => e.type),
        ['PAYOUT_SUBMITTED', 'PAYOUT_SETTLED', 'PAYOUT_RETURNED'],
      );
      assert.ok((await ops('GET', '/ops/reconcile')).json().data.ok);
    });
  }

  it('a payout that would overdraw the treasury waits with INSUFFICIENT_TREASURY_FUNDS and resumes when funded', async () => {
    const x = await offramp('AUD', 'Waiting Wendy', '2000000');
    await pipeline();
    let { payout } = await payoutOf(x.txid);
    assert.equal(payout.status, 'PENDING');
    assert.equal(payout.wait_reason, 'INSUFFICIENT_TREASURY_FUNDS');
    const t = await ops('GET', '/ops/treasury');
    assert.ok(t.json().data.find((r: any) => r.currency === 'AUD').waiting >= 1);
    await ops('POST', '/ops/treasury/fund', { currency: 'AUD', amount: '5000000.00' });
    await pipeline(1);
    ({ payout } = await payoutOf(x.txid));
    assert.equal(payout.status, 'SETTLED');
    assert.equal(payout.wait_reason, null);
    assert.ok((await ops('GET', '/ops/reconcile')).json().data.ok);
  });

  it('writes each rail to its own outbox folder', () => {
    const rails = readdirSync(ctx.outboxDir).sort();
    assert.deepEqual(rails, ['ACH_SAME_DAY', 'EFT', 'FAST', 'FPS', 'NPP', 'SEPA_INSTANT']);
  });
});
