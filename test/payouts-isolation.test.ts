import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { call, countRows, createTestContext, onboard, type TestContext } from './helpers/harness.ts';
import { mockDeposit, openOfframpFlow, runPipeline } from './helpers/pipeline.ts';
import { createAdjustableClock, systemClock } from '../src/infra/lib/clock.ts';
import type { PartnerCredentials } from '../src/domain/partners/partners.ts';
import { RAILS, type RailId } from '../src/adapters/rails/rails.ts';
import { buildRailFile, creditorRefusals, paymentRefusal } from '../src/adapters/rails/payment-file.ts';
import { SAMPLE_BANKS, SAMPLE_CREDITORS } from './helpers/banks.ts';
import { SANDBOX_DEBTORS } from '../src/domain/payouts/payouts.ts';
import { largestFile } from '../src/domain/payouts/batcher.ts';
import { decideAdvance } from '../src/domain/deposits/state-machine.ts';
import { AMOUNT_MAX, FIAT_ASSETS, type FiatAsset } from '../src/infra/lib/money.ts';

/**
 * One payout that cannot be paid never stops the others (docs/rails.md, "A payout that cannot
 * be paid"). Payouts are poisoned after they were accepted — the way data stored before a rule
 * existed, or edited by hand, would be — in each way the file writers refuse a payment; each
 * sits in one batch with another partner's good payout of the same rail, and the good ones
 * settle while the poisoned ones are HELD with the writer's reason, announced, and then fixed by
 * the partner or an operator.
 */

/** How each currency's payout is poisoned, and the writer's words the hold reason must carry. */
const POISONS: { currency: FiatAsset; how: string; reason: RegExp }[] = [
  { currency: 'EUR', how: 'IBAN removed, a bare account number left', reason: /SEPA needs the creditor account as an IBAN/ },
  { currency: 'USD', how: 'holder name blank in the file character set', reason: /empty once restricted to the file's character set/ },
  { currency: 'AUD', how: 'BSB that is not 6 digits', reason: /must be a 6-digit BSB/ },
  { currency: 'CAD', how: 'transit number removed', reason: /3-digit institution and a 5-digit transit number/ },
  { currency: 'GBP', how: 'amount beyond the format maximum', reason: /exceeds the format's maximum/ },
];

type Db = TestContext['openramp']['services']['db'];

async function poison(db: Db, currency: FiatAsset, payout: { id: string; bank_account_id: string }) {
  const bank = db.updateTable('bank_accounts').where('id', '=', payout.bank_account_id);
  switch (currency) {
    case 'EUR':
      return bank.set({ iban: null, account_no: '12345678' }).execute();
    case 'USD':
      return bank.set({ account_name: ' \u00a0 ' }).execute();
    case 'AUD':
      return bank.set({ bsb: '999' }).execute();
    case 'CAD':
      return bank.set({ transit: null }).execute();
    case 'GBP':
      return db.updateTable('payouts').set({ amount: '100000000000' }).where('id', '=', payout.id).execute();
    default:
      throw new Error(`no poison for ${currency}`);
  }
}

describe('payout isolation: a payout the file writer refuses is held; the rest of its batch and every other rail go out', () => {
  let ctx: TestContext;
  let other: PartnerCredentials;
  // Wednesday 3 June 2026, 09:00 UTC: a business day for every rail calendar.
  const clock = createAdjustableClock({ now: () => new Date('2026-06-03T09:00:00Z') });
  const ops = async (method: 'GET' | 'POST', url: string, payload?: object) => {
    const r = await ctx.openramp.api.inject({
      method,
      url,
      headers: { authorization: `Bearer ${ctx.operatorToken}` },
      ...(payload ? { payload } : {}),
    });
    return { status: r.statusCode, body: r.body, json: JSON.parse(r.body) };
  };
  const db = () => ctx.openramp.services.db;
  const payoutOfTx = async (txid: string) => {
    const d = await db().selectFrom('deposits').select('trade_id').where('tx_hash', '=', `0x${txid}`).executeTakeFirstOrThrow();
    assert.ok(d.trade_id, `deposit ${txid} was traded`);
    return db().selectFrom('payouts').selectAll().where('trade_id', '=', d.trade_id).orderBy('attempt', 'desc').executeTakeFirstOrThrow();
  };
  const eventsOf = async (payoutId: string) =>
    (await db().selectFrom('events').select(['type', 'partner_id']).where('object_id', '=', payoutId).orderBy('seq').execute()).map(
      (e) => e.type,
    );

  /** Per currency: the poisoned payout's deposit (the test partner) and a good one (the other partner). */
  const made = new Map<FiatAsset, { bad: { txid: string; customerId: string }; good: { txid: string } }>();
  const held = new Map<FiatAsset, string>();

  /** The partner adds a good account for the held payout's customer; returns its id. */
  const correctedAccount = async (currency: FiatAsset): Promise<string> => {
    const r = await call(ctx, {
      method: 'POST',
      url: '/bank-account/add',
      body: { customerId: made.get(currency)!.bad.customerId, currency, accountName: `Held Payee ${currency}`, ...SAMPLE_BANKS[currency] },
    });
    assert.equal(r.status, 200, r.body);
    return r.json.bankAccountId as string;
  };

  before(async () => {
    ctx = await createTestContext({
      clock,
      authClock: systemClock,
      env: { OPENRAMP_SANDBOX_FINALITY_DEPTH: '2', OPENRAMP_MIN_DEPOSIT_TRX: '1' },
    });
    other = await ctx.openramp.services.partners.create('Other Partner');
    for (const currency of FIAT_ASSETS) {
      const open = async (creds: PartnerCredentials, name: string) => {
        const c = await onboard(ctx, { name, creds, bank: { currency, accountName: name, ...SAMPLE_BANKS[currency] } });
        const f = await openOfframpFlow(ctx, { customerId: c.customerId, bankAccountId: c.bankAccountId, creds });
        return { customerId: c.customerId, txid: await mockDeposit(ctx, { to: f.depositAddress, amount: '300.00', creds }) };
      };
      const bad = await open(ctx.partner, `Held Payee ${currency}`);
      const good = await open(other, `Good Payee ${currency}`);
      made.set(currency, { bad, good });
    }
    // No treasury yet: every payout is created and waits PENDING for funds.
    await runPipeline(ctx, 6);
    for (const x of made.values()) assert.equal((await payoutOfTx(x.bad.txid)).status, 'PENDING');
    for (const p of POISONS) await poison(db(), p.currency, await payoutOfTx(made.get(p.currency)!.bad.txid));
    for (const currency of FIAT_ASSETS) await ctx.openramp.services.payouts.fundTreasury(currency, 1_000_000_000n);
    await runPipeline(ctx, 3);
  });
  after(() => ctx.close());

  for (const p of POISONS) {
    it(`${p.currency} (${p.how}): held with the writer's reason; the other partner's payout in the same batch settles`, async () => {
      const x = made.get(p.currency)!;
      const bad = await payoutOfTx(x.bad.txid);
      const good = await payoutOfTx(x.good.txid);
      assert.equal(good.status, 'SETTLED', `the good ${p.currency} payout settled`);
      assert.equal(good.rail, bad.rail, 'both were due in one batch of one rail');
      assert.equal(bad.status, 'HELD');
      assert.match(bad.hold_reason ?? '', p.reason);
      assert.equal(bad.batch_id, null, 'not in any payment file');
      assert.deepEqual(await eventsOf(bad.id), ['PAYOUT_HELD'], 'the partner is told');
      const ev = await db()
        .selectFrom('events')
        .select(['partner_id', 'payload'])
        .where('object_id', '=', bad.id)
        .executeTakeFirstOrThrow();
      assert.equal(ev.partner_id, ctx.partner.partnerId);
      assert.match(String((ev.payload as { holdReason?: string }).holdReason), p.reason);
      const seen = await call(ctx, { method: 'GET', url: `/payout/detail?id=${bad.id}` });
      assert.equal(seen.json.data.status, 'HELD');
      assert.match(seen.json.data.holdReason, p.reason);
      held.set(p.currency, bad.id);
    });
  }

  it('the untouched currency settles for both partners in the same runs', async () => {
    const x = made.get('SGD')!;
    assert.equal((await payoutOfTx(x.bad.txid)).status, 'SETTLED');
    assert.equal((await payoutOfTx(x.good.txid)).status, 'SETTLED');
  });

  it('operators see the held payouts of every partner, camelCase, with the reason, and filter by partner', async () => {
    const all = await ops('GET', '/ops/payouts?status=HELD&pageSize=50');
    assert.equal(all.status, 200, all.body);
    const ids = all.json.data.list.map((p: { id: string }) => p.id).sort();
    assert.deepEqual(ids, [...held.values()].sort());
    const one = all.json.data.list[0];
    assert.equal(one.partnerId, ctx.partner.partnerId);
    assert.equal(one.status, 'HELD');
    assert.ok(one.holdReason && one.heldAt && typeof one.amount === 'string' && one.amount.includes('.'));
    const none = await ops('GET', `/ops/payouts?status=HELD&partnerId=${other.partnerId}`);
    assert.equal(none.json.data.total, 0);
  });

  it('a release the writer would still refuse is refused and changes nothing', async () => {
    const id = held.get('EUR')!;
    const before = await db().selectFrom('payouts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const r = await ops('POST', `/ops/payouts/${id}/release`, {});
    assert.equal(r.status, 422, r.body);
    assert.equal(r.json.status, 'FAILED');
    assert.match(r.json.message, /would be held again on SEPA_INSTANT: .*IBAN/);
    const afterRow = await db().selectFrom('payouts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual(afterRow, before);
  });

  it('operator: release to a corrected account → PENDING → submitted and settled; every step announced', async () => {
    const id = held.get('EUR')!;
    const fixed = await correctedAccount('EUR');
    const r = await ops('POST', `/ops/payouts/${id}/release`, { bankAccountId: fixed });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.data.status, 'PENDING');
    assert.equal(r.json.data.bankAccountId, fixed);
    await runPipeline(ctx, 2);
    const p = await db().selectFrom('payouts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(p.status, 'SETTLED');
    assert.equal(p.attempt, 1, 'a release is the same attempt');
    assert.deepEqual(await eventsOf(id), ['PAYOUT_HELD', 'PAYOUT_RELEASED', 'PAYOUT_SUBMITTED', 'PAYOUT_SETTLED']);
  });

  it('partner: /payout/retry of a HELD payout to a corrected account releases it; another partner cannot', async () => {
    const id = held.get('USD')!;
    const fixed = await correctedAccount('USD');
    const stranger = await call(ctx, {
      method: 'POST',
      url: '/payout/retry',
      body: { payoutId: id, bankAccountId: fixed },
      creds: other,
    });
    assert.equal(stranger.status, 422, stranger.body);
    assert.match(stranger.json.message, /payout not found/, 'another partner’s payout does not exist for this one');
    const r = await call(ctx, { method: 'POST', url: '/payout/retry', body: { payoutId: id, bankAccountId: fixed } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.data.id, id);
    assert.equal(r.json.data.status, 'PENDING');
    await runPipeline(ctx, 2);
    assert.equal((await db().selectFrom('payouts').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status, 'SETTLED');
  });

  it('operator: cancel → CANCELLED, money owed to the customer again; the partner retries it as attempt 2, which settles', async () => {
    const id = held.get('AUD')!;
    const noReason = await ops('POST', `/ops/payouts/${id}/cancel`, {});
    assert.equal(noReason.status, 422, noReason.body);
    const r = await ops('POST', `/ops/payouts/${id}/cancel`, { reason: 'BSB does not exist; customer asked for another account' });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.data.status, 'CANCELLED');
    assert.equal(r.json.data.cancelReason, 'BSB does not exist; customer asked for another account');
    assert.deepEqual(await eventsOf(id), ['PAYOUT_HELD', 'PAYOUT_CANCELLED']);
    const again = await ops('POST', `/ops/payouts/${id}/cancel`, { reason: 'twice' });
    assert.equal(again.status, 422, again.body);
    assert.match(again.json.message, /is CANCELLED; only HELD payouts can be cancelled/);

    const fixed = await correctedAccount('AUD');
    const retry = await call(ctx, {
      method: 'POST',
      url: '/payout/retry',
      body: { payoutId: id, bankAccountId: fixed },
    });
    assert.equal(retry.status, 200, retry.body);
    assert.equal(retry.json.data.attempt, 2);
    assert.equal(retry.json.data.previousPayoutId, id);
    await runPipeline(ctx, 2);
    const next = await db().selectFrom('payouts').select('status').where('id', '=', retry.json.data.id).executeTakeFirstOrThrow();
    assert.equal(next.status, 'SETTLED');
  });

  it('refuses operator moves that do not apply: settled, unknown, another state', async () => {
    const settled = await payoutOfTx(made.get('SGD')!.good.txid);
    const release = await ops('POST', `/ops/payouts/${settled.id}/release`, {});
    assert.equal(release.status, 422, release.body);
    assert.match(release.json.message, /is SETTLED; only HELD payouts can be released/);
    const cancel = await ops('POST', `/ops/payouts/${settled.id}/cancel`, { reason: 'x' });
    assert.match(cancel.json.message, /is SETTLED; only HELD payouts can be cancelled/);
    assert.match((await ops('POST', '/ops/payouts/pay_unknown/release', {})).json.message, /payout not found: pay_unknown/);
    const wrongAccount = await ops('POST', `/ops/payouts/${held.get('CAD')!}/release`, {
      bankAccountId: (await payoutOfTx(made.get('CAD')!.good.txid)).bank_account_id,
    });
    assert.equal(wrongAccount.status, 422, wrongAccount.body);
    assert.match(wrongAccount.json.message, /bank account not found/, 'another partner’s account is not found for this payout');
  });

  it('the ledger reconciles with held and cancelled payouts', async () => {
    const r = await ops('GET', '/ops/reconcile');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.data.ok, true, JSON.stringify(r.json.data.checks.filter((c: { ok: boolean }) => !c.ok)));
  });
});

describe('payout isolation: one rail failing does not delay another', () => {
  let ctx: TestContext;
  const clock = createAdjustableClock({ now: () => new Date('2026-06-03T09:00:00Z') });
  before(async () => {
    ctx = await createTestContext({
      clock,
      authClock: systemClock,
      env: { OPENRAMP_SANDBOX_FINALITY_DEPTH: '2', OPENRAMP_MIN_DEPOSIT_TRX: '1' },
    });
  });
  after(() => ctx.close());

  it('FPS batches fail at the database; SEPA settles in the same runs; FPS goes once the failure ends', async () => {
    const db = ctx.openramp.services.db;
    for (const c of ['EUR', 'GBP'] as const) await ctx.openramp.services.payouts.fundTreasury(c, 1_000_000_000n);
    // A real failure below the batcher, for one rail only: the batch insert itself raises.
    await sql`create function refuse_fps_batch() returns trigger language plpgsql as $$
      begin if new.rail = 'FPS' then raise exception 'FPS bank link down'; end if; return new; end $$`.execute(db);
    await sql`create trigger refuse_fps before insert on payout_batches for each row execute function refuse_fps_batch()`.execute(db);
    const txids: Record<string, string> = {};
    for (const currency of ['EUR', 'GBP'] as const) {
      const name = `Rail Payee ${currency}`;
      const c = await onboard(ctx, { name, bank: { currency, accountName: name, ...SAMPLE_BANKS[currency] } });
      const f = await openOfframpFlow(ctx, { customerId: c.customerId, bankAccountId: c.bankAccountId });
      txids[currency] = await mockDeposit(ctx, { to: f.depositAddress, amount: '120.00' });
    }
    await runPipeline(ctx, 6);
    const statusOf = async (txid: string) => {
      const d = await db.selectFrom('deposits').select('trade_id').where('tx_hash', '=', `0x${txid}`).executeTakeFirstOrThrow();
      return (await db.selectFrom('payouts').select(['status', 'rail']).where('trade_id', '=', d.trade_id!).executeTakeFirstOrThrow())
        .status;
    };
    assert.equal(await statusOf(txids.EUR!), 'SETTLED');
    // Payment files name people and accounts: owner-only, as written for the bank link.
    const dir = path.join(ctx.outboxDir, 'SEPA_INSTANT');
    const files = readdirSync(dir);
    assert.equal(files.length, 1);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(path.join(dir, files[0]!)).mode & 0o777, 0o600);
    assert.equal(await statusOf(txids.GBP!), 'PENDING', 'its batch rolled back; it waits, not held: the payout itself is fine');
    await sql`drop trigger refuse_fps on payout_batches`.execute(db);
    await runPipeline(ctx, 2);
    assert.equal(await statusOf(txids.GBP!), 'SETTLED');
  });
});

describe('payout isolation: amounts every file can carry', () => {
  const at = new Date('2026-06-03T09:00:00Z');
  for (const id of Object.keys(RAILS) as RailId[]) {
    const rail = RAILS[id];
    // The rail is only chosen up to its scheme limit; past it the currency's other rail is.
    const max =
      rail.maxAmountMinor !== null && rail.maxAmountMinor < AMOUNT_MAX[rail.currency] ? rail.maxAmountMinor : AMOUNT_MAX[rail.currency];
    it(`${id}: the most it is given (${max} minor units of ${rail.currency}) fits its file; a trillion does not`, () => {
      const x = {
        debtor: SANDBOX_DEBTORS[rail.currency],
        creditor: SAMPLE_CREDITORS[rail.currency],
        executionDate: '2026-06-03',
        createdAt: at,
      };
      assert.equal(paymentRefusal(rail, { ...x, amountMinor: max }), null);
      assert.match(paymentRefusal(rail, { ...x, amountMinor: 10n ** 12n }) ?? '', /exceeds/);
    });
  }

  it('the entry check asks every rail of the currency: none refuses a good payee; both SEPA rails refuse a bare account number', () => {
    for (const c of FIAT_ASSETS) assert.deepEqual(creditorRefusals(c, SANDBOX_DEBTORS[c], SAMPLE_CREDITORS[c], at), [], c);
    const bare = creditorRefusals('EUR', SANDBOX_DEBTORS.EUR, { ...SAMPLE_CREDITORS.EUR, iban: null, accountNo: '12345678' }, at);
    assert.deepEqual(
      bare.map((r) => r.rail),
      ['SEPA_INSTANT', 'SEPA_CT'],
    );
    for (const r of bare) assert.match(r.reason, /SEPA needs the creditor account as an IBAN/);
  });

  it('a batch whose total the file cannot carry goes out as the longest prefix the writer takes', () => {
    const rail = RAILS.BECS; // ABA: a 10-digit file total
    const build = (n: number) =>
      buildRailFile(
        rail,
        {
          batchId: 'B1',
          createdAt: at,
          executionDate: '2026-06-03',
          debtor: SANDBOX_DEBTORS.AUD,
          instructions: Array.from({ length: 3 }, (_, i) => ({
            payoutId: `pay_${i}`,
            endToEndId: `pay_${i}`,
            amountMinor: 4_000_000_000n,
            currency: 'AUD' as const,
            creditor: SAMPLE_CREDITORS.AUD,
            remittance: `payout ${i}`,
          })).slice(0, n),
        },
        1,
      );
    assert.throws(() => build(3), /10-digit total/);
    const { file, count } = largestFile(3, build);
    assert.equal(count, 2);
    assert.equal(file.controlSumMinor, 8_000_000_000n);
    assert.throws(
      () =>
        largestFile(3, () => {
          throw new TypeError('a bug, not a refusal');
        }),
      TypeError,
    );
  });

  it('a chain deposit above the maximum is ACTION_REQUIRED with LIMIT_EXCEEDED, never traded', () => {
    const facts = (amount: bigint) => ({
      deposit: { status: 'RECEIVED' as const, blockNumber: 1n, amount, currency: 'USDT', network: 'TRX' },
      finalNumber: 5n,
      flow: { id: 'flw_1', status: 'ENABLED' as const, deletedAt: null },
      customerStatus: 'CONFIRMED',
      minimum: null,
    });
    assert.equal(decideAdvance(facts(AMOUNT_MAX.USDT)).kind, 'confirm');
    const d = decideAdvance(facts(AMOUNT_MAX.USDT + 1n));
    assert.equal(d.kind, 'action-required');
    assert.match(d.kind === 'action-required' ? d.reason : '', /^LIMIT_EXCEEDED: 10000000\.000001 USDT is above the 10000000\.000000/);
  });
});

describe('payout isolation: amount limits at every entry', () => {
  let ctx: TestContext;
  const HUGE = '9'.repeat(40);
  before(async () => {
    ctx = await createTestContext({ env: { OPENRAMP_MIN_DEPOSIT_TRX: '1' } });
  });
  after(() => ctx.close());
  const ops = (url: string, payload: object) =>
    ctx.openramp.api.inject({ method: 'POST', url, headers: { authorization: `Bearer ${ctx.operatorToken}` }, payload });

  it('trade preview, /deposit/mock, /sandbox/chain/transfer and /ops/treasury/fund refuse a 40-digit amount and one just over the maximum', async () => {
    const c = await onboard(ctx, { name: 'Limit Payee' });
    const f = await openOfframpFlow(ctx, { customerId: c.customerId, bankAccountId: c.bankAccountId });
    const before = await countRows(ctx, 'ledger_journals');
    const overCrypto = '10000000.000001';
    for (const amount of [HUGE, overCrypto]) {
      const preview = await call(ctx, {
        method: 'GET',
        url: `/autoramp-flow/trade-preview?fromCurrency=USDT&toCurrency=EUR&amount=${amount}`,
      });
      assert.equal(preview.status, 422, preview.body);
      assert.match(preview.json.message, /amount: (exceeds the maximum 10000000\.000000 USDT|must be a decimal)/);
      const mock = await call(ctx, {
        method: 'POST',
        url: '/deposit/mock',
        body: { currency: 'USDT', amount, senderName: 'S', senderAccountNo: 'x', receiverAccountNo: f.depositAddress, network: 'TRX' },
      });
      assert.equal(mock.status, 422, mock.body);
      assert.match(mock.json.message, /amount: exceeds the maximum/);
      const transfer = await call(ctx, {
        method: 'POST',
        url: '/sandbox/chain/transfer',
        body: { network: 'TRX', currency: 'USDT', amount, to: f.depositAddress },
      });
      assert.equal(transfer.status, 422, transfer.body);
      assert.match(transfer.json.message, /amount: exceeds the maximum/);
    }
    for (const amount of [HUGE, '50000000.01']) {
      const fund = await ops('/ops/treasury/fund', { currency: 'EUR', amount });
      assert.equal(fund.statusCode, 422, fund.body);
      assert.match(JSON.parse(fund.body).message, /amount: exceeds the maximum 50000000\.00 EUR/);
    }
    assert.equal(
      (await ops('/ops/treasury/fund', { currency: 'EUR', amount: '50000000.00' })).statusCode,
      200,
      'the maximum itself is taken',
    );
    assert.equal(await countRows(ctx, 'ledger_journals'), before + 1, 'only the accepted funding wrote a journal');
    assert.equal(await countRows(ctx, 'deposits'), 0, 'no refused transfer reached the chain');
  });

  it('an EUR account without an IBAN is refused at entry, naming the field', async () => {
    const c = await onboard(ctx, { name: 'No Iban' });
    const n = await countRows(ctx, 'bank_accounts');
    const r = await call(ctx, {
      method: 'POST',
      url: '/bank-account/add',
      body: {
        customerId: c.customerId,
        currency: 'EUR',
        bankName: 'Bank',
        accountNo: '12345678',
        swift: 'DEUTDEFF',
        accountName: 'No Iban',
      },
    });
    assert.equal(r.status, 422, r.body);
    assert.match(r.json.message, /^iban: required for EUR accounts \(SEPA\)/);
    assert.equal(await countRows(ctx, 'bank_accounts'), n);
  });
});
