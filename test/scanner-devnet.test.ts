import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { Address, Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { startDevnetWithTokens, type Devnet } from './helpers/devnet.ts';
import { createTestContext, type TestContext } from './helpers/harness.ts';
import {
  countDeposits,
  crashAfterLogCalls,
  createTestScanner,
  cursorOf,
  customerWithFlows,
  deployMultiSend,
  depositDetail,
  depositIdOfTx,
  depositRowsOfTx,
  devnetEnv,
  eventTypes,
  headOf,
  inOneBlock,
  laggingReplica,
  listAllDeposits,
  nonceOf,
  receiptOf,
  refuseWideRanges,
  sendRaw,
  signTransfer,
  tradeJobs,
  type MultiSend,
} from './helpers/scanner-devnet.ts';
import { systemClock } from '../src/infra/lib/clock.ts';
import type { Deposits } from '../src/domain/deposits/deposits.ts';

/**
 * The ETH scanner against a REAL EVM node (hardhat@2 devnet): real ERC-20 transfers to derived
 * deposit addresses, real reorgs through evm_snapshot/evm_revert, a crash and restart mid-range,
 * and a multi-thousand-block backfill through a node that refuses wide eth_getLogs ranges.
 * The devnet's `finalized` tag is the latest block, so the tag is off and 6 confirmations count.
 */
const N = 6; // OPENRAMP_CONFIRMATIONS_ETH
const USD = 1_000_000n;

let devnet: Devnet;
let USDT: Address;
let USDC: Address;
const t0 = Date.now();

before(async () => {
  ({
    devnet,
    tokens: { USDT, USDC },
  } = await startDevnetWithTokens());
  // Funded senders: #1, #2 (detection), #3 (reorgs), #4 (restart), #0 (backfill; also the deployer).
  for (const i of [0, 1, 2, 3, 4]) {
    await devnet.mint(USDT, devnet.accounts[i]!.address, 1_000_000n * USD);
    await devnet.mint(USDC, devnet.accounts[i]!.address, 1_000_000n * USD);
  }
  console.log(`# devnet up, tokens deployed and funded in ${Date.now() - t0} ms`);
});
after(async () => {
  await devnet?.stop();
  console.log(`# scanner-devnet total ${Date.now() - t0} ms`);
});

const randomAddress = () => privateKeyToAccount(generatePrivateKey()).address.toLowerCase() as Address;

describe('ETH scanner on a real devnet: detection, confirmations and reorgs', () => {
  let ctx: TestContext;
  let FAKE: Address;
  let multi: MultiSend;
  let A: { customerId: string; address: Record<string, string>; flowId: Record<string, string> };
  let B: typeof A;
  const tick = () => ctx.openramp.services.scanners.ETH.tick();

  before(async () => {
    ctx = await createTestContext({ env: devnetEnv(devnet.url, { USDT, USDC }), authClock: systemClock });
    A = await customerWithFlows(ctx, 'Alice Onchain', [
      { network: 'ETH', currency: 'USDT' },
      { network: 'ETH', currency: 'USDC' },
    ]);
    B = await customerWithFlows(ctx, 'Bob Onchain', [{ network: 'ETH', currency: 'USDT' }]);
    // A token that is deployed and emits real Transfer logs but is NOT in the registry.
    FAKE = await devnet.deployToken('USDT', 'Look-alike USDT');
    await devnet.mint(FAKE, devnet.accounts[1]!.address, 1_000_000n * USD);
    multi = await deployMultiSend(devnet);
    await multi.approve(1, [USDT, USDC, FAKE]);
  });
  after(() => ctx?.close());

  it('real transfers → RECEIVED (n/N, amount, txid, txFrom) → CONFIRMED after N blocks, events once; foreign token, unknown address and dust ignored; several logs per tx and per block', async () => {
    const started = Date.now();
    const addrA = A.address['ETH:USDT']!;
    const addrB = B.address['ETH:USDT']!;
    assert.equal(A.address['ETH:USDC'], addrA, 'one EVM address per customer, whatever the token');
    assert.match(addrA, /^0x[0-9a-fA-F]{40}$/);

    const first = await tick();
    assert.equal(first.scannedTo, await headOf(devnet), 'the scanner starts at block 0 and catches up to the head');
    assert.equal(first.matched, 0, 'mints to the senders are not deposits');

    type Expect = {
      id: string;
      block: bigint;
      blockHash: string;
      txHash: string;
      ordinal: number;
      amount: string;
      currency: string;
      from: string;
      to: string;
      customerId: string;
      flowId: string;
    };
    const tracked: Expect[] = [];

    /** One tick after every block; checks the whole n/N → CONFIRMED story of every tracked deposit. */
    async function tickAndCheck(expectMatched: number) {
      const t = await tick();
      const head = await headOf(devnet);
      assert.equal(t.scannedTo, head);
      assert.equal(t.matched, expectMatched);
      for (const e of tracked) {
        const d = await depositDetail(ctx, e.id);
        const conf = Number(head - e.block + 1n);
        const final = conf >= N;
        assert.equal(d.status, final ? 'CONFIRMED' : 'RECEIVED', `${e.txHash}:${e.ordinal} at ${conf} confirmations`);
        assert.equal(d.confirmations, Math.min(conf, N), 'confirmations n (frozen at N when credited)');
        assert.equal(d.confirmationsRequired, N);
        assert.deepEqual(await eventTypes(ctx, e.id), final ? ['DEPOSIT_RECEIVED', 'DEPOSIT_APPROVED'] : ['DEPOSIT_RECEIVED']);
        assert.equal((await tradeJobs(ctx, e.id)).length, final ? 1 : 0, 'one trade job once final, none before');
      }
      return t;
    }

    async function track(
      txHash: Hex,
      items: { to: string; amount: bigint; currency: 'USDT' | 'USDC'; from: number; customer: typeof A }[],
    ) {
      const r = (await receiptOf(devnet, txHash))!;
      const rows = await depositRowsOfTx(ctx, txHash);
      assert.equal(rows.length, items.length, `${items.length} deposit(s) for ${txHash}`);
      const ordinals = rows.map((row) => row.log_ordinal);
      assert.equal(new Set(ordinals).size, ordinals.length, 'distinct (txid, ordinal) keys');
      assert.deepEqual(
        [...rows].sort((a, b) => a.log_index - b.log_index).map((x) => x.log_ordinal),
        ordinals,
        'ordinals follow the log order',
      );
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        const row = [...rows].sort((a, b) => a.log_index - b.log_index)[i]!;
        const d = await depositDetail(ctx, row.id);
        assert.equal(d.status, 'RECEIVED');
        assert.equal(d.confirmations, 1, 'seen in the newest block: 1/N');
        assert.equal(d.txid, txHash, 'txid = the real transaction hash');
        assert.equal(d.voutIndexTxKey, `${txHash}:${row.log_ordinal}`);
        assert.equal(d.txFrom, devnet.accounts[item.from]!.address, 'txFrom = the token sender');
        assert.equal(d.amount, (Number(item.amount) / 1e6).toFixed(6));
        assert.equal(d.currency, item.currency);
        assert.equal(d.network, 'ETH');
        assert.equal(d.tokenContract, item.currency === 'USDT' ? USDT : USDC);
        assert.equal(BigInt(d.blockNumber), r.blockNumber);
        assert.equal(d.blockHash, r.blockHash);
        assert.equal(d.receiverDepositAddress.address, item.to);
        assert.equal(d.customerId, item.customer.customerId);
        assert.equal(d.flowId, item.customer.flowId[`ETH:${item.currency}`]);
        tracked.push({
          id: row.id,
          block: r.blockNumber,
          blockHash: r.blockHash,
          txHash,
          ordinal: row.log_ordinal,
          amount: d.amount,
          currency: item.currency,
          from: d.txFrom,
          to: item.to,
          customerId: item.customer.customerId,
          flowId: d.flowId,
        });
      }
    }

    // 1. A plain USDT transfer and a USDC transfer from another sender.
    const t1 = await devnet.transfer(USDT, 1, addrA, 250_500_000n);
    await tickAndCheck(1);
    await track(t1.txHash, [{ to: addrA, amount: 250_500_000n, currency: 'USDT', from: 1, customer: A }]);
    const t2 = await devnet.transfer(USDC, 2, addrA, 99_000_000n);
    await tickAndCheck(1);
    await track(t2.txHash, [{ to: addrA, amount: 99_000_000n, currency: 'USDC', from: 2, customer: A }]);

    // 2. Ignored: a real token that is not allow-listed, an unknown receiver, dust and zero.
    const ignored: Hex[] = [];
    ignored.push((await devnet.transfer(FAKE, 1, addrA, 500n * USD)).txHash);
    await tickAndCheck(0);
    ignored.push((await devnet.transfer(USDT, 1, randomAddress(), 50n * USD)).txHash);
    await tickAndCheck(0);
    ignored.push((await devnet.transfer(USDT, 1, addrB, 10_000n)).txHash); // 0.01 = OPENRAMP_DUST_ETH default
    await tickAndCheck(0);
    ignored.push((await devnet.transfer(USDT, 1, addrB, 0n)).txHash);
    await tickAndCheck(0);

    // 3. One transaction, six Transfer logs: three of them are deposits.
    const m = await multi.send(1, [
      { token: USDT, to: addrA, amount: 11n * USD },
      { token: FAKE, to: addrA, amount: 5n * USD }, // not allow-listed
      { token: USDT, to: randomAddress(), amount: 3n * USD }, // not ours
      { token: USDC, to: addrA, amount: 12n * USD },
      { token: USDT, to: addrB, amount: 13n * USD },
      { token: USDT, to: addrA, amount: 5_000n }, // dust
    ]);
    await tickAndCheck(3);
    await track(m.txHash, [
      { to: addrA, amount: 11n * USD, currency: 'USDT', from: 1, customer: A },
      { to: addrA, amount: 12n * USD, currency: 'USDC', from: 1, customer: A },
      { to: addrB, amount: 13n * USD, currency: 'USDT', from: 1, customer: B },
    ]);

    // 4. Two transactions (two senders) in ONE block.
    const [p1, p2] = await inOneBlock(
      devnet,
      async () => [await devnet.sendTransfer(USDT, 1, addrA, 14n * USD), await devnet.sendTransfer(USDT, 2, addrB, 15n * USD)] as const,
    );
    const [r1, r2] = [(await receiptOf(devnet, p1))!, (await receiptOf(devnet, p2))!];
    assert.equal(r1.blockNumber, r2.blockNumber, 'both transactions are in one block');
    await tickAndCheck(2);
    await track(p1, [{ to: addrA, amount: 14n * USD, currency: 'USDT', from: 1, customer: A }]);
    await track(p2, [{ to: addrB, amount: 15n * USD, currency: 'USDT', from: 2, customer: B }]);

    // 5. Confirmations advance one block at a time until everything is final.
    for (let i = 0; i < N; i++) {
      await devnet.mine(1);
      await tickAndCheck(0);
    }
    for (const h of ignored) assert.equal((await depositRowsOfTx(ctx, h)).length, 0, `no deposit for ignored tx ${h}`);
    assert.equal(await countDeposits(ctx), 7);

    // The API's list agrees, per customer, and nothing happens twice on further ticks.
    const listA = await listAllDeposits(ctx, `customerId=${A.customerId}`);
    assert.deepEqual(
      listA.map((d) => d.id).sort(),
      tracked
        .filter((e) => e.customerId === A.customerId)
        .map((e) => e.id)
        .sort(),
    );
    const listB = await listAllDeposits(ctx, `customerId=${B.customerId}`);
    assert.deepEqual(
      listB.map((d) => d.id).sort(),
      tracked
        .filter((e) => e.customerId === B.customerId)
        .map((e) => e.id)
        .sort(),
    );
    for (const d of [...listA, ...listB]) assert.equal(d.status, 'CONFIRMED');
    await devnet.mine(3);
    await tickAndCheck(0);
    console.log(`# detection: 7 deposits from 10 txs, ${N} confirmations each, in ${Date.now() - started} ms`);
  });

  it('a node answering from a lagging replica (head below the cursor) is not a reorg: nothing is rejected', async () => {
    await devnet.mine(N);
    await tick();
    const sent = await devnet.transfer(USDT, 2, A.address['ETH:USDT']!, 21n * USD);
    await devnet.mine(2);
    await tick();
    const id = await depositIdOfTx(ctx, sent.txHash);
    assert.equal((await depositDetail(ctx, id)).confirmations, 3);
    const cursorBefore = (await cursorOf(ctx))!;

    const lagging = createTestScanner(ctx, { client: laggingReplica(ctx.openramp.services.chainClients.ETH, 2), rangeBlocksMax: 2000 });
    const t = await lagging.tick();
    assert.equal(t.reorgDepth, 0, 'a shorter view of the same chain is not a fork');
    const d = await depositDetail(ctx, id);
    assert.equal(d.status, 'RECEIVED');
    assert.equal(d.confirmations, 3, 'confirmations never go backwards');
    assert.deepEqual(await eventTypes(ctx, id), ['DEPOSIT_RECEIVED']);
    assert.deepEqual(await cursorOf(ctx), cursorBefore, 'the cursor stays where it was');

    await devnet.mine(N);
    await tick();
    assert.equal((await depositDetail(ctx, id)).status, 'CONFIRMED');
    assert.deepEqual(await eventTypes(ctx, id), ['DEPOSIT_RECEIVED', 'DEPOSIT_APPROVED']);
  });

  for (const depth of [1, 2, 3, 4, 5]) {
    for (const remined of [false, true]) {
      // Re-mined: odd depths put the same signed tx at the same height in a different block
      // (next to another tx), even depths one block higher (after an empty block).
      const sameHeight = depth % 2 === 1;
      const how = remined
        ? `with the SAME signed tx re-mined ${sameHeight ? 'at the same height' : 'one block higher'} → RECEIVED again, then CONFIRMED once`
        : 'without the transfer → REJECTED/CHAIN_REORG, no trade';
      it(`reorg of depth ${depth} before finality ${how}`, async () => {
        // Everything earlier is final, so the reorg can only touch this test's deposit.
        await devnet.mine(N);
        await tick();
        const open = await ctx.openramp.services.db.selectFrom('deposits').select('id').where('status', '=', 'RECEIVED').execute();
        assert.equal(open.length, 0);

        const addrA = A.address['ETH:USDT']!;
        const snap = await devnet.snapshot();
        const H = await headOf(devnet);
        const tx = await signTransfer(devnet, USDT, 3, addrA, 1_000n * USD + BigInt(depth * 10 + (remined ? 1 : 0)) * USD);
        await sendRaw(devnet, tx);
        const mined = (await receiptOf(devnet, tx.hash))!;
        assert.equal(mined.blockNumber, H + 1n);
        if (depth > 1) await devnet.mine(depth - 1); // the chain is now `depth` blocks longer than the snapshot

        let t = await tick();
        assert.equal(t.matched, 1);
        assert.equal(t.reorgDepth, 0);
        const id = await depositIdOfTx(ctx, tx.hash);
        let d = await depositDetail(ctx, id);
        assert.equal(d.status, 'RECEIVED');
        assert.equal(d.confirmations, depth);
        assert.equal(d.blockHash, mined.blockHash);

        // The reorg: back to the snapshot, then a longer branch.
        await devnet.revert(snap);
        assert.equal(await headOf(devnet), H);
        if (!remined) {
          await devnet.mine(depth + 1);
          assert.equal(await receiptOf(devnet, tx.hash), null, 'the transfer is not in the new branch');
        } else if (sameHeight) {
          // Same signed bytes → same hash, again in block H+1, but that block now holds another tx too.
          await inOneBlock(devnet, async () => {
            await sendRaw(devnet, tx);
            await devnet.sendTransfer(USDT, 2, randomAddress(), USD);
          });
          await devnet.mine(depth);
        } else {
          await devnet.mine(1); // a different block at H+1, so the branch really differs
          await sendRaw(devnet, tx); // same signed bytes → same hash, now in block H+2
          if (depth > 1) await devnet.mine(depth - 1);
        }
        assert.equal(await headOf(devnet), H + BigInt(depth) + 1n);

        t = await tick();
        assert.equal(t.reorgDepth, depth, 'walked back exactly to the fork point');
        d = await depositDetail(ctx, id);
        if (!remined) {
          assert.equal(d.status, 'REJECTED');
          assert.equal(d.rejectReason, 'CHAIN_REORG');
          assert.deepEqual(await eventTypes(ctx, id), ['DEPOSIT_RECEIVED', 'DEPOSIT_REJECTED']);
          await devnet.mine(N + 1);
          await tick();
          d = await depositDetail(ctx, id);
          assert.equal(d.status, 'REJECTED', 'stays rejected after the fork point is final');
          assert.deepEqual(await eventTypes(ctx, id), ['DEPOSIT_RECEIVED', 'DEPOSIT_REJECTED']);
          assert.equal((await tradeJobs(ctx, id)).length, 0, 'no trade for a reorged-out deposit');
        } else {
          const again = (await receiptOf(devnet, tx.hash))!;
          const block = sameHeight ? H + 1n : H + 2n;
          assert.equal(again.blockNumber, block);
          assert.notEqual(again.blockHash, mined.blockHash, 'a different block');
          const conf = Number(H + BigInt(depth) + 1n - block + 1n);
          assert.equal(BigInt(d.blockNumber), block);
          assert.equal(d.blockHash, again.blockHash);
          assert.equal(d.rejectReason, null);
          if (conf < N) {
            assert.equal(d.status, 'RECEIVED', 're-mined: announced again');
            assert.equal(d.confirmations, conf);
            assert.deepEqual(await eventTypes(ctx, id), ['DEPOSIT_RECEIVED', 'DEPOSIT_REJECTED', 'DEPOSIT_RECEIVED']);
            assert.equal((await tradeJobs(ctx, id)).length, 0);
            await devnet.mine(N);
            await tick();
          }
          await tick();
          d = await depositDetail(ctx, id);
          assert.equal(d.status, 'CONFIRMED');
          assert.deepEqual(await eventTypes(ctx, id), ['DEPOSIT_RECEIVED', 'DEPOSIT_REJECTED', 'DEPOSIT_RECEIVED', 'DEPOSIT_APPROVED']);
          assert.equal((await depositRowsOfTx(ctx, tx.hash)).length, 1, 'one deposit row for the transfer');
          assert.equal((await tradeJobs(ctx, id)).length, 1, 'one trade job');
        }
        const cur = (await cursorOf(ctx))!;
        const head = await headOf(devnet);
        assert.equal(cur.number, head);
        assert.equal(cur.hash, (await devnet.rpc<{ hash: string }>('eth_getBlockByNumber', [`0x${head.toString(16)}`, false])).hash);
      });
    }
  }
});

describe('ETH scanner restarted mid-range resumes without gaps or duplicates', () => {
  let ctx: TestContext;
  let start: bigint;
  let C1: Awaited<ReturnType<typeof customerWithFlows>>;
  let C2: typeof C1;

  before(async () => {
    start = (await headOf(devnet)) + 1n;
    ctx = await createTestContext({
      env: devnetEnv(devnet.url, { USDT, USDC }, { OPENRAMP_SCANNER_START_ETH: String(start), OPENRAMP_SCANNER_RANGE_BLOCKS_MAX: '5' }),
      authClock: systemClock,
    });
    C1 = await customerWithFlows(ctx, 'Carla Restart', [{ network: 'ETH', currency: 'USDT' }]);
    C2 = await customerWithFlows(ctx, 'Chris Restart', [{ network: 'ETH', currency: 'USDT' }]);
    start = (await headOf(devnet)) + 1n; // the API calls above mined nothing, but be exact
  });
  after(() => ctx?.close());

  it('a crash after 3 of 8 ranges and a crash inside the write transaction lose nothing and duplicate nothing', async () => {
    const started = Date.now();
    const sent: { hash: Hex; amount: bigint; to: string }[] = [];
    let nonce = await nonceOf(devnet, 4);
    for (let i = 0; i < 20; i++) {
      const to = (i % 2 ? C1 : C2).address['ETH:USDT']!;
      const amount = BigInt(i + 1) * USD + 123n;
      const tx = await signTransfer(devnet, USDT, 4, to, amount, nonce++);
      sent.push({ hash: await sendRaw(devnet, tx), amount, to });
      await devnet.mine(1);
    }
    const head = await headOf(devnet);
    assert.equal(head - start + 1n, 40n, '40 blocks, a transfer in every other one');
    const blockOf = new Map<string, bigint>();
    for (const s of sent) blockOf.set(s.hash, (await receiptOf(devnet, s.hash))!.blockNumber);

    // Process 1 dies at its 4th eth_getLogs: 3 ranges of 5 blocks were committed.
    const crash = crashAfterLogCalls(ctx.openramp.services.chainClients.ETH, 3);
    await assert.rejects(
      createTestScanner(ctx, { client: crash.client, rangeBlocksMax: 5, startBlock: start }).tick(),
      /simulated crash at getTransferLogs #4/,
    );
    let cur = (await cursorOf(ctx))!;
    assert.equal(cur.number, start + 14n, 'cursor at the end of the last committed range');
    const committed = sent.filter((s) => blockOf.get(s.hash)! <= cur.number);
    assert.equal(await countDeposits(ctx), committed.length);
    assert.ok(committed.length > 0 && committed.length < sent.length);

    // Process 2 dies inside the write transaction, after its deposits were inserted: all rolled back.
    const real = ctx.openramp.services.deposits;
    let ingests = 0;
    const crashing: Deposits = {
      ...real,
      async ingest(tx, network, matches, h) {
        await real.ingest(tx, network, matches, h);
        ingests += 1;
        throw new Error('simulated crash inside the write transaction');
      },
    };
    await assert.rejects(
      createTestScanner(ctx, { deposits: crashing, rangeBlocksMax: 5, startBlock: start }).tick(),
      /inside the write transaction/,
    );
    assert.equal(ingests, 1);
    cur = (await cursorOf(ctx))!;
    assert.equal(cur.number, start + 14n, 'the failed range left no trace');
    assert.equal(await countDeposits(ctx), committed.length);

    // A fresh scanner (the app's own) resumes from the cursor.
    const t = await ctx.openramp.services.scanners.ETH.tick();
    assert.equal(t.scannedTo, head);
    assert.equal(t.matched, sent.length - committed.length, 'only the remaining ranges were scanned');
    cur = (await cursorOf(ctx))!;
    assert.equal(cur.number, head);
    assert.equal(await countDeposits(ctx), sent.length);
    for (const s of sent) {
      const rows = await depositRowsOfTx(ctx, s.hash);
      assert.equal(rows.length, 1, `exactly one deposit for ${s.hash}`);
      assert.equal(rows[0]!.amount, s.amount.toString());
      assert.equal(rows[0]!.block_number, blockOf.get(s.hash)!.toString());
      assert.deepEqual(
        await eventTypes(ctx, rows[0]!.id),
        Number(head - blockOf.get(s.hash)! + 1n) >= N ? ['DEPOSIT_RECEIVED', 'DEPOSIT_APPROVED'] : ['DEPOSIT_RECEIVED'],
      );
    }
    await devnet.mine(N);
    await ctx.openramp.services.scanners.ETH.tick();
    const list = await listAllDeposits(ctx);
    assert.equal(list.length, sent.length);
    assert.deepEqual(list.map((d) => d.txid).sort(), sent.map((s) => s.hash).sort());
    for (const d of list) {
      assert.equal(d.status, 'CONFIRMED');
      assert.deepEqual(await eventTypes(ctx, d.id), ['DEPOSIT_RECEIVED', 'DEPOSIT_APPROVED']);
      assert.equal((await tradeJobs(ctx, d.id)).length, 1);
    }
    console.log(`# restart: 20 transfers over 40 blocks, two crashes, resumed in ${Date.now() - started} ms`);
  });
});

describe('ETH backfill of thousands of blocks through a node that refuses wide log ranges', () => {
  let ctx: TestContext;
  let start: bigint;
  const customers: Awaited<ReturnType<typeof customerWithFlows>>[] = [];

  before(async () => {
    start = (await headOf(devnet)) + 1n;
    ctx = await createTestContext({
      env: devnetEnv(devnet.url, { USDT, USDC }, { OPENRAMP_SCANNER_START_ETH: String(start) }),
      authClock: systemClock,
    });
    for (const name of ['Dora Backfill', 'Dan Backfill', 'Dee Backfill', 'Dirk Backfill']) {
      customers.push(
        await customerWithFlows(ctx, name, [
          { network: 'ETH', currency: 'USDT' },
          { network: 'ETH', currency: 'USDC' },
        ]),
      );
    }
  });
  after(() => ctx?.close());

  it('200 transfers spread over ~3,000 blocks are recorded exactly once with adaptive range splitting (max 50 blocks per eth_getLogs)', async () => {
    let started = Date.now();
    const sent = new Map<string, { amount: bigint; currency: 'USDT' | 'USDC'; to: string }>();
    let nonce = await nonceOf(devnet, 0);
    for (let i = 0; i < 200; i++) {
      const currency = i % 5 === 4 ? 'USDC' : 'USDT';
      const to = customers[i % customers.length]!.address[`ETH:${currency}`]!;
      const amount = BigInt(i + 2) * USD + BigInt(i);
      const tx = await signTransfer(devnet, currency === 'USDT' ? USDT : USDC, 0, to, amount, nonce++);
      sent.set(await sendRaw(devnet, tx), { amount, currency, to });
      await devnet.mine(1 + ((i * 7919) % 27)); // irregular gaps, 14 on average
    }
    await devnet.mine(N);
    const head = await headOf(devnet);
    const blocks = head - start + 1n;
    assert.ok(blocks >= 2_900n && blocks <= 3_200n, `${blocks} blocks`);
    console.log(`# backfill: 200 transfers over ${blocks} blocks produced in ${Date.now() - started} ms`);

    started = Date.now();
    const probe = refuseWideRanges(ctx.openramp.services.chainClients.ETH, 50);
    const scanner = createTestScanner(ctx, { client: probe.client, rangeBlocksMax: 200, startBlock: start });
    const t = await scanner.tick();
    const ms = Date.now() - started;
    assert.equal(t.scannedTo, head);
    assert.equal(t.matched, 200);
    assert.equal(t.credited, 200, 'all are final: credited in the same tick');
    assert.ok(probe.refused.length > 0, 'the node refused ranges');
    for (const r of probe.refused) assert.ok(r.to - r.from + 1n > 50n);
    // The answered ranges tile [start, head] exactly: no gap, no overlap, none wider than 50.
    const served = [...probe.served].sort((a, b) => (a.from < b.from ? -1 : 1));
    let next = start;
    for (const r of served) {
      assert.equal(r.from, next, 'contiguous');
      assert.ok(r.to - r.from + 1n <= 50n);
      next = r.to + 1n;
    }
    assert.equal(next, head + 1n);
    console.log(
      `# backfill: scanned ${blocks} blocks in ${ms} ms (${probe.served.length} log queries served, ${probe.refused.length} refused)`,
    );

    const rows = await ctx.openramp.services.db.selectFrom('deposits').selectAll().where('network', '=', 'ETH').execute();
    assert.equal(rows.length, 200);
    assert.deepEqual(new Set(rows.map((r) => r.tx_hash)), new Set(sent.keys()));
    for (const r of rows) {
      const s = sent.get(r.tx_hash)!;
      assert.equal(r.amount, s.amount.toString());
      assert.equal(r.currency, s.currency);
      assert.equal(r.status, 'CONFIRMED');
      assert.equal(r.log_ordinal, 0);
    }
    const ev = await sql<{ n: string; types: string }>`
      select count(*)::text as n, string_agg(type, ',' order by seq) as types from events where object_type = 'deposit' group by object_id`.execute(
      ctx.openramp.services.db,
    );
    assert.equal(ev.rows.length, 200);
    for (const e of ev.rows) assert.equal(e.types, 'DEPOSIT_RECEIVED,DEPOSIT_APPROVED');
    const jobs = await ctx.openramp.services.db.selectFrom('jobs').select('unique_key').where('kind', '=', 'trade.create').execute();
    assert.equal(jobs.length, 200);
    assert.deepEqual(new Set(jobs.map((j) => j.unique_key)), new Set(rows.map((r) => `trade.create:${r.id}`)));
    assert.equal((await cursorOf(ctx))!.number, head);

    // Nothing more to do, and the API pages through all of them.
    const again = await scanner.tick();
    assert.deepEqual(
      { matched: again.matched, credited: again.credited, reorgDepth: again.reorgDepth },
      { matched: 0, credited: 0, reorgDepth: 0 },
    );
    const list = await listAllDeposits(ctx);
    assert.equal(list.length, 200);
    assert.equal(new Set(list.map((d) => d.id)).size, 200);
  });
});
