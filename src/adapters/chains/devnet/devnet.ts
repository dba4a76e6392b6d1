import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  toHex,
  type Address,
  type Chain,
  type Hex,
  type HttpTransport,
  type PrivateKeyAccount,
  type PublicClient,
  type WalletClient,
} from 'viem';
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts';
import { compileTestToken } from './tokens.ts';

/**
 * A REAL local EVM node for integration tests and manual runs (docs/chains.md "Local chains (b)"):
 * a `hardhat@2` JSON-RPC node (EDR under the hood) in a child process on 127.0.0.1, with
 * USDT/USDC-like test tokens compiled by solc-js (tokens.ts). Nothing is downloaded: the node
 * never compiles (we pass no sources, and the `node` task does not run `compile`), telemetry is
 * off (CI=true; stdout is a pipe so no prompt can be shown anyway).
 *
 * Block tags — what hardhat 2.29 (EDR) answers, checked by hand and in test/devnet-smoke.test.ts:
 *  - default hardfork (post-merge, "osaka" in 2.29): `eth_getBlockByNumber('finalized')` and
 *    `'safe'` are ACCEPTED and return the LATEST block — every block is instantly "final", and
 *    `evm_revert` will happily rewind past "finalized" blocks. A scanner that trusts the tag on
 *    the devnet therefore credits at 0 confirmations and never sees a reorg below the tag. Point
 *    OpenRamp at the devnet with the tag disabled (OPENRAMP_FINALIZED_TAG_ETH=false) so it uses
 *    N confirmations, or:
 *  - `hardfork: 'london'` (any pre-merge hardfork): the node REJECTS the tags with JSON-RPC error
 *    -32602 "The 'finalized' block tag is not allowed in pre-merge hardforks…", which is the
 *    "node has no finalized tag" case — exercise the scanner's fallback to N confirmations.
 */

/** Hardhat's default, publicly known test mnemonic. Never use these keys for anything real. */
export const HARDHAT_MNEMONIC = 'test test test test test test test test test test test junk';
export const DEFAULT_DEVNET_CHAIN_ID = 31337;
/** How many of the (20) funded default hardhat accounts `Devnet.accounts` exposes. */
const ACCOUNT_COUNT = 5;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 5_000;
const OUTPUT_LIMIT = 64 * 1024;
const READY_LINE = 'Started HTTP and WebSocket JSON-RPC server at';

export interface StartDevnetOptions {
  /** TCP port on 127.0.0.1. Omitted or 0: a free port is picked (and re-picked on EADDRINUSE). */
  port?: number;
  /** Default 31337. */
  chainId?: number;
  /** Hardhat hardfork name; default hardhat's own (post-merge). Pre-merge (e.g. 'london') disables the finalized/safe tags. */
  hardfork?: string;
}

export interface DevnetAccount {
  /** Lowercase 0x address. */
  address: Address;
  /** Public hardhat test key (derived from HARDHAT_MNEMONIC). */
  privateKey: Hex;
}

export interface TxResult {
  txHash: Hex;
  blockNumber: bigint;
}

export interface Devnet {
  /** JSON-RPC endpoint, e.g. http://127.0.0.1:8545 */
  readonly url: string;
  readonly port: number;
  readonly chainId: number;
  readonly chain: Chain;
  /** The first funded default hardhat accounts (10000 ETH each). */
  readonly accounts: readonly DevnetAccount[];
  readonly publicClient: PublicClient<HttpTransport, Chain>;
  /** A wallet client signing locally with account `accountIndex`'s key (default 0). */
  walletClient(accountIndex?: number): WalletClient<HttpTransport, Chain, PrivateKeyAccount>;
  /** Raw JSON-RPC call. */
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  /** Deploys a fresh 6-decimals test token (from account 0); returns its lowercase address. */
  deployToken(symbol: string, name?: string): Promise<Address>;
  /** Mints `amount` raw units to `to` (from account 0; mint is open). Waits for the receipt. */
  mint(token: string, to: string, amount: bigint): Promise<TxResult>;
  /** ERC-20 transfer from account `fromAccountIndex`; waits for the receipt (so with automine off, mine concurrently). */
  transfer(token: string, fromAccountIndex: number, to: string, amount: bigint): Promise<TxResult>;
  /** Like transfer but only submits the tx and returns its hash (for batching several txs into one block with automine off). */
  sendTransfer(token: string, fromAccountIndex: number, to: string, amount: bigint): Promise<Hex>;
  /** Token balance in raw units. */
  balanceOf(token: string, owner: string): Promise<bigint>;
  /** Mines `blocks` blocks at once (hardhat_mine), including pending txs in the first. */
  mine(blocks?: number): Promise<void>;
  /** evm_snapshot: returns the snapshot id. */
  snapshot(): Promise<string>;
  /**
   * evm_revert: rewinds the chain (head, state, logs) to the snapshot. The id (and every later
   * one) is consumed. Mining afterwards builds a different branch at the same heights = a reorg;
   * note an EMPTY block mined at the same height with the same timestamp can get the same hash
   * as before — put a different tx in it for a reorg the scanner can see.
   */
  revert(id: string): Promise<void>;
  /** evm_setAutomine. On (default): every tx is mined in its own block. */
  setAutomine(on: boolean): Promise<void>;
  /** The node's recent stdout+stderr (last 64 KiB). */
  output(): string;
  /** Kills the node's whole process group and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Thrown when an explicitly requested port is taken. */
export class DevnetPortInUseError extends Error {
  constructor(readonly port: number) {
    super(`devnet: port ${port} on 127.0.0.1 is already in use`);
    this.name = 'DevnetPortInUseError';
  }
}

// ---------------------------------------------------------------------------------------------
// Cleanup of nodes that were never stopped: on process exit (also after a failed test) kill them.
// If this process dies without running 'exit' handlers (SIGKILL, an unhandled signal), the
// watchdog preloaded into the child notices its stdin pipe closing and exits too.

interface Live {
  child: ChildProcess;
  dir: string;
}
const live = new Set<Live>();
let exitHookInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal); // the child leads its own process group (detached: true)
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const l of live) {
      killGroup(l.child, 'SIGKILL');
      rmSync(l.dir, { recursive: true, force: true });
    }
    live.clear();
  });
}

/** A port that was free a moment ago (listen on 0, read it, close). Racy by nature: callers retry. */
export function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not get a free port'))));
    });
  });
}

/** true when something accepts TCP connections on 127.0.0.1:port. */
export function isPortOpen(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = (open: boolean) => {
      sock.destroy();
      resolve(open);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

const hardhatCli = (): string => createRequire(import.meta.url).resolve('hardhat/internal/cli/cli');

/**
 * Preloaded into the node: exits it when its parent goes away without stopping it (SIGKILL,
 * an unhandled SIGINT…) — stdin is a pipe only the parent holds — and removes the temp dir.
 */
const WATCHDOG = `'use strict';
const orphaned = () => {
  try { require('node:fs').rmSync(__dirname, { recursive: true, force: true }); } catch {}
  process.exit(0);
};
process.stdin.on('end', orphaned);
process.stdin.on('error', orphaned);
process.stdin.resume();
`;

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // HARDHAT_NETWORK, HARDHAT_CONFIG, ... would change what the CLI does.
    if (!k.startsWith('HARDHAT_') && k !== 'DEBUG') env[k] = v;
  }
  return {
    ...env,
    // Telemetry/analytics: no consent prompt (it also needs a TTY), analytics disabled on CI,
    // no Hardhat-3 banner / VS Code / survey / version-check messages (all TTY/CI-gated).
    CI: 'true',
    HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true',
    HARDHAT_HIDE_SOLIDITY_SURVEY_MESSAGE: 'true',
    // The config lives in a temp dir outside the repo, where `require('hardhat')` does not
    // resolve; without this the CLI refuses to run ("non-local installation").
    HARDHAT_EXPERIMENTAL_ALLOW_NON_LOCAL_INSTALLATION: 'true',
    NO_COLOR: '1',
    FORCE_COLOR: '0',
  };
}

interface Spawned {
  child: ChildProcess;
  output: () => string;
}

async function spawnNode(dir: string, port: number, chainId: number, whileBooting: () => void): Promise<Spawned> {
  let buf = '';
  const append = (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    if (buf.length > OUTPUT_LIMIT * 2) buf = buf.slice(-OUTPUT_LIMIT);
  };
  const child = spawn(
    process.execPath,
    [
      '--require',
      path.join(dir, 'watchdog.cjs'),
      hardhatCli(),
      '--config',
      path.join(dir, 'hardhat.config.cjs'),
      'node',
      '--hostname',
      '127.0.0.1',
      '--port',
      String(port),
    ],
    { cwd: dir, env: childEnv(), stdio: ['pipe', 'pipe', 'pipe'], detached: true },
  );
  // Always drain the pipes (the node logs every RPC call; a full pipe would block it).
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  child.stdin!.on('error', () => {});
  const output = () => buf.slice(-OUTPUT_LIMIT);
  const url = `http://127.0.0.1:${port}`;

  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let spawnError: Error | null = null;
  child.once('exit', (code, signal) => (exited = { code, signal }));
  child.once('error', (e) => (spawnError = e));
  try {
    whileBooting();
  } catch (e) {
    killGroup(child, 'SIGKILL');
    throw e;
  }

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (spawnError) throw spawnError;
    if (exited) {
      const out = output();
      if (/EADDRINUSE/.test(out)) throw new DevnetPortInUseError(port);
      const { code, signal } = exited as { code: number | null; signal: NodeJS.Signals | null };
      throw new Error(`devnet: hardhat node exited during startup (code ${code}, signal ${signal}); output:\n${out}`);
    }
    // Only trust the RPC once OUR child says it is listening: another node could own the port.
    if (buf.includes(READY_LINE)) {
      try {
        const got = await rawRpc<string>(url, 'eth_chainId', []);
        if (Number(got) !== chainId) throw new Error(`devnet: eth_chainId answered ${got}, expected ${chainId}`);
        return { child, output };
      } catch (e) {
        if (e instanceof Error && e.message.startsWith('devnet:')) {
          killGroup(child, 'SIGKILL');
          throw e;
        }
      }
    }
    if (Date.now() > deadline) {
      killGroup(child, 'SIGKILL');
      throw new Error(`devnet: hardhat node did not answer eth_chainId on ${url} within ${START_TIMEOUT_MS / 1000}s; output:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function rawRpc<T>(url: string, method: string, params: unknown[]): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(5000),
  });
  const body = (await res.json()) as { result?: T; error?: { code: number; message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message} (${body.error.code})`);
  return body.result as T;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/**
 * Starts a hardhat@2 node on 127.0.0.1 (automine on, deterministic chain id) and resolves once
 * it answers eth_chainId (~2–3 s). Throws after 60 s with the node's output.
 */
export async function startDevnet(opts: StartDevnetOptions = {}): Promise<Devnet> {
  const chainId = opts.chainId ?? DEFAULT_DEVNET_CHAIN_ID;
  const autoPort = !opts.port;
  installExitHook();

  const dir = mkdtempSync(path.join(tmpdir(), 'openramp-devnet-'));
  const config = {
    // No `solidity` section and no sources: the `node` task never compiles, so no compiler
    // download is ever attempted. Paths stay inside the temp dir.
    networks: {
      hardhat: {
        chainId,
        ...(opts.hardfork ? { hardfork: opts.hardfork } : {}),
        mining: { auto: true, interval: 0 },
        accounts: { mnemonic: HARDHAT_MNEMONIC, count: 20 },
        loggingEnabled: false,
      },
    },
  };
  writeFileSync(
    path.join(dir, 'hardhat.config.cjs'),
    `// generated by OpenRamp's devnet (src/adapters/chains/devnet/devnet.ts)\nmodule.exports = ${JSON.stringify(config, null, 2)};\n`,
  );
  writeFileSync(path.join(dir, 'watchdog.cjs'), WATCHDOG);

  let spawned: Spawned | undefined;
  let port = 0;
  try {
    for (let attempt = 0; ; attempt++) {
      port = autoPort ? await getFreePort() : opts.port!;
      try {
        // The (synchronous, CPU-bound, ~1.5 s cold) token compile overlaps the node's ~2.5 s boot.
        spawned = await spawnNode(dir, port, chainId, compileTestToken);
        break;
      } catch (e) {
        if (e instanceof DevnetPortInUseError && autoPort && attempt < 4) continue;
        throw e;
      }
    }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const { child, output } = spawned;
  const entry: Live = { child, dir };
  live.add(entry);
  // A devnet that is never stopped must not keep the process alive; the exit hook kills it.
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();

  const url = `http://127.0.0.1:${port}`;
  const chain = defineChain({
    id: chainId,
    name: 'OpenRamp devnet (hardhat)',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [url] } },
    testnet: true,
  });
  const transport = http(url, { retryCount: 0, timeout: 30_000 });
  // cacheTime 0: viem otherwise caches eth_blockNumber for a polling interval, which hides the
  // head moving (or going back on revert) between two calls in a test.
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 50, cacheTime: 0 });

  const accounts: DevnetAccount[] = [];
  for (let i = 0; i < ACCOUNT_COUNT; i++) {
    const hd = mnemonicToAccount(HARDHAT_MNEMONIC, { addressIndex: i });
    const pk = hd.getHdKey().privateKey;
    if (!pk) throw new Error('devnet: could not derive a private key');
    accounts.push({ address: hd.address.toLowerCase() as Address, privateKey: toHex(pk) });
  }
  const wallets = new Map<number, WalletClient<HttpTransport, Chain, PrivateKeyAccount>>();
  const walletClient = (i = 0) => {
    let w = wallets.get(i);
    if (!w) {
      const acct = accounts[i];
      if (!acct) throw new Error(`devnet: no account #${i} (have ${accounts.length})`);
      w = createWalletClient({ account: privateKeyToAccount(acct.privateKey), chain, transport, pollingInterval: 50 });
      wallets.set(i, w);
    }
    return w;
  };
  const rpc = <T = unknown>(method: string, params: unknown[] = []) => rawRpc<T>(url, method, params);
  const { abi, bytecode } = compileTestToken();

  const receipt = async (hash: Hex): Promise<TxResult> => {
    const r = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 50, timeout: 120_000 });
    if (r.status !== 'success') throw new Error(`devnet: tx ${hash} reverted`);
    return { txHash: hash, blockNumber: r.blockNumber };
  };
  const sendTransfer = (token: string, from: number, to: string, amount: bigint) =>
    walletClient(from).writeContract({ address: token as Address, abi, functionName: 'transfer', args: [to as Address, amount] });

  let stopped: Promise<void> | undefined;
  const devnet: Devnet = {
    url,
    port,
    chainId,
    chain,
    accounts,
    publicClient: publicClient as PublicClient<HttpTransport, Chain>,
    walletClient,
    rpc,
    async deployToken(symbol, name) {
      const hash = await walletClient(0).deployContract({ abi, bytecode, args: [name ?? `${symbol} (OpenRamp devnet)`, symbol] });
      const r = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 50, timeout: 120_000 });
      if (r.status !== 'success' || !r.contractAddress) throw new Error(`devnet: deploying ${symbol} failed (tx ${hash})`);
      return r.contractAddress.toLowerCase() as Address;
    },
    async mint(token, to, amount) {
      const hash = await walletClient(0).writeContract({
        address: token as Address,
        abi,
        functionName: 'mint',
        args: [to as Address, amount],
      });
      return receipt(hash);
    },
    async transfer(token, from, to, amount) {
      return receipt(await sendTransfer(token, from, to, amount));
    },
    sendTransfer,
    async balanceOf(token, owner) {
      return (await publicClient.readContract({
        address: token as Address,
        abi,
        functionName: 'balanceOf',
        args: [owner as Address],
      })) as bigint;
    },
    async mine(blocks = 1) {
      if (!Number.isInteger(blocks) || blocks < 1) throw new Error(`devnet: mine(${blocks}): need a positive whole number`);
      await rpc('hardhat_mine', [toHex(blocks)]);
    },
    snapshot: () => rpc<string>('evm_snapshot'),
    async revert(id) {
      const ok = await rpc<boolean>('evm_revert', [id]);
      if (!ok) throw new Error(`devnet: evm_revert(${id}) failed (unknown or already used snapshot id)`);
    },
    async setAutomine(on) {
      await rpc('evm_setAutomine', [on]);
    },
    output,
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          killGroup(child, 'SIGTERM');
          if (!(await waitExit(child, STOP_TIMEOUT_MS))) {
            killGroup(child, 'SIGKILL');
            await waitExit(child, STOP_TIMEOUT_MS);
          }
        }
        // Anything else left in the group (hardhat spawns nothing today, but be sure).
        killGroup(child, 'SIGKILL');
        live.delete(entry);
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
  return devnet;
}
