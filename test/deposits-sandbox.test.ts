import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, createTestContext, onboard, type TestContext } from './helpers/harness.ts';
import { openOfframpFlow } from './helpers/pipeline.ts';
import { createAdjustableClock, systemClock, type AdjustableClock } from '../src/infra/lib/clock.ts';
import type { Network } from '../src/adapters/chains/networks.ts';

/** Moves sandbox time, mines the blocks that are due and runs the network's scanner once. */
async function step(ctx: TestContext, clock: AdjustableClock, network: Network, seconds = 1) {
  clock.advance(seconds * 1000);
  await ctx.openramp.services.sandboxChain!.produceBlocks();
  return ctx.openramp.services.scanners[network].tick();
}

async function deposit(ctx: TestContext, id: string) {
  const r = await call(ctx, { method: 'GET', url: `/deposit/detail?id=${id}` });
  assert.equal(r.status, 200, r.body);
  return r.json.data;
}

async function eventsOf(ctx: TestContext, objectId: string) {
  const rows = await ctx.openramp.services.db
    .selectFrom('events')
    .select(['type', 'payload'])
    .where('object_id', '=', objectId)
    .orderBy('seq')
    .execute();
  return rows.map((r) => r.type);
}

async function depositByTx(ctx: TestContext, txid: string) {
  const list = await call(ctx, { method: 'GET', url: '/deposit/list?pageSize=100' });
  return list.json.data.list.find((d: any) => d.txid === txid);
}

describe('deposit detection on the sandbox chain', () => {
  let ctx: TestContext;
  // Sandbox time frozen at a fixed instant and moved only by the test: blocks are deterministic.
  const clock = createAdjustableClock({ now: () => new Date('2026-06-01T12:00:00Z') });
  let customer: { customerId: string; bankAccountId: string };
  const addr: Record<string, string> = {};
  const flowId: Record<string, string> = {};

  before(async () => {
    ctx = await createTestContext({
      clock,
      authClock: systemClock,
      env: { OPENRAMP_SANDBOX_FINALITY_DEPTH: '3', OPENRAMP_MIN_DEPOSIT_ETH: '10', OPENRAMP_MIN_DEPOSIT_TRX: '1' },
    });
    customer = await onboard(ctx, { name: 'Dana Deposit' });
    for (const network of ['ETH', 'TRX'] as const) {
      const r = await openOfframpFlow(ctx, { ...customer, network });
      addr[network] = r.depositAddress;
      flowId[network] = r.flowId;
    }
  });
  after(() => ctx.close());

  for (const network of ['ETH', 'TRX'] as const) {
    it(`${network}: mock deposit → RECEIVED (n/N) → CONFIRMED, once, with events`, async () => {
      const m = await call(ctx, {
        method: 'POST',
        url: '/deposit/mock',
        body: {
          currency: 'USDT',
          amount: '250.5',
          senderName: 'Sam',
          senderAccountNo: 'ext-wallet',
          receiverAccountNo: addr[network],
          network,
        },
      });
      assert.equal(m.status, 200, m.body);
      const tick = await step(ctx, clock, network);
      assert.equal(tick.matched, 1);
      const d0 = await depositByTx(ctx, m.json.data.txid);
      assert.ok(d0, 'listed');
      let d = await deposit(ctx, d0.id);
      assert.equal(d.status, 'RECEIVED');
      assert.equal(d.amount, '250.500000');
      assert.equal(d.confirmations, 1);
      assert.equal(d.receiverDepositAddress.address, addr[network]);
      assert.equal(d.flowId, flowId[network]);
      if (network === 'TRX') {
        assert.match(d.txid, /^[0-9a-f]{64}$/, 'Tron txids without 0x');
        assert.match(d.tokenContract, /^T/);
      }
      await step(ctx, clock, network, 1);
      d = await deposit(ctx, d0.id);
      assert.equal(d.status, 'RECEIVED');
      assert.equal(d.confirmations, 2);
      await step(ctx, clock, network, 3);
      d = await deposit(ctx, d0.id);
      assert.equal(d.status, 'CONFIRMED');
      assert.deepEqual(await eventsOf(ctx, d0.id), ['DEPOSIT_RECEIVED', 'DEPOSIT_APPROVED']);
      const job = await ctx.openramp.services.db
        .selectFrom('jobs')
        .selectAll()
        .where('unique_key', '=', `trade.create:${d0.id}`)
        .executeTakeFirst();
      assert.ok(job, 'a trade job is queued in the same transaction');
      await step(ctx, clock, network, 5);
      assert.deepEqual(await eventsOf(ctx, d0.id), ['DEPOSIT_RECEIVED', 'DEPOSIT_APPROVED'], 'nothing happens twice');
    });
  }

  it('a reorg before finality rejects the deposit (CHAIN_REORG) and the re-mined transfer is credited once', async () => {
    const m = await call(ctx, {
      method: 'POST',
      url: '/deposit/mock',
      body: { currency: 'USDT', amount: '40', senderName: 'S', senderAccountNo: 'x', receiverAccountNo: addr.ETH, network: 'ETH' },
    });
    await step(ctx, clock, 'ETH');
    const id = (await depositByTx(ctx, m.json.data.txid)).id;
    const reorg = await call(ctx, { method: 'POST', url: '/sandbox/chain/reorg', body: { network: 'ETH', depth: 2 } });
    assert.equal(reorg.status, 200, reorg.body);
    const t = await ctx.openramp.services.scanners.ETH.tick();
    assert.ok(t.reorgDepth >= 1);
    let d = await deposit(ctx, id);
    assert.equal(d.status, 'RECEIVED', 're-mined in the new branch');
    assert.deepEqual(await eventsOf(ctx, id), ['DEPOSIT_RECEIVED', 'DEPOSIT_REJECTED', 'DEPOSIT_RECEIVED']);
    await step(ctx, clock, 'ETH', 5);
    d = await deposit(ctx, id);
    assert.equal(d.status, 'CONFIRMED');
    const rows = await ctx.openramp.services.db.selectFrom('deposits').select('id').where('tx_hash', '=', m.json.data.txid).execute();
    assert.equal(rows.length, 1, 'one deposit row for the transfer');

    const dropped = await call(ctx, {
      method: 'POST',
      url: '/deposit/mock',
      body: { currency: 'USDT', amount: '41', senderName: 'S', senderAccountNo: 'x', receiverAccountNo: addr.ETH, network: 'ETH' },
    });
    await step(ctx, clock, 'ETH');
    const id2 = (await depositByTx(ctx, dropped.json.data.txid)).id;
    await call(ctx, { method: 'POST', url: '/sandbox/chain/reorg', body: { network: 'ETH', depth: 1, dropTransfers: true } });
    await step(ctx, clock, 'ETH', 6);
    const d2 = await deposit(ctx, id2);
    assert.equal(d2.status, 'REJECTED');
    assert.equal(d2.rejectReason, 'CHAIN_REORG');
  });

  it('credits a transfer sent on the other EVM network (MATIC → the ETH flow)', async () => {
    const t = await call(ctx, {
      method: 'POST',
      url: '/sandbox/chain/transfer',
      body: { network: 'MATIC', currency: 'USDT', to: addr.ETH, amount: '30' },
    });
    assert.equal(t.status, 200, t.body);
    await step(ctx, clock, 'MATIC', 6);
    await ctx.openramp.services.scanners.MATIC.tick();
    const d = await deposit(ctx, (await depositByTx(ctx, t.json.data.txid)).id);
    assert.equal(d.network, 'MATIC');
    assert.equal(d.status, 'CONFIRMED');
    assert.equal(d.flowId, flowId.ETH);
  });

  it('holds deposits below the minimum and aggregates them per flow into one trade', async () => {
    const ids: string[] = [];
    for (const amount of ['4', '7']) {
      const m = await call(ctx, {
        method: 'POST',
        url: '/deposit/mock',
        body: { currency: 'USDT', amount, senderName: 'S', senderAccountNo: 'x', receiverAccountNo: addr.ETH, network: 'ETH' },
      });
      await step(ctx, clock, 'ETH', 6);
      ids.push((await depositByTx(ctx, m.json.data.txid)).id);
      if (amount === '4') {
        const d = await deposit(ctx, ids[0]!);
        assert.equal(d.status, 'CONFIRMED');
        assert.equal(d.holdReason, 'BELOW_MINIMUM');
        assert.equal(d.aggregateId, null, 'held until the total reaches 10');
      }
    }
    const [a, b] = [await deposit(ctx, ids[0]!), await deposit(ctx, ids[1]!)];
    assert.ok(a.aggregateId && a.aggregateId === b.aggregateId);
    const job = await ctx.openramp.services.db
      .selectFrom('jobs')
      .selectAll()
      .where('unique_key', '=', `trade.create:${a.aggregateId}`)
      .executeTakeFirstOrThrow();
    assert.deepEqual([...(job.payload as any).depositIds].sort(), [...ids].sort());
  });

  it('a deposit on a disabled flow or without a flow needs action; an operator refund rejects it', async () => {
    const dis = await call(ctx, { method: 'POST', url: '/autoramp-flow/update-status', body: { id: flowId.TRX, status: 'DISABLED' } });
    assert.equal(dis.status, 200, dis.body);
    assert.equal(dis.json.data.status, 'DISABLED');
    const m = await call(ctx, {
      method: 'POST',
      url: '/deposit/mock',
      body: { currency: 'USDT', amount: '20', senderName: 'S', senderAccountNo: 'x', receiverAccountNo: addr.TRX, network: 'TRX' },
    });
    await step(ctx, clock, 'TRX', 6);
    const id = (await depositByTx(ctx, m.json.data.txid)).id;
    let d = await deposit(ctx, id);
    assert.equal(d.status, 'ACTION_REQUIRED');
    assert.match(d.actionReason, /^FLOW_DISABLED/);
    const refund = await ctx.openramp.api.inject({
      method: 'POST',
      url: `/ops/deposits/${id}/refund`,
      headers: { authorization: `Bearer ${ctx.operatorToken}` },
      payload: { refundTxHash: 'abc123' },
    });
    assert.equal(refund.statusCode, 200, refund.body);
    d = await deposit(ctx, id);
    assert.equal(d.status, 'REJECTED');
    assert.equal(d.rejectReason, 'REFUNDED');
    assert.deepEqual(await eventsOf(ctx, id), ['DEPOSIT_RECEIVED', 'DEPOSIT_ACTION_REQUIRED', 'DEPOSIT_REJECTED']);

    const usdc = await call(ctx, {
      method: 'POST',
      url: '/sandbox/chain/transfer',
      body: { network: 'ETH', currency: 'USDC', to: addr.ETH, amount: '15' },
    });
    await step(ctx, clock, 'ETH', 6);
    const u = await deposit(ctx, (await depositByTx(ctx, usdc.json.data.txid)).id);
    assert.equal(u.status, 'ACTION_REQUIRED');
    assert.match(u.actionReason, /^NO_FLOW/);
    assert.equal(u.currency, 'USDC');
  });

  it('ignores dust, zero value, unknown addresses and non-allow-listed token contracts', async () => {
    const chain = ctx.openramp.services.sandboxChain!;
    const before = await ctx.openramp.services.db
      .selectFrom('deposits')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    const to = addr.ETH!.toLowerCase();
    await chain.submitTransfer({
      network: 'ETH',
      token: '0x1111111111111111111111111111111111111111',
      from: '0x00000000000000000000000000000000000000aa',
      to,
      value: 50_000_000n,
    });
    await chain.submitTransfer({
      network: 'ETH',
      token: ctx.openramp.services.registry.tokenFor('ETH', 'USDT')!.contract,
      from: '0x00000000000000000000000000000000000000aa',
      to,
      value: 10_000n,
    });
    await chain.submitTransfer({
      network: 'ETH',
      token: ctx.openramp.services.registry.tokenFor('ETH', 'USDT')!.contract,
      from: '0x00000000000000000000000000000000000000aa',
      to: '0x2222222222222222222222222222222222222222',
      value: 50_000_000n,
    });
    const t = await step(ctx, clock, 'ETH', 6);
    assert.equal(t.matched, 0);
    const afterCount = await ctx.openramp.services.db
      .selectFrom('deposits')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(afterCount.n, before.n);
  });

  it('refuses bad mock deposits with clear errors', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { currency: 'EUR', amount: '1', senderName: 'S', senderAccountNo: 'x', receiverAccountNo: addr.ETH, network: 'ETH' },
        /^currency: fiat/,
      ],
      [{ currency: 'USDT', amount: '1', senderName: 'S', senderAccountNo: 'x', receiverAccountNo: addr.ETH }, /^network: /],
      [{ currency: 'USDT', amount: '-1', senderName: 'S', senderAccountNo: 'x', receiverAccountNo: addr.ETH, network: 'ETH' }, /^amount: /],
      [
        { currency: 'USDT', amount: '1', senderName: 'S', senderAccountNo: 'x', receiverAccountNo: '0x1234', network: 'ETH' },
        /^receiverAccountNo: /,
      ],
      [
        {
          currency: 'USDT',
          amount: '1',
          senderName: 'S',
          senderAccountNo: 'x',
          receiverAccountNo: '0x2222222222222222222222222222222222222222',
          network: 'ETH',
        },
        /deposit address not found/,
      ],
      [
        { currency: 'USDC', amount: '1', senderName: 'S', senderAccountNo: 'x', receiverAccountNo: addr.TRX, network: 'TRX' },
        /^currency: /,
      ],
    ];
    for (const [body, re] of cases) {
      const r = await call(ctx, { method: 'POST', url: '/deposit/mock', body });
      assert.equal(r.status, 422, JSON.stringify(body));
      assert.match(r.json.message, re);
    }
    const pending = await ctx.openramp.services.db
      .selectFrom('sandbox_pending')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(pending.n), 0, 'nothing queued');
  });
});
