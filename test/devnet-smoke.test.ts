import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import net from 'node:net';
import path from 'node:path';
import { parseAbiItem, type Address } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { compileTestToken, isPortOpen, startDevnetWithTokens, TRANSFER_TOPIC, type Devnet } from './helpers/devnet.ts';

const TRANSFER_EVENT = parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)');
const root = path.resolve(import.meta.dirname, '..');

describe('devnet (hardhat@2 node + solc-js test tokens)', () => {
  let devnet: Devnet;
  let USDT: Address;
  let USDC: Address;

  before(async () => {
    const t0 = Date.now();
    ({
      devnet,
      tokens: { USDT, USDC },
    } = await startDevnetWithTokens());
    console.log(`devnet started and both tokens deployed in ${Date.now() - t0} ms at ${devnet.url}`);
  });
  after(() => devnet?.stop());

  it('compiles the token with solc-js (cached) and runs a real node with the default funded accounts', async () => {
    const a = compileTestToken();
    assert.equal(compileTestToken(), a, 'compiled once, cached');
    assert.ok(a.abi.some((x) => x.type === 'event' && x.name === 'Transfer'));
    assert.equal(Number(await devnet.publicClient.getChainId()), 31337);
    assert.equal(devnet.accounts[0]!.address, '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266');
    const nodeAccounts = (await devnet.rpc<string[]>('eth_accounts')).map((x) => x.toLowerCase());
    assert.deepEqual(
      nodeAccounts.slice(0, devnet.accounts.length),
      devnet.accounts.map((x) => x.address),
    );
    assert.match(USDT, /^0x[0-9a-f]{40}$/);
    assert.match(USDC, /^0x[0-9a-f]{40}$/);
    assert.notEqual(USDT, USDC);
    const decimals = await devnet.publicClient.readContract({ address: USDT, abi: a.abi, functionName: 'decimals' });
    assert.equal(Number(decimals), 6);
    assert.equal(await devnet.publicClient.readContract({ address: USDC, abi: a.abi, functionName: 'symbol' }), 'USDC');
    // hardhat never compiled or downloaded anything
    assert.doesNotMatch(devnet.output(), /compil|download/i);
  });

  it('transfers 12.5 USDT and reads the Transfer log back; snapshot/revert removes a later transfer', async () => {
    const alice = devnet.accounts[0]!.address;
    const fresh = privateKeyToAccount(generatePrivateKey()).address.toLowerCase() as Address;
    await devnet.mint(USDT, alice, 100_000_000n);

    const before1 = await devnet.publicClient.getBlockNumber();
    const t1 = await devnet.transfer(USDT, 0, fresh, 12_500_000n);
    assert.equal(t1.blockNumber, before1 + 1n, 'automine: one tx, one block');
    assert.equal(await devnet.balanceOf(USDT, fresh), 12_500_000n);

    const logs = await devnet.publicClient.getLogs({
      address: USDT,
      event: TRANSFER_EVENT,
      args: { to: fresh },
      fromBlock: 0n,
      toBlock: 'latest',
    });
    assert.equal(logs.length, 1);
    const log = logs[0]!;
    assert.equal(log.topics[0], TRANSFER_TOPIC);
    assert.equal(log.address.toLowerCase(), USDT);
    assert.equal(log.transactionHash, t1.txHash);
    assert.equal(log.blockNumber, t1.blockNumber);
    assert.equal(log.args.value, 12_500_000n);
    assert.equal(log.args.from?.toLowerCase(), alice);
    assert.equal(log.args.to?.toLowerCase(), fresh);
    // the same with a raw topic filter (what the scanner sends)
    const raw = await devnet.rpc<{ topics: string[]; data: string }[]>('eth_getLogs', [
      {
        address: [USDT],
        topics: [TRANSFER_TOPIC],
        fromBlock: `0x${t1.blockNumber.toString(16)}`,
        toBlock: `0x${t1.blockNumber.toString(16)}`,
      },
    ]);
    assert.equal(raw.length, 1);
    assert.equal(BigInt(raw[0]!.data), 12_500_000n);

    // reorg: snapshot, another transfer, revert
    const snap = await devnet.snapshot();
    const headBefore = await devnet.publicClient.getBlockNumber();
    const blockBefore = await devnet.publicClient.getBlock({ blockNumber: headBefore });
    const t2 = await devnet.transfer(USDT, 0, fresh, 1_000_000n);
    assert.equal(t2.blockNumber, headBefore + 1n);
    const t2Block = await devnet.publicClient.getBlock({ blockNumber: t2.blockNumber });
    await devnet.mine(3);
    assert.equal(await devnet.publicClient.getBlockNumber(), headBefore + 4n);
    await devnet.revert(snap);
    assert.equal(await devnet.publicClient.getBlockNumber(), headBefore, 'height went back');
    assert.equal((await devnet.publicClient.getBlock({ blockNumber: headBefore })).hash, blockBefore.hash);
    const after = await devnet.publicClient.getLogs({
      address: USDT,
      event: TRANSFER_EVENT,
      args: { to: fresh },
      fromBlock: 0n,
      toBlock: 'latest',
    });
    assert.deepEqual(
      after.map((l) => l.transactionHash),
      [t1.txHash],
      "the second transfer's log is gone",
    );
    assert.equal(await devnet.balanceOf(USDT, fresh), 12_500_000n);
    assert.equal(await devnet.publicClient.getTransactionReceipt({ hash: t2.txHash }).catch(() => null), null);

    // a new branch at the same height has a different block
    const t3 = await devnet.transfer(USDT, 0, devnet.accounts[2]!.address, 1n);
    assert.equal(t3.blockNumber, t2.blockNumber);
    const t3Block = await devnet.publicClient.getBlock({ blockNumber: t3.blockNumber });
    assert.notEqual(t3Block.hash, t2Block.hash);
    assert.equal(t3Block.parentHash, blockBefore.hash);

    // with automine off, several txs land in one block
    await devnet.setAutomine(false);
    try {
      const h1 = await devnet.sendTransfer(USDT, 0, fresh, 1n);
      const h2 = await devnet.sendTransfer(USDT, 0, fresh, 2n);
      await devnet.mine(1);
      const [r1, r2] = await Promise.all([
        devnet.publicClient.getTransactionReceipt({ hash: h1 }),
        devnet.publicClient.getTransactionReceipt({ hash: h2 }),
      ]);
      assert.equal(r1.blockNumber, r2.blockNumber);
    } finally {
      await devnet.setAutomine(true);
    }
  });

  it("answers the 'finalized' tag with the latest block (hardhat: everything is instantly final)", async () => {
    await devnet.mine(2);
    const latest = await devnet.publicClient.getBlock({ blockTag: 'latest' });
    const finalized = await devnet.publicClient.getBlock({ blockTag: 'finalized' });
    assert.equal(finalized.number, latest.number);
  });
});

describe('devnet on a pre-merge hardfork', () => {
  it("rejects the 'finalized' tag (the scanner's N-confirmations fallback case) and still runs the token", async () => {
    const { devnet, tokens } = await startDevnetWithTokens({ hardfork: 'london', chainId: 1337 });
    try {
      assert.equal(await devnet.publicClient.getChainId(), 1337);
      await devnet.mint(tokens.USDC, devnet.accounts[1]!.address, 5n);
      assert.equal(await devnet.balanceOf(tokens.USDC, devnet.accounts[1]!.address), 5n);
      await assert.rejects(
        devnet.rpc('eth_getBlockByNumber', ['finalized', false]),
        /'finalized' block tag is not allowed in pre-merge hardforks/,
      );
    } finally {
      await devnet.stop();
    }
  });
});

describe('npm run devnet (scripts/devnet.ts)', () => {
  it('falls back to a free port, prints the env lines, serves RPC, and stops cleanly on SIGTERM', async () => {
    // occupy the requested port so the script has to fall back to a free one
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const taken = (blocker.address() as net.AddressInfo).port;
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/devnet.ts'], {
      cwd: root,
      env: { ...process.env, DEVNET_PORT: String(taken) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });

    const deadline = Date.now() + 45_000;
    while (!/^OPENRAMP_TOKEN_ETH_USDC=/m.test(out)) {
      if (child.exitCode !== null) assert.fail(`script exited early (${child.exitCode}):\n${out}\n${err}`);
      if (Date.now() > deadline) assert.fail(`no env lines within 45 s:\n${out}\n${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const env = Object.fromEntries([...out.matchAll(/^([A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    const port = Number(/^http:\/\/127\.0\.0\.1:(\d+)$/.exec(env.OPENRAMP_RPC_URL_ETH ?? '')?.[1]);
    assert.ok(port > 0 && port !== taken, `fell back from ${taken} to another port: ${env.OPENRAMP_RPC_URL_ETH}`);
    assert.match(err, new RegExp(`port ${taken} is taken`));
    assert.match(env.OPENRAMP_TOKEN_ETH_USDT ?? '', /^0x[0-9a-f]{40}$/);
    assert.equal(env.OPENRAMP_CONFIRMATIONS_ETH, '2');
    assert.match(env.DEVNET_PRIVATE_KEY ?? '', /^0x[0-9a-f]{64}$/);
    assert.match(out, /public test key/i);

    const res = await fetch(env.OPENRAMP_RPC_URL_ETH!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
    });
    assert.equal(((await res.json()) as { result: string }).result, '0x7a69');

    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const { code } = await Promise.race([
      exited,
      new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error('script did not exit within 10 s of SIGTERM')), 10_000))),
    ]).finally(() => clearTimeout(timer));
    assert.equal(code, 0, err);
    assert.equal(await isPortOpen(port), false, 'the node is gone');
  });
});
