/**
 * A tiny programmable JSON-RPC server (node:http on 127.0.0.1, ephemeral port) with an in-memory
 * chain, for testing the JSON-RPC chain client without a real node.
 *
 * Serves eth_blockNumber, eth_getBlockByNumber (number / latest / earliest / finalized / safe)
 * and eth_getLogs (range, address and topic0 filters). Knobs: refuse wide eth_getLogs ranges
 * with a given error, reject or null the `finalized` tag, fail or hang any method, count calls
 * per method, and a Tron mode that answers like java-tron's /jsonrpc (hashes without `0x`,
 * contract addresses with the 41 prefix or in base58, optionally millisecond timestamps).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hexToTron, tronToHex } from '../../src/adapters/chains/addresses.ts';
import { TRANSFER_TOPIC } from '../../src/adapters/chains/types.ts';

export interface FakeBlock {
  number: bigint;
  /** lowercase 0x hex (the server strips 0x on the wire in Tron mode). */
  hash: string;
  parentHash: string;
  /** Unix seconds. */
  timestamp: bigint;
}

export interface FakeLog {
  blockNumber: bigint;
  logIndex: number;
  /** Contract address, lowercase 0x 20-byte hex. */
  address: string;
  topics: string[];
  data: string;
  txHash: string;
  removed: boolean;
}

/** How the server fails a call: a JSON-RPC error (HTTP 200 unless httpStatus), or a raw HTTP body. */
export interface FakeRpcError {
  code?: number;
  message?: string;
  data?: unknown;
  /** HTTP status of the reply (default 200). */
  httpStatus?: number;
  /** Send this text as the body instead of a JSON-RPC error object. */
  rawBody?: string;
}

export interface FakeRpcOptions {
  /** Answer like java-tron's Ethereum-compatible JSON-RPC. */
  tron?: boolean;
  /** Tron mode: how log contract addresses are written (default 'hex41': `41` + 20 bytes, no 0x). */
  tronAddressFormat?: 'hex20' | 'hex41' | 'base58';
  /** Tron mode: send block timestamps in milliseconds. */
  tronTimestampMs?: boolean;
}

export interface AddTransferInput {
  blockNumber: bigint;
  logIndex: number;
  token: string;
  from: string;
  to: string;
  value: bigint;
  txHash?: string;
  removed?: boolean;
  /** Extra topics after topics[2] (e.g. an ERC-721 tokenId makes a 4-topic log). */
  extraTopics?: string[];
  /** Override the data field. */
  data?: string;
  /** Put a 0x41 byte in the padding of the address topics (Tron-style 21-byte address in a word). */
  tronPaddedTopics?: boolean;
}

function sha(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function hex(n: bigint | number): string {
  return `0x${n.toString(16)}`;
}

function pad32(hex20: string, tronByte = false): string {
  const body = hex20.replace(/^0x/, '').toLowerCase();
  return `0x${tronByte ? '0000000000000000000000' + '41' : '000000000000000000000000'}${body}`;
}

export class FakeRpcServer {
  url = '';
  readonly tron: boolean;
  tronAddressFormat: 'hex20' | 'hex41' | 'base58';
  tronTimestampMs: boolean;
  readonly blocks: FakeBlock[] = [];
  readonly logs: FakeLog[] = [];
  /** Refuse eth_getLogs when toBlock - fromBlock + 1 exceeds this. */
  maxLogRange: bigint | null = null;
  rangeError: FakeRpcError = { code: -32005, message: 'query returned more than 10000 results' };
  /** Number returned for the `finalized`/`safe` tags; null → result null; 'reject' → finalizedError. */
  finalized: bigint | null | 'reject' = null;
  finalizedError: FakeRpcError = { code: -32602, message: 'TAG finalized not supported' };
  /** Fail every call of a method with this error. */
  readonly methodErrors = new Map<string, FakeRpcError>();
  /** Never answer calls of these methods. */
  readonly hangMethods = new Set<string>();
  /** Ignore the address filter of eth_getLogs (a misbehaving node). */
  ignoreAddressFilter = false;
  readonly calls = new Map<string, number>();
  /** Last params seen per method. */
  readonly lastParams = new Map<string, unknown[]>();

  private server: Server | null = null;

  constructor(opts: FakeRpcOptions = {}) {
    this.tron = opts.tron ?? false;
    this.tronAddressFormat = opts.tronAddressFormat ?? 'hex41';
    this.tronTimestampMs = opts.tronTimestampMs ?? false;
  }

  get head(): bigint {
    return BigInt(this.blocks.length - 1);
  }

  callCount(method: string): number {
    return this.calls.get(method) ?? 0;
  }

  /** Restore the default behaviour knobs and zero the counters (chain data stays). */
  reset(): void {
    this.calls.clear();
    this.lastParams.clear();
    this.methodErrors.clear();
    this.hangMethods.clear();
    this.maxLogRange = null;
    this.finalized = null;
    this.ignoreAddressFilter = false;
  }

  /** Append `count` blocks (the genesis block first if the chain is empty). */
  mine(count: number): FakeBlock[] {
    const made: FakeBlock[] = [];
    for (let i = 0; i < count; i++) {
      const number = BigInt(this.blocks.length);
      const parent = this.blocks[this.blocks.length - 1];
      const parentHash = parent ? parent.hash : `0x${'0'.repeat(64)}`;
      let h = sha(`block:${number}:${parentHash}`);
      // Like Tron block ids: the first 8 bytes are the block number.
      if (this.tron) h = number.toString(16).padStart(16, '0') + h.slice(16);
      const block: FakeBlock = { number, hash: `0x${h}`, parentHash, timestamp: 1_700_000_000n + number * 3n };
      this.blocks.push(block);
      made.push(block);
    }
    return made;
  }

  /** Add an ERC-20 Transfer log (or a Transfer-shaped variant). */
  addTransfer(t: AddTransferInput): FakeLog {
    const log: FakeLog = {
      blockNumber: t.blockNumber,
      logIndex: t.logIndex,
      address: t.token.toLowerCase(),
      topics: [TRANSFER_TOPIC, pad32(t.from, t.tronPaddedTopics), pad32(t.to, t.tronPaddedTopics), ...(t.extraTopics ?? [])],
      data: t.data ?? `0x${t.value.toString(16).padStart(64, '0')}`,
      txHash: t.txHash ?? `0x${sha(`tx:${t.blockNumber}:${t.logIndex}:${t.token}`)}`,
      removed: t.removed ?? false,
    };
    this.logs.push(log);
    return log;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}${this.tron ? '/jsonrpc' : '/'}`;
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    server.closeAllConnections(); // also drops requests left hanging on purpose
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // -------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      this.send(res, 200, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } });
      return;
    }
    const reqs = Array.isArray(body) ? body : [body];
    const replies: unknown[] = [];
    for (const r of reqs) {
      const { id, method, params } = r as { id: unknown; method: string; params?: unknown[] };
      this.calls.set(method, this.callCount(method) + 1);
      this.lastParams.set(method, params ?? []);
      if (this.hangMethods.has(method)) return; // never answer
      let outcome: { result: unknown } | { error: FakeRpcError };
      const forced = this.methodErrors.get(method);
      if (forced) outcome = { error: forced };
      else {
        try {
          outcome = this.dispatch(method, params ?? []);
        } catch (err) {
          outcome = { error: { code: -32603, message: err instanceof Error ? err.message : String(err) } };
        }
      }
      if ('error' in outcome) {
        const e = outcome.error;
        if (e.rawBody !== undefined || (e.httpStatus !== undefined && e.httpStatus !== 200) || reqs.length === 1) {
          if (e.rawBody !== undefined) {
            res.writeHead(e.httpStatus ?? 200, { 'content-type': 'text/plain' });
            res.end(e.rawBody);
            return;
          }
          this.send(res, e.httpStatus ?? 200, this.errorBody(id, e));
          return;
        }
        replies.push(this.errorBody(id, e));
      } else {
        replies.push({ jsonrpc: '2.0', id, result: outcome.result });
      }
    }
    this.send(res, 200, Array.isArray(body) ? replies : replies[0]);
  }

  private errorBody(id: unknown, e: FakeRpcError): unknown {
    const error: Record<string, unknown> = { code: e.code ?? -32000, message: e.message ?? 'error' };
    if (e.data !== undefined) error.data = e.data;
    return { jsonrpc: '2.0', id, error };
  }

  private send(res: ServerResponse, status: number, payload: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(payload));
  }

  private dispatch(method: string, params: unknown[]): { result: unknown } | { error: FakeRpcError } {
    switch (method) {
      case 'eth_blockNumber':
        return { result: hex(this.head) };
      case 'eth_getBlockByNumber': {
        const tag = params[0];
        if (tag === 'finalized' || tag === 'safe') {
          if (this.finalized === 'reject') return { error: this.finalizedError };
          if (this.finalized === null) return { result: null };
          return { result: this.blockJson(this.finalized) };
        }
        const n = this.blockTag(tag);
        if (n === 'pending') return { error: { code: -32602, message: 'TAG pending not supported' } };
        return { result: this.blockJson(n) };
      }
      case 'eth_getLogs':
        return this.getLogs(params[0]);
      default:
        return { error: { code: -32601, message: `the method ${method} does not exist/is not available` } };
    }
  }

  private blockTag(tag: unknown): bigint | 'pending' {
    if (tag === undefined || tag === 'latest') return this.head;
    if (tag === 'earliest') return 0n;
    if (tag === 'pending') return 'pending';
    if (typeof tag === 'string' && /^0x[0-9a-fA-F]+$/.test(tag)) return BigInt(tag);
    throw new Error(`invalid block tag ${String(tag)}`);
  }

  private h(hash: string): string {
    return this.tron ? hash.replace(/^0x/, '') : hash;
  }

  private blockJson(n: bigint): unknown {
    if (n < 0n || n > this.head) return null;
    const b = this.blocks[Number(n)]!;
    const ts = this.tron && this.tronTimestampMs ? b.timestamp * 1000n : b.timestamp;
    return {
      number: hex(b.number),
      hash: this.tron ? this.h(b.hash) : b.hash,
      // java-tron style: parentHash keeps its 0x while hash does not (mixed on purpose).
      parentHash: b.parentHash,
      timestamp: hex(ts),
      transactions: [],
      miner: this.tron ? '0x0000000000000000000000000000000000000000' : undefined,
    };
  }

  private addrOut(a: string): string {
    if (!this.tron) return a;
    switch (this.tronAddressFormat) {
      case 'hex20':
        return a;
      case 'hex41':
        return `41${a.slice(2)}`;
      case 'base58':
        return hexToTron(a);
    }
  }

  private static normFilterAddress(a: string): string {
    if (a.startsWith('T')) return tronToHex(a);
    let body = a.replace(/^0x/i, '').toLowerCase();
    if (body.length === 42 && body.startsWith('41')) body = body.slice(2);
    return `0x${body}`;
  }

  private getLogs(filter: unknown): { result: unknown } | { error: FakeRpcError } {
    const f = (filter ?? {}) as { fromBlock?: string; toBlock?: string; address?: string | string[]; topics?: unknown[] };
    const from = this.blockTag(f.fromBlock ?? 'latest');
    const to = this.blockTag(f.toBlock ?? 'latest');
    if (from === 'pending' || to === 'pending') return { error: { code: -32602, message: 'TAG pending not supported' } };
    if (from > to) return { error: { code: -32602, message: 'invalid block range params' } };
    if (this.maxLogRange !== null && to - from + 1n > this.maxLogRange) return { error: this.rangeError };
    const addrs =
      f.address === undefined || this.ignoreAddressFilter
        ? null
        : new Set((Array.isArray(f.address) ? f.address : [f.address]).map(FakeRpcServer.normFilterAddress));
    const t0 = f.topics?.[0];
    const topic0 = t0 === undefined || t0 === null ? null : new Set((Array.isArray(t0) ? t0 : [t0]).map((x) => String(x).toLowerCase()));
    const result = this.logs
      .filter((l) => l.blockNumber >= from && l.blockNumber <= to)
      .filter((l) => addrs === null || addrs.has(l.address))
      .filter((l) => topic0 === null || (l.topics[0] !== undefined && topic0.has(l.topics[0])))
      .map((l) => {
        const block = this.blocks[Number(l.blockNumber)];
        return {
          address: this.addrOut(l.address),
          topics: l.topics,
          data: this.tron ? l.data.replace(/^0x/, '') : l.data,
          blockNumber: hex(l.blockNumber),
          blockHash: this.h(block ? block.hash : `0x${sha(`nohash:${l.blockNumber}`)}`),
          transactionHash: this.h(l.txHash),
          transactionIndex: '0x0',
          logIndex: hex(l.logIndex),
          removed: l.removed,
        };
      });
    return { result };
  }
}

export async function startFakeRpc(opts: FakeRpcOptions = {}): Promise<FakeRpcServer> {
  return new FakeRpcServer(opts).start();
}
