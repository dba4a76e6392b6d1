import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Address } from 'viem';
import { startDevnetWithTokens, type Devnet } from './helpers/devnet.ts';
import { createTestContext, type TestContext } from './helpers/harness.ts';
import { startTronJsonRpcProxy, type TronProxy, type TronProxyMode } from './helpers/scanner-tron-proxy.ts';
import {
  customerWithFlows,
  depositDetail,
  depositIdOfTx,
  depositRowsOfTx,
  eventTypes,
  headOf,
  listAllDeposits,
  tradeJobs,
} from './helpers/scanner-devnet.ts';
import { hexToTron, isValidTronAddress, tronToHex } from '../src/adapters/chains/addresses.ts';
import { createRegistry } from '../src/adapters/chains/registry.ts';
import { createJsonRpcChainClient } from '../src/adapters/chains/jsonrpc-client.ts';
import { systemClock } from '../src/infra/lib/clock.ts';

/**
 * The TRX path end to end through the same JSON-RPC chain client: a java-tron `/jsonrpc`
 * look-alike (hashes without 0x, Tron-style contract addresses, ms timestamps) in front of the
 * real devnet. Deposit addresses are Tron base58 (T…); the devnet transfer goes to their hex form.
 */
const N = 3; // OPENRAMP_CONFIRMATIONS_TRX
const USD = 1_000_000n;

describe('Tron address conversion vectors', () => {
  const vectors: [string, string][] = [
    ['TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t', '0xa614f803b6fd780986a42c78ec9c7f77e6ded13c'], // USDT (TRC-20) mainnet
    ['TEkxiTehnzSmSe2XqrBj4w32RUN966rdz8', '0x3487b63d30b5b2c87fb7ffa8bcfade38eaac1abe'], // USDC (TRC-20) mainnet
  ];
  it('known mainnet contracts round-trip base58 ↔ hex (20-byte, 0x41-prefixed, upper case)', () => {
    for (const [tron, hex] of vectors) {
      assert.equal(tronToHex(tron), hex);
      assert.equal(hexToTron(hex), tron);
      assert.equal(hexToTron(hex.slice(2)), tron, 'without 0x');
      assert.equal(hexToTron(`41${hex.slice(2)}`), tron, '21-byte form with the 41 prefix');
      assert.equal(hexToTron(`0x${hex.slice(2).toUpperCase()}`), tron, 'case-insensitive hex');
    }
    // The registry's TRX default is the mainnet USDT contract, in hex for the scanner.
    const usdt = createRegistry({}).tokenFor('TRX', 'USDT')!;
    assert.equal(usdt.contract, vectors[0]![1]);
    assert.equal(usdt.displayContract, vectors[0]![0]);
  });
  it('rejects corrupted base58 (checksum) and malformed hex', () => {
    const bad = 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u';
    assert.equal(isValidTronAddress(bad), false);
    assert.throws(() => tronToHex(bad));
    assert.throws(() => hexToTron('0x1234'));
    assert.throws(() => hexToTron(`42${'a614f803b6fd780986a42c78ec9c7f77e6ded13c'}`));
  });
});

describe('TRX scanner through a java-tron-style /jsonrpc over the devnet', () => {
  let devnet: Devnet;
  let USDT: Address;
  let proxy: TronProxy;
  let ctx: TestContext;
  let customer: Awaited<ReturnType<typeof customerWithFlows>>;
  let tronAddress: string;
  const tick = () => ctx.openramp.services.scanners.TRX.tick();
  const t0 = Date.now();

  before(async () => {
    ({
      devnet,
      tokens: { USDT },
    } = await startDevnetWithTokens());
    await devnet.mint(USDT, devnet.accounts[1]!.address, 1_000_000n * USD);
    proxy = await startTronJsonRpcProxy(devnet.url);
    ctx = await createTestContext({
      authClock: systemClock,
      env: {
        OPENRAMP_RPC_URL_TRX: proxy.url,
        OPENRAMP_TOKEN_TRX_USDT: hexToTron(USDT),
        OPENRAMP_FINALIZED_TAG_TRX: 'false',
        OPENRAMP_CONFIRMATIONS_TRX: String(N),
        OPENRAMP_SCANNER_START_TRX: '0',
        OPENRAMP_RATE_LIMIT_PER_MINUTE: '100000',
      },
    });
    customer = await customerWithFlows(ctx, 'Tina Tron', [{ network: 'TRX', currency: 'USDT' }]);
    tronAddress = customer.address['TRX:USDT']!;
    console.log(`# devnet + proxy + app ready in ${Date.now() - t0} ms`);
  });
  after(async () => {
    await ctx?.close();
    await proxy?.close();
    await devnet?.stop();
    console.log(`# scanner-tron total ${Date.now() - t0} ms`);
  });

  it('only TRX goes to the node; ETH and MATIC stay on the sandbox chain; the double answers like java-tron', async () => {
    assert.deepEqual([...ctx.openramp.services.sandboxNetworks].sort(), ['ETH', 'MATIC']);
    assert.ok(isValidTronAddress(tronAddress), `a T… deposit address: ${tronAddress}`);
    assert.match(tronAddress, /^T/);
    // The double serves /jsonrpc only, and strips 0x from hashes.
    await assert.rejects(createJsonRpcChainClient({ network: 'TRX', url: proxy.origin, retryCountMax: 0 }).getHeadNumber(), /HTTP 404/);
    assert.deepEqual(proxy.refused.splice(0), ['POST /']);
    const block = await createJsonRpcChainClient({ network: 'TRX', url: proxy.url }).getBlock(1n);
    assert.match(block!.hash, /^0x[0-9a-f]{64}$/, 'the client puts the 0x back');
    const raw = proxy.answers.findLast((a) => a.method === 'eth_getBlockByNumber')!.result as { hash: string; parentHash: string };
    assert.match(raw.hash, /^[0-9a-f]{64}$/);
    assert.match(raw.parentHash, /^[0-9a-f]{64}$/);
  });

  async function sendAndConfirm(mode: Partial<TronProxyMode>, amount: bigint) {
    proxy.mode = { addressStyle: 'hex20', timestampsMs: false, stripTopics: false, ...mode };
    const hexTo = tronToHex(tronAddress);
    const sent = await devnet.transfer(USDT, 1, hexTo, amount);
    let t = await tick();
    assert.equal(t.scannedTo, await headOf(devnet));
    assert.equal(t.matched, 1);
    const logs = proxy.answers
      .filter((a) => a.method === 'eth_getLogs' && Array.isArray(a.result) && (a.result as unknown[]).length > 0)
      .at(-1)!.result as { transactionHash: string; blockHash: string; address: string }[];
    assert.equal(logs.at(-1)!.transactionHash, sent.txHash.slice(2), 'the node answered without 0x');
    const id = await depositIdOfTx(ctx, sent.txHash, 'TRX');
    let d = await depositDetail(ctx, id);
    assert.equal(d.network, 'TRX');
    assert.equal(d.status, 'RECEIVED');
    assert.equal(d.confirmations, 1);
    assert.equal(d.confirmationsRequired, N);
    assert.equal(d.amount, (Number(amount) / 1e6).toFixed(6));
    assert.equal(d.currency, 'USDT');
    assert.equal(d.receiverDepositAddress.address, tronAddress, 'the T… deposit address');
    assert.equal(d.txid, sent.txHash.slice(2), 'Tron txid: no 0x');
    assert.match(d.txid, /^[0-9a-f]{64}$/);
    assert.equal(d.voutIndexTxKey, `${sent.txHash.slice(2)}:0`);
    assert.equal(d.txFrom, hexToTron(devnet.accounts[1]!.address), 'sender as a T… address');
    assert.match(d.txFrom, /^T/);
    assert.equal(d.tokenContract, hexToTron(USDT), 'the T… contract');
    assert.equal(BigInt(d.blockNumber), sent.blockNumber);
    assert.equal(d.flowId, customer.flowId['TRX:USDT']);
    for (let c = 2; c <= N; c++) {
      await devnet.mine(1);
      t = await tick();
      d = await depositDetail(ctx, id);
      assert.equal(d.confirmations, c);
      assert.equal(d.status, c >= N ? 'CONFIRMED' : 'RECEIVED');
    }
    await devnet.mine(2);
    await tick();
    assert.deepEqual(await eventTypes(ctx, id), ['DEPOSIT_RECEIVED', 'DEPOSIT_APPROVED']);
    assert.equal((await tradeJobs(ctx, id)).length, 1);
    const listed = (await listAllDeposits(ctx)).find((x) => x.id === id);
    assert.equal(listed.txid, sent.txHash.slice(2));
    assert.equal(listed.txFrom, d.txFrom);
    assert.equal(listed.status, 'CONFIRMED');
    return { id, logs };
  }

  it('a real transfer to the hex form of a T… deposit address is detected (n/N) and confirmed, shown in Tron terms', async () => {
    const { logs } = await sendAndConfirm({}, 77_700_000n);
    assert.equal(logs.at(-1)!.address, USDT, 'contract as 20-byte hex');
    assert.deepEqual(proxy.refused, [], 'the app always calls /jsonrpc');
  });

  it('also with 41-prefixed contracts, millisecond timestamps and un-prefixed topics/data', async () => {
    const { logs } = await sendAndConfirm({ addressStyle: 'hex41', timestampsMs: true, stripTopics: true }, 12_340_000n);
    assert.equal(logs.at(-1)!.address, `41${USDT.slice(2)}`);
  });

  it('also with base58 contracts in logs', async () => {
    const { logs } = await sendAndConfirm({ addressStyle: 'base58' }, 5_000_000n);
    assert.equal(logs.at(-1)!.address, hexToTron(USDT));
  });

  it('a reorg seen through un-prefixed hashes rejects the orphaned deposit (CHAIN_REORG)', async () => {
    proxy.mode = { addressStyle: 'hex20', timestampsMs: false, stripTopics: false };
    const snap = await devnet.snapshot();
    const H = await headOf(devnet);
    const sent = await devnet.transfer(USDT, 1, tronToHex(tronAddress), 3_000_000n);
    await devnet.mine(1);
    let t = await tick();
    assert.equal(t.matched, 1);
    const id = await depositIdOfTx(ctx, sent.txHash, 'TRX');
    assert.equal((await depositDetail(ctx, id)).status, 'RECEIVED');
    await devnet.revert(snap);
    await devnet.mine(3);
    t = await tick();
    assert.equal(t.reorgDepth, 2);
    assert.equal(await headOf(devnet), H + 3n);
    const d = await depositDetail(ctx, id);
    assert.equal(d.status, 'REJECTED');
    assert.equal(d.rejectReason, 'CHAIN_REORG');
    assert.equal(d.txid, sent.txHash.slice(2));
    assert.deepEqual(await eventTypes(ctx, id), ['DEPOSIT_RECEIVED', 'DEPOSIT_REJECTED']);
    assert.equal((await depositRowsOfTx(ctx, sent.txHash, 'TRX')).length, 1);
    assert.equal((await tradeJobs(ctx, id)).length, 0);
  });
});
