import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Registry as MetricsRegistry } from 'prom-client';
import { encodeFunctionData, keccak256, parseGwei, type Abi, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { compileTestToken, type Devnet } from './devnet.ts';
import { call, onboard, type TestContext } from './harness.ts';
import { openOfframpFlow } from './pipeline.ts';
import { createScanner, createScannerMetrics, type Scanner } from '../../src/adapters/chains/scanner.ts';
import { createAddressBook } from '../../src/adapters/chains/address-book.ts';
import { createLogger } from '../../src/infra/lib/logger.ts';
import { NETWORK_FAMILY, type Network } from '../../src/adapters/chains/networks.ts';
import { RangeTooLargeError, type ChainClient } from '../../src/adapters/chains/types.ts';
import type { Deposits } from '../../src/domain/deposits/deposits.ts';

/**
 * Helpers for the scanner integration tests against the real devnet (test/scanner-*.test.ts):
 * locally signed raw transfers (so the SAME signed transaction can be re-sent after a reorg),
 * a multi-send contract (several Transfer logs in one transaction), chain-client wrappers that
 * crash or refuse wide ranges, a stand-alone scanner on an app's database, and API/DB lookups.
 */

// ---------------------------------------------------------------------------------------------
// Transactions

export interface SignedTx {
  raw: Hex;
  hash: Hex;
}

/** The next nonce of a devnet account (pending state). */
export async function nonceOf(devnet: Devnet, accountIndex: number): Promise<number> {
  const n = await devnet.rpc<string>('eth_getTransactionCount', [devnet.accounts[accountIndex]!.address, 'pending']);
  return Number(n);
}

/**
 * Signs an ERC-20 `transfer` locally (fixed gas and fees, no node round trips besides the nonce
 * when not given). Send it with `sendRaw`; the same `raw` can be re-sent after a revert and is
 * then mined with the same hash.
 */
export async function signTransfer(
  devnet: Devnet,
  token: string,
  fromAccountIndex: number,
  to: string,
  amount: bigint,
  nonce?: number,
): Promise<SignedTx> {
  const acct = devnet.accounts[fromAccountIndex];
  if (!acct) throw new Error(`no devnet account #${fromAccountIndex}`);
  const account = privateKeyToAccount(acct.privateKey);
  const { abi } = compileTestToken();
  const raw = await account.signTransaction({
    type: 'eip1559',
    chainId: devnet.chainId,
    nonce: nonce ?? (await nonceOf(devnet, fromAccountIndex)),
    to: token as Address,
    data: encodeFunctionData({ abi, functionName: 'transfer', args: [to as Address, amount] }),
    gas: 120_000n,
    maxFeePerGas: parseGwei('50'),
    maxPriorityFeePerGas: parseGwei('1'),
  });
  return { raw, hash: keccak256(raw) };
}

/** eth_sendRawTransaction (with automine on, the node mines it before answering). */
export async function sendRaw(devnet: Devnet, tx: SignedTx): Promise<Hex> {
  const hash = await devnet.rpc<Hex>('eth_sendRawTransaction', [tx.raw]);
  assert.equal(hash.toLowerCase(), tx.hash, 'node hash = keccak256(raw)');
  return tx.hash;
}

export async function headOf(devnet: Devnet): Promise<bigint> {
  return BigInt(await devnet.rpc<string>('eth_blockNumber'));
}

export async function receiptOf(devnet: Devnet, hash: string): Promise<{ blockNumber: bigint; blockHash: string; status: string } | null> {
  const r = await devnet.rpc<{ blockNumber: string; blockHash: string; status: string } | null>('eth_getTransactionReceipt', [hash]);
  return r ? { blockNumber: BigInt(r.blockNumber), blockHash: r.blockHash.toLowerCase(), status: r.status } : null;
}

/** Runs `fn` with automine off (txs wait in the mempool), then mines ONE block with all of them. */
export async function inOneBlock<T>(devnet: Devnet, fn: () => Promise<T>): Promise<T> {
  await devnet.setAutomine(false);
  try {
    const out = await fn();
    await devnet.mine(1);
    return out;
  } finally {
    await devnet.setAutomine(true);
  }
}

const MULTI_SEND_SOURCE = `// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

interface IERC20Like {
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

/// Several ERC-20 transfers (of any tokens) from the caller in ONE transaction: one Transfer log each.
contract OpenRampTestMultiSend {
    function send(address[] calldata tokens, address[] calldata to, uint256[] calldata amounts) external {
        require(tokens.length == to.length && to.length == amounts.length, "length mismatch");
        for (uint256 i = 0; i < to.length; i++) {
            require(IERC20Like(tokens[i]).transferFrom(msg.sender, to[i], amounts[i]), "transfer failed");
        }
    }
}
`;

let multiSendCompiled: { abi: Abi; bytecode: Hex } | undefined;

function compileMultiSend(): { abi: Abi; bytecode: Hex } {
  if (multiSendCompiled) return multiSendCompiled;
  const solc = createRequire(import.meta.url)('solc') as { compile(input: string): string };
  const input = {
    language: 'Solidity',
    sources: { 'MultiSend.sol': { content: MULTI_SEND_SOURCE } },
    settings: { optimizer: { enabled: false }, evmVersion: 'london', outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage?: string; message: string }[];
    contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length) throw new Error(`solc: ${errors.map((e) => e.formattedMessage ?? e.message).join('\n')}`);
  const c = out.contracts?.['MultiSend.sol']?.['OpenRampTestMultiSend'];
  if (!c) throw new Error('solc produced no MultiSend');
  multiSendCompiled = { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
  return multiSendCompiled;
}

export interface MultiSend {
  address: Address;
  /** Approves the multi-sender for `tokens` from `accountIndex` (max allowance). */
  approve(accountIndex: number, tokens: string[]): Promise<void>;
  /** One transaction, one Transfer log per item, in order. Returns the tx hash and block. */
  send(accountIndex: number, items: { token: string; to: string; amount: bigint }[]): Promise<{ txHash: Hex; blockNumber: bigint }>;
}

export async function deployMultiSend(devnet: Devnet): Promise<MultiSend> {
  const { abi, bytecode } = compileMultiSend();
  const tokenAbi = compileTestToken().abi;
  const wait = async (hash: Hex) => {
    const r = await devnet.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    if (r.status !== 'success') throw new Error(`tx ${hash} reverted`);
    return r;
  };
  const deployed = await wait(await devnet.walletClient(0).deployContract({ abi, bytecode, args: [] }));
  const address = deployed.contractAddress!.toLowerCase() as Address;
  return {
    address,
    async approve(accountIndex, tokens) {
      for (const t of tokens) {
        await wait(
          await devnet
            .walletClient(accountIndex)
            .writeContract({ address: t as Address, abi: tokenAbi, functionName: 'approve', args: [address, 2n ** 256n - 1n] }),
        );
      }
    },
    async send(accountIndex, items) {
      const hash = await devnet.walletClient(accountIndex).writeContract({
        address,
        abi,
        functionName: 'send',
        args: [items.map((i) => i.token as Address), items.map((i) => i.to as Address), items.map((i) => i.amount)],
      });
      const r = await wait(hash);
      return { txHash: hash, blockNumber: r.blockNumber };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Chain-client wrappers

/** A client whose getTransferLogs works `okCalls` times and then fails (a crash mid-backfill). */
export function crashAfterLogCalls(inner: ChainClient, okCalls: number): { client: ChainClient; logCalls: () => number } {
  let calls = 0;
  const client: ChainClient = {
    network: inner.network,
    getHeadNumber: () => inner.getHeadNumber(),
    getFinalizedNumber: () => inner.getFinalizedNumber(),
    getBlock: (n) => inner.getBlock(n),
    async getTransferLogs(range, tokens) {
      calls += 1;
      if (calls > okCalls) throw new Error(`simulated crash at getTransferLogs #${calls} (${range.fromBlock}..${range.toBlock})`);
      return inner.getTransferLogs(range, tokens);
    },
  };
  return { client, logCalls: () => calls };
}

export interface RangeProbe {
  client: ChainClient;
  /** Ranges answered, in call order. */
  served: { from: bigint; to: bigint }[];
  /** Ranges refused with RangeTooLargeError. */
  refused: { from: bigint; to: bigint }[];
}

/** A client that refuses eth_getLogs ranges wider than `maxWidth` blocks, like a hosted node. */
export function refuseWideRanges(inner: ChainClient, maxWidth: number): RangeProbe {
  const probe: RangeProbe = {
    served: [],
    refused: [],
    client: {
      network: inner.network,
      getHeadNumber: () => inner.getHeadNumber(),
      getFinalizedNumber: () => inner.getFinalizedNumber(),
      getBlock: (n) => inner.getBlock(n),
      async getTransferLogs(range, tokens) {
        const r = { from: range.fromBlock, to: range.toBlock };
        if (range.toBlock - range.fromBlock + 1n > BigInt(maxWidth)) {
          probe.refused.push(r);
          throw new RangeTooLargeError(`block range too large (max ${maxWidth})`);
        }
        const logs = await inner.getTransferLogs(range, tokens);
        probe.served.push(r);
        return logs;
      },
    },
  };
  return probe;
}

/**
 * A load-balanced RPC endpoint answering from a replica `lag` blocks behind: the head is lower
 * than what the scanner already saw, and blocks above it do not exist (yet). Not a reorg.
 */
export function laggingReplica(inner: ChainClient, lag: number): ChainClient {
  const head = async () => (await inner.getHeadNumber()) - BigInt(lag);
  return {
    network: inner.network,
    getHeadNumber: head,
    getFinalizedNumber: () => inner.getFinalizedNumber(),
    async getBlock(n) {
      return n > (await head()) ? null : inner.getBlock(n);
    },
    async getTransferLogs(range, tokens) {
      const h = await head();
      if (range.fromBlock > h) return [];
      return inner.getTransferLogs({ fromBlock: range.fromBlock, toBlock: range.toBlock > h ? h : range.toBlock }, tokens);
    },
  };
}

/** A second scanner on the app's database (its own address book and metrics), as another process would run. */
export function createTestScanner(
  ctx: TestContext,
  opts: { network?: Network; client?: ChainClient; deposits?: Deposits; rangeBlocksMax: number; startBlock?: bigint | 'head' },
): Scanner {
  const s = ctx.openramp.services;
  const network = opts.network ?? 'ETH';
  return createScanner({
    network,
    db: s.db,
    client: opts.client ?? s.chainClients[network],
    registry: s.registry,
    addresses: createAddressBook(s.db, NETWORK_FAMILY[network]),
    deposits: opts.deposits ?? s.deposits,
    clock: s.clock,
    logger: createLogger({ level: 'silent' }),
    metrics: createScannerMetrics(new MetricsRegistry()),
    pollIntervalMs: 1000,
    rangeBlocksMax: opts.rangeBlocksMax,
    startBlock: opts.startBlock ?? 0n,
    lease: null,
  });
}

// ---------------------------------------------------------------------------------------------
// Reading results back (API and database)

/** Onboards a CONFIRMED customer and opens offramp flows; returns the deposit address (as the API shows it). */
export async function customerWithFlows(ctx: TestContext, name: string, flows: { network: Network; currency: 'USDT' | 'USDC' }[]) {
  const c = await onboard(ctx, { name });
  const out: { customerId: string; address: Record<string, string>; flowId: Record<string, string> } = {
    customerId: c.customerId,
    address: {},
    flowId: {},
  };
  for (const f of flows) {
    const r = await openOfframpFlow(ctx, { customerId: c.customerId, bankAccountId: c.bankAccountId, ...f });
    out.address[`${f.network}:${f.currency}`] = r.depositAddress;
    out.flowId[`${f.network}:${f.currency}`] = r.flowId;
  }
  return out;
}

export async function depositDetail(ctx: TestContext, id: string) {
  const r = await call(ctx, { method: 'GET', url: `/deposit/detail?id=${id}` });
  assert.equal(r.status, 200, r.body);
  return r.json.data;
}

/** Every deposit of the partner through `/deposit/list` (all pages). */
export async function listAllDeposits(ctx: TestContext, query = ''): Promise<any[]> {
  const out: any[] = [];
  for (let page = 1; ; page++) {
    const r = await call(ctx, { method: 'GET', url: `/deposit/list?pageSize=100&pageNum=${page}${query ? `&${query}` : ''}` });
    assert.equal(r.status, 200, r.body);
    out.push(...r.json.data.list);
    if (out.length >= r.json.data.total || r.json.data.list.length === 0) return out;
  }
}

/** Deposit rows of one transaction (network, txHash), ordered by ordinal. */
export async function depositRowsOfTx(ctx: TestContext, txHash: string, network: Network = 'ETH') {
  return ctx.openramp.services.db
    .selectFrom('deposits')
    .selectAll()
    .where('network', '=', network)
    .where('tx_hash', '=', txHash.toLowerCase())
    .orderBy('log_ordinal')
    .execute();
}

/** The single deposit id of a transaction (asserts there is exactly one row). */
export async function depositIdOfTx(ctx: TestContext, txHash: string, network: Network = 'ETH'): Promise<string> {
  const rows = await depositRowsOfTx(ctx, txHash, network);
  assert.equal(rows.length, 1, `exactly one deposit row for ${txHash}`);
  return rows[0]!.id;
}

export async function eventTypes(ctx: TestContext, objectId: string): Promise<string[]> {
  const rows = await ctx.openramp.services.db
    .selectFrom('events')
    .select(['type'])
    .where('object_id', '=', objectId)
    .orderBy('seq')
    .execute();
  return rows.map((r) => r.type);
}

export async function tradeJobs(ctx: TestContext, depositId: string) {
  return ctx.openramp.services.db.selectFrom('jobs').selectAll().where('unique_key', '=', `trade.create:${depositId}`).execute();
}

export async function cursorOf(ctx: TestContext, network: Network = 'ETH'): Promise<{ number: bigint; hash: string } | null> {
  const c = await ctx.openramp.services.db.selectFrom('scanner_cursors').selectAll().where('network', '=', network).executeTakeFirst();
  return c ? { number: BigInt(c.block_number), hash: c.block_hash } : null;
}

export async function countDeposits(ctx: TestContext, network: Network = 'ETH'): Promise<number> {
  const r = await ctx.openramp.services.db
    .selectFrom('deposits')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('network', '=', network)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Base env pointing one network of an app at the devnet. */
export function devnetEnv(url: string, tokens: { USDT: string; USDC: string }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    OPENRAMP_RPC_URL_ETH: url,
    OPENRAMP_TOKEN_ETH_USDT: tokens.USDT,
    OPENRAMP_TOKEN_ETH_USDC: tokens.USDC,
    OPENRAMP_FINALIZED_TAG_ETH: 'false',
    OPENRAMP_CONFIRMATIONS_ETH: '6',
    OPENRAMP_SCANNER_START_ETH: '0',
    OPENRAMP_MIN_DEPOSIT_ETH: '1',
    // The tests read every deposit through the signed API after each block.
    OPENRAMP_RATE_LIMIT_PER_MINUTE: '100000',
    ...extra,
  };
}
