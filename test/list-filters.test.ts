import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, createTestContext, type TestContext } from './helpers/harness.ts';
import { mockDeposit, offrampCustomer, runPipeline } from './helpers/pipeline.ts';
import { loadContract } from './helpers/contract.ts';
import { REFERENCE, skipWithoutReference } from './helpers/reference.ts';
import { createAdjustableClock, systemClock } from '../src/infra/lib/clock.ts';
import { tronToHex } from '../src/adapters/chains/addresses.ts';

/**
 * List filters (docs/api-contract.md, "List filters"): trades by customer, flow and deposit;
 * deposits by transaction hash and receiving address; payouts by rail; every list by
 * createdFrom/createdTo. Expected counts come from the tables themselves, so each filter is
 * compared with an independent query. And every route refuses a query parameter it does not
 * declare, naming it — while each query parameter the contract defines is declared.
 */

const NAME = 'Lisa Filter';
const GBP = { currency: 'GBP', bankName: 'NatWest', accountNo: '66374958', sortCode: '08-99-99', swift: 'NWBKGB2L', accountName: NAME };

type Listed = 'customers' | 'bank_accounts' | 'deposit_addresses' | 'flows' | 'deposits' | 'trades' | 'payouts' | 'webhook_deliveries';
const LISTS: [string, Listed][] = [
  ['/customer/list', 'customers'],
  ['/bank-account/list', 'bank_accounts'],
  ['/deposit-address/list', 'deposit_addresses'],
  ['/autoramp-flow/list', 'flows'],
  ['/deposit/list', 'deposits'],
  ['/trade/list', 'trades'],
  ['/payout/list', 'payouts'],
  ['/webhook-delivery/list', 'webhook_deliveries'],
];

describe('list filters', () => {
  let ctx: TestContext;
  const clock = createAdjustableClock({ now: () => new Date('2026-06-03T09:00:00Z') });
  /** Between the two batches of objects: everything of batch 1 is before it, of batch 2 after. */
  let split: Date;
  let first: Awaited<ReturnType<typeof offrampCustomer>>;
  let second: Awaited<ReturnType<typeof offrampCustomer>>;
  const txids: string[] = [];

  before(async () => {
    ctx = await createTestContext({
      clock,
      authClock: systemClock,
      env: { OPENRAMP_SANDBOX_FINALITY_DEPTH: '1', OPENRAMP_MIN_DEPOSIT_TRX: '1' },
    });
    const s = ctx.openramp.services;
    await s.payouts.fundTreasury('EUR', 100_000_000n);
    await s.payouts.fundTreasury('GBP', 100_000_000n);
    // Deliveries are created by the fan-out whatever the receiver says; nothing listens here.
    await s.partners.setCallbackUrl(ctx.partner.partnerId, 'http://127.0.0.1:9/hook');

    first = await offrampCustomer(ctx, { name: NAME });
    txids.push(await mockDeposit(ctx, { to: first.depositAddress, amount: '123.45' }));
    await runPipeline(ctx, 4, { advanceMs: 61_000, deliverWebhooks: true });

    clock.advance(30 * 60_000);
    split = clock.now();
    clock.advance(30 * 60_000);

    second = await offrampCustomer(ctx, { name: NAME, bank: GBP });
    txids.push(await mockDeposit(ctx, { to: second.depositAddress, amount: '50.00' }));
    txids.push(await mockDeposit(ctx, { to: first.depositAddress, amount: '77.00' }));
    await runPipeline(ctx, 4, { advanceMs: 61_000, deliverWebhooks: true });
  });
  after(() => ctx.close());

  const get = (url: string) => call(ctx, { method: 'GET', url });
  const list = async (url: string) => {
    const r = await get(url);
    assert.equal(r.status, 200, `${url}: ${r.body}`);
    return r.json.data as { list: any[]; total: number };
  };
  const db = () => ctx.openramp.services.db;

  it('the pipeline made what the filters are checked against', async () => {
    const trades = await db().selectFrom('trades').select(['id', 'customer_id']).execute();
    assert.equal(trades.length, 3, 'one trade per deposit');
    const payouts = await db().selectFrom('payouts').select('rail').execute();
    assert.equal(new Set(payouts.map((p) => p.rail)).size, 2, 'payouts on two rails');
  });

  it('trades by customerId, flowId and depositId', async () => {
    const byFirst = await list(`/trade/list?customerId=${first.customerId}&pageSize=100`);
    const firstTrades = await db().selectFrom('trades').select('id').where('customer_id', '=', first.customerId).execute();
    assert.equal(byFirst.total, 2);
    assert.deepEqual(byFirst.list.map((t) => t.id).sort(), firstTrades.map((t) => t.id).sort());
    assert.equal((await list(`/trade/list?customerId=${second.customerId}`)).total, 1);
    const byFlow = await list(`/trade/list?flowId=${second.flowId}`);
    assert.equal(byFlow.total, 1);
    const flowTrade = await db().selectFrom('trades').select('id').where('flow_id', '=', second.flowId).executeTakeFirstOrThrow();
    assert.equal(byFlow.list[0].id, flowTrade.id);
    for (const txid of txids) {
      const d = await db().selectFrom('deposits').select(['id', 'trade_id']).where('tx_hash', '=', `0x${txid}`).executeTakeFirstOrThrow();
      const byDeposit = await list(`/trade/list?depositId=${d.id}`);
      assert.equal(byDeposit.total, 1, txid);
      assert.equal(byDeposit.list[0].id, d.trade_id);
    }
    assert.equal((await list('/trade/list?depositId=dep_unknown')).total, 0);
    assert.equal((await list(`/trade/list?customerId=${first.customerId}&flowId=${second.flowId}`)).total, 0, 'filters combine');
  });

  it('deposits by txHash (with or without 0x, any case) and by receiving address (T…, or its hex form)', async () => {
    const txid = txids[1]!;
    for (const form of [txid, `0x${txid}`, txid.toUpperCase()]) {
      const r = await list(`/deposit/list?txHash=${form}`);
      assert.equal(r.total, 1, form);
      assert.equal(r.list[0].txid, txid);
    }
    const toFirst = await list(`/deposit/list?address=${first.depositAddress}`);
    assert.equal(toFirst.total, 2);
    assert.ok(toFirst.list.every((d) => d.customerId === first.customerId));
    const hex = tronToHex(second.depositAddress);
    assert.equal((await list(`/deposit/list?address=${hex}`)).total, 1);
    assert.equal((await list(`/deposit/list?address=${hex.toUpperCase().replace('0X', '0x')}`)).total, 1);
    assert.equal((await list(`/deposit/list?address=0x${'0'.repeat(40)}`)).total, 0);
    for (const [q, field] of [
      ['txHash=0x1234', 'txHash'],
      [`txHash=${'g'.repeat(64)}`, 'txHash'],
      ['address=nope', 'address'],
      ['address=T123', 'address'],
    ] as const) {
      const r = await get(`/deposit/list?${q}`);
      assert.equal(r.status, 422, `${q}: ${r.body}`);
      assert.equal(r.json.status, 'INVALID_PARAMETERS');
      assert.match(r.json.message, new RegExp(`^${field}: `), q);
    }
  });

  it('payouts by rail', async () => {
    const rails = await db().selectFrom('payouts').select(['rail', 'customer_id']).execute();
    for (const rail of new Set(rails.map((p) => p.rail))) {
      const r = await list(`/payout/list?rail=${rail}&pageSize=100`);
      assert.equal(r.total, rails.filter((p) => p.rail === rail).length, rail);
      assert.ok(
        r.list.every((p) => p.rail === rail),
        rail,
      );
    }
    const bad = await get('/payout/list?rail=CARRIER_PIGEON');
    assert.equal(bad.status, 422);
    assert.match(bad.json.message, /^rail: must be one of /);
  });

  it('every list: createdFrom/createdTo are inclusive bounds that match the table', async () => {
    const at = split.toISOString();
    for (const [route, table] of LISTS) {
      const rows = await db().selectFrom(table).select('created_at').where('partner_id', '=', ctx.partner.partnerId).execute();
      const before = rows.filter((r) => new Date(r.created_at) <= split).length;
      const after = rows.filter((r) => new Date(r.created_at) >= split).length;
      assert.ok(before > 0 && after > 0, `${route}: both batches have rows (${before}/${after})`);
      assert.equal((await list(`${route}?pageSize=100`)).total, rows.length, `${route}: unfiltered`);
      assert.equal((await list(`${route}?createdTo=${at}`)).total, before, `${route}: createdTo`);
      assert.equal((await list(`${route}?createdFrom=${at}`)).total, after, `${route}: createdFrom`);
      assert.equal((await list(`${route}?createdFrom=${at}&createdTo=${at}`)).total, 0, `${route}: nothing at the split itself`);
      // An offset other than Z is the same instant.
      const plus2 = new Date(split.getTime() + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
      assert.equal((await list(`${route}?createdFrom=${encodeURIComponent(plus2)}`)).total, after, `${route}: offset form`);
    }
  });

  it('every list: a bound that is not an ISO 8601 date-time, or from after to, is refused with 422 naming it', async () => {
    const later = new Date(split.getTime() + 1000).toISOString();
    for (const [route] of LISTS) {
      for (const [q, field] of [
        ['createdFrom=yesterday', 'createdFrom'],
        ['createdTo=2026-06-03', 'createdTo'],
        ['createdFrom=2026-13-01T00:00:00Z', 'createdFrom'],
        [`createdFrom=${later}&createdTo=${split.toISOString()}`, 'createdFrom'],
      ] as const) {
        const r = await get(`${route}?${q}`);
        assert.equal(r.status, 422, `${route}?${q}: ${r.body}`);
        assert.deepEqual(Object.keys(r.json).sort(), ['message', 'status']);
        assert.equal(r.json.status, 'INVALID_PARAMETERS');
        assert.match(r.json.message, new RegExp(`^${field}: `), `${route}?${q}: ${r.json.message}`);
      }
    }
  });
});

describe('unknown query parameters', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestContext();
  });
  after(() => ctx.close());

  it('are refused with 422 naming them, on lists, details, routes without parameters and POSTs', async () => {
    const cases: [method: 'GET' | 'POST', url: string, name: string][] = [
      ['GET', '/trade/list?statsu=SETTLED', 'statsu'],
      ['GET', '/customer/list?pageNum=1&sort=asc', 'sort'],
      ['GET', '/deposit/detail?id=dep_x&verbose=1', 'verbose'],
      ['GET', '/basic-info?x=1', 'x'],
      ['GET', '/balance?currency=EUR', 'currency'],
      ['POST', '/callback-url?dryRun=true', 'dryRun'],
    ];
    for (const [method, url, name] of cases) {
      const r = await call(ctx, { method, url, ...(method === 'POST' ? { body: { callbackUrl: '' } } : {}) });
      assert.equal(r.status, 422, `${url}: ${r.body}`);
      assert.equal(r.json.status, 'INVALID_PARAMETERS');
      assert.equal(r.headers['x-error-code'], 'INVALID_PARAMETERS');
      assert.match(r.json.message, new RegExp(`^${name}: unknown query parameter`), r.json.message);
    }
    // A name that is not a plain identifier is quoted, not echoed raw.
    const odd = await call(ctx, { method: 'GET', url: '/basic-info?%3Cscript%3E=1' });
    assert.equal(odd.status, 422);
    assert.match(odd.json.message, /^"<script>": unknown query parameter/);
    // The route's own parameters still work.
    assert.equal((await call(ctx, { method: 'GET', url: '/trade/list?status=SETTLED&pageNum=1&pageSize=5' })).status, 200);
  });

  it('an unauthenticated caller learns nothing: 401 first; unsigned routes check too', async () => {
    const r = await ctx.openramp.api.inject({ method: 'GET', url: '/trade/list?statsu=1' });
    assert.equal(r.statusCode, 401);
    const health = await ctx.openramp.api.inject({ method: 'GET', url: '/health?x=1' });
    assert.equal(health.statusCode, 422, health.body);
    assert.equal((await ctx.openramp.api.inject({ method: 'GET', url: '/health' })).statusCode, 200);
  });

  it('every query parameter the contract defines on a route we serve is declared (so none is refused)', {
    skip: skipWithoutReference('contract query parameters', REFERENCE.contract),
  }, async () => {
    const contract = loadContract();
    const ours = (await ctx.openramp.api.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>;
    };
    const paths = contract.doc.paths as Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>;
    let checked = 0;
    for (const [route, ops] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const served = ours.paths[route]?.[method];
        if (!served) continue;
        const declared = new Set((served.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name));
        for (const p of (op.parameters ?? []).filter((x) => x.in === 'query')) {
          assert.ok(declared.has(p.name), `${method.toUpperCase()} ${route}: the contract's query parameter ${p.name} is not declared`);
          checked++;
        }
      }
    }
    assert.ok(checked >= 30, `checked ${checked} contract query parameters`);
  });
});
