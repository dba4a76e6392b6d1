/**
 * ChainClient over Ethereum-style JSON-RPC (viem's HTTP transport) for ETH, MATIC and TRX.
 *
 * TRX is reached through java-tron's Ethereum-compatible JSON-RPC (`/jsonrpc`). Its quirks are
 * absorbed here, at the edge, so the scanner sees the same shapes on every network:
 * hashes that come without `0x`, contract addresses in logs with the `41` Tron prefix (or even
 * base58), and block timestamps in milliseconds. Everything leaving this module is lowercase
 * `0x` hex (20-byte addresses, 32-byte hashes) and bigint block numbers/values.
 *
 * Requests go through `client.request` (raw JSON-RPC, no viem formatters or caches) with viem's
 * own retry disabled: retries are done here so that a range refusal on `eth_getLogs` (which viem
 * would retry, e.g. -32005 or HTTP 413) surfaces at once as RangeTooLargeError for the scanner
 * to split, while genuinely transient failures (timeouts, 5xx, rate limits) are retried.
 * Error messages never include the node URL (it often carries an API key).
 */
import { BaseError, createPublicClient, http, HttpRequestError, ResponseBodyTooLargeError, RpcRequestError, TimeoutError } from 'viem';
import { tronToHex } from './addresses.ts';
import type { Network } from './networks.ts';
import { RangeTooLargeError, TRANSFER_TOPIC, type BlockHeader, type ChainClient, type TransferLog } from './types.ts';

export interface JsonRpcClientOptions {
  network: Network;
  url: string;
  /** Per-attempt request timeout. Default 10 000 ms. */
  timeoutMs?: number;
  /** Retries of transient failures (timeouts, network errors, HTTP 5xx/429, rate limits). Default 2. */
  retryCountMax?: number;
  /** Base of the exponential backoff between retries (base·2^attempt). Default 150 ms. */
  retryDelayMs?: number;
}

/**
 * A failed JSON-RPC call; the message names the network and the method. The underlying viem
 * error is deliberately not attached as `cause`: viem's messages embed the node URL (API keys
 * live in Infura/Alchemy URL paths) and would reach the logs through serialized causes.
 */
export class ChainRpcError extends Error {
  readonly method: string;
  /** JSON-RPC error code, when the node answered with one. */
  readonly code: number | undefined;
  /** HTTP status, when the node answered with a non-2xx status. */
  readonly status: number | undefined;
  /** The node's own error message (or the HTTP body / transport failure), without the URL. */
  readonly detail: string;

  constructor(network: Network, method: string, detail: string, extra: { code?: number | undefined; status?: number | undefined } = {}) {
    super(`${network} ${method} failed: ${detail}`);
    this.name = 'ChainRpcError';
    this.method = method;
    this.code = extra.code;
    this.status = extra.status;
    this.detail = detail;
  }
}

// ---------------------------------------------------------------------------
// Error introspection and classification
// ---------------------------------------------------------------------------

interface ErrorInfo {
  /** JSON-RPC error code (innermost one found). */
  code: number | undefined;
  /** HTTP status of a non-2xx response. */
  status: number | undefined;
  /** The node's message (+ string/JSON `data`), or the transport failure; never the URL. */
  text: string;
  timeout: boolean;
  bodyTooLarge: boolean;
  /** An HTTP-level failure without any response (connection refused/reset, bad JSON, …). */
  transport: boolean;
}

/** What was learnt from the original (viem) error behind a ChainRpcError. */
const chainErrorInfo = new WeakMap<ChainRpcError, ErrorInfo>();

function isJsonRpcErrorObject(e: unknown): e is { code: number; message: string; data?: unknown } {
  return (
    typeof e === 'object' &&
    e !== null &&
    !(e instanceof Error) &&
    typeof (e as { code?: unknown }).code === 'number' &&
    typeof (e as { message?: unknown }).message === 'string'
  );
}

function causeChain(err: unknown): unknown[] {
  const out: unknown[] = [];
  let e: unknown = err;
  for (let i = 0; i < 12 && e !== undefined && e !== null; i++) {
    if (out.includes(e)) break;
    out.push(e);
    e = typeof e === 'object' ? (e as { cause?: unknown }).cause : undefined;
  }
  return out;
}

function dataText(data: unknown): string {
  if (data === undefined || data === null) return '';
  if (typeof data === 'string') return data;
  try {
    return JSON.stringify(data);
  } catch {
    return '';
  }
}

function inspectError(err: unknown): ErrorInfo {
  const info: ErrorInfo = { code: undefined, status: undefined, text: '', timeout: false, bodyTooLarge: false, transport: false };
  const texts: string[] = [];
  const chain = causeChain(err);
  for (const e of chain) {
    if (e instanceof ChainRpcError) {
      const inner = chainErrorInfo.get(e);
      if (inner) return { ...inner };
      info.code ??= e.code;
      info.status ??= e.status;
    } else if (e instanceof RpcRequestError) {
      info.code ??= e.code;
      info.status ??= e.status;
      texts.push(e.details, dataText(e.data));
    } else if (e instanceof HttpRequestError) {
      info.status ??= e.status;
      if (e.status === undefined) info.transport = true;
      texts.push(e.details);
    } else if (e instanceof TimeoutError) {
      info.timeout = true;
    } else if (e instanceof ResponseBodyTooLargeError) {
      info.bodyTooLarge = true;
    } else if (isJsonRpcErrorObject(e)) {
      info.code ??= e.code;
      texts.push(e.message, dataText(e.data));
    }
  }
  if (info.transport) {
    // e.g. HttpRequestError "fetch failed" ← TypeError ← "connect ECONNREFUSED 127.0.0.1:8545".
    for (const e of chain) if (e instanceof Error && !(e instanceof BaseError)) texts.push(e.message);
  }
  if (texts.filter(Boolean).length === 0) {
    // Not a viem error (or a viem error without server text): use the plain message(s) of the
    // innermost errors, e.g. "fetch failed" → "connect ECONNREFUSED 127.0.0.1:1".
    for (const e of chain) {
      if (e instanceof ChainRpcError) texts.push(e.detail);
      else if (e instanceof Error && !('shortMessage' in e)) texts.push(e.message);
      else if (e instanceof Error && 'shortMessage' in e && typeof e.shortMessage === 'string') texts.push(e.shortMessage);
    }
  }
  info.text = [...new Set(texts.filter(Boolean))].join(' | ');
  return info;
}

/** Wording of a provider refusing an eth_getLogs query as too large (geth, Infura, Alchemy, QuickNode, Ankr, BSC, Erigon, java-tron, …). */
const RANGE_PATTERNS: readonly RegExp[] = [
  /returned more than/i, // "query returned more than 10000 results" (geth/Infura/java-tron, -32005)
  /more than [\d,.]+k? (results|logs)/i,
  /range (is )?too (wide|large|big)/i, // "block range is too wide", "block range too large"
  /block range (exceeds|greater than|limit)/i,
  /exceed(s|ed)? (the )?max(imum)? (block )?range/i, // "exceed maximum block range: 5000", java-tron "exceed max block range: 5000"
  /max(imum)? block range/i,
  /allowed block range/i,
  /limited to (a |an )?[\d,.]+k? (block )?range/i, // QuickNode "eth_getLogs is limited to a 10,000 range"
  /up to a [\d,.]+k? block range/i, // Alchemy "…requests with up to a 2K block range…"
  /try with this block range/i,
  /log response size/i, // Alchemy "Log response size exceeded"
  /response size (exceeded|too large|is larger|limit)/i,
  /response (is )?too (large|big)/i,
  /too many (results|logs|blocks)/i,
  /exceeds? max(imum)? results/i,
  /limit exceeded/i,
];

/** Rate limiting also says "limit exceeded" (and -32005) but must not split ranges. */
const RATE_LIMIT = /rate.?limit|too many requests|request count|requests? per|credits|capacity|throughput|compute units|daily|quota/i;

function isRangeRefusal(info: ErrorInfo): boolean {
  if (info.bodyTooLarge) return true; // viem's 10 MB response cap: the answer itself is too large
  if (info.status === 413) return true;
  if (RATE_LIMIT.test(info.text)) return false;
  if (RANGE_PATTERNS.some((p) => p.test(info.text))) return true;
  return info.code === -32005; // "limit exceeded" class with no rate-limit wording
}

function isTransient(info: ErrorInfo): boolean {
  if (info.timeout || info.transport) return true;
  if (info.status !== undefined && [408, 429, 500, 502, 503, 504].includes(info.status)) return true;
  if (info.code !== undefined && [-32603, -32005, -32007, 429, -1].includes(info.code)) return true;
  return RATE_LIMIT.test(info.text);
}

/**
 * True when `err` is (or, for raw node/viem errors, reads as) a node refusing an `eth_getLogs`
 * range as too large: RangeTooLargeError itself; HTTP 413; a response over viem's body-size cap;
 * range/size wording ("query returned more than 10000 results", "block range is too wide",
 * "exceed maximum block range", "Log response size exceeded", "limit exceeded", …) under any
 * JSON-RPC code; or code -32005 without rate-limit wording. Rate-limit wording never counts.
 */
export function isRangeTooLargeError(err: unknown): boolean {
  if (err instanceof RangeTooLargeError) return true;
  if (err === null || err === undefined) return false;
  if (typeof err === 'object' && (err as { name?: unknown }).name === 'RangeTooLargeError') return true;
  return isRangeRefusal(inspectError(err));
}

/** Node answers meaning "this node has no `finalized` tag" (cached for the client's life). */
const FINALIZED_UNSUPPORTED =
  /unknown block|invalid block|block tag|tag .*not supported|not supported|unsupported|invalid (argument|param)|cannot unmarshal|hex string without 0x|invalid (input|number)/i;
/** Answers meaning "no finalized block yet" (e.g. geth before the first forkchoice update): null, not cached. */
const FINALIZED_NOT_YET = /finali[sz]ed block not found|not found/i;

function clip(s: string, max = 300): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

// ---------------------------------------------------------------------------
// Response normalisation
// ---------------------------------------------------------------------------

class MalformedResponse extends Error {}

function malformed(field: string, v: unknown): MalformedResponse {
  return new MalformedResponse(`malformed response: ${field} = ${clip(dataText(v) || String(v), 120)}`);
}

const HEX = /^[0-9a-f]*$/;

function hexBody(v: string): string {
  return (v.startsWith('0x') || v.startsWith('0X') ? v.slice(2) : v).toLowerCase();
}

function parseQuantity(v: unknown, field: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v !== 'string') throw malformed(field, v);
  const body = hexBody(v);
  if (!HEX.test(body) || body.length > 64) throw malformed(field, v);
  return body === '' ? 0n : BigInt(`0x${body}`);
}

function parseSafeInt(v: unknown, field: string): number {
  const n = parseQuantity(v, field);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed(field, v);
  return Number(n);
}

function normHash(v: unknown, field: string): string {
  if (typeof v !== 'string') throw malformed(field, v);
  const body = hexBody(v);
  if (body.length !== 64 || !HEX.test(body)) throw malformed(field, v);
  return `0x${body}`;
}

const TRON_BASE58 = /^T[1-9A-HJ-NP-Za-km-z]{33}$/;

function normAddress(v: unknown, field: string, tron: boolean): string {
  if (typeof v !== 'string') throw malformed(field, v);
  if (tron && TRON_BASE58.test(v)) {
    try {
      return tronToHex(v);
    } catch {
      throw malformed(field, v);
    }
  }
  let body = hexBody(v);
  if (tron && body.length === 42 && body.startsWith('41')) body = body.slice(2);
  if (body.length !== 40 || !HEX.test(body)) throw malformed(field, v);
  return `0x${body}`;
}

function asRecord(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed(field, v);
  return v as Record<string, unknown>;
}

function toQuantity(n: bigint): string {
  return `0x${n.toString(16)}`;
}

// ---------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------

type RawRequest = (args: { method: string; params: unknown[] }) => Promise<unknown>;

export function createJsonRpcChainClient(opts: JsonRpcClientOptions): ChainClient {
  const { network, url } = opts;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const retryCountMax = opts.retryCountMax ?? 2;
  const retryDelayMs = opts.retryDelayMs ?? 150;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new Error('timeoutMs must be a positive number');
  if (!Number.isInteger(retryCountMax) || retryCountMax < 0) throw new Error('retryCountMax must be a non-negative integer');
  const tron = network === 'TRX';

  // viem retries are off (retryCount 0): retry policy lives in `call` below.
  const client = createPublicClient({ transport: http(url, { timeout: timeoutMs, retryCount: 0 }) });
  const raw = client.request as unknown as RawRequest;

  let finalizedUnsupported = false;

  function fail(method: string, err: unknown, info: ErrorInfo): ChainRpcError {
    let detail: string;
    if (info.timeout) detail = `timed out after ${timeoutMs} ms`;
    else if (info.bodyTooLarge) detail = 'response body too large';
    else if (info.code !== undefined) detail = `JSON-RPC error ${info.code}: ${clip(info.text || 'no message')}`;
    else if (info.status !== undefined) detail = `HTTP ${info.status}: ${clip(info.text || 'no body')}`;
    else detail = clip(info.text || String(err));
    const e = new ChainRpcError(network, method, detail, { code: info.code, status: info.status });
    chainErrorInfo.set(e, info);
    return e;
  }

  async function call(method: string, params: unknown[], range?: { fromBlock: bigint; toBlock: bigint }): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await raw({ method, params });
      } catch (err) {
        const info = inspectError(err);
        if (range && isRangeRefusal(info)) {
          throw new RangeTooLargeError(
            `${network} ${method} refused blocks ${range.fromBlock}..${range.toBlock} as too large: ${clip(info.text || (info.status ? `HTTP ${info.status}` : 'response too large'))}`,
          );
        }
        if (attempt < retryCountMax && isTransient(info)) {
          await new Promise((r) => setTimeout(r, retryDelayMs * 2 ** attempt));
          continue;
        }
        throw fail(method, err, info);
      }
    }
  }

  /** Parse a node answer; a malformed one becomes a ChainRpcError naming the method. */
  function parse<T>(method: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof MalformedResponse) throw new ChainRpcError(network, method, err.message);
      throw err;
    }
  }

  function checkBlockNumber(n: bigint, what: string): void {
    if (typeof n !== 'bigint' || n < 0n) throw new Error(`${what} must be a non-negative bigint`);
  }

  return {
    network,

    async getHeadNumber(): Promise<bigint> {
      const res = await call('eth_blockNumber', []);
      return parse('eth_blockNumber', () => parseQuantity(res, 'result'));
    },

    async getFinalizedNumber(): Promise<bigint | null> {
      if (finalizedUnsupported) return null;
      let res: unknown;
      try {
        res = await call('eth_getBlockByNumber', ['finalized', false]);
      } catch (err) {
        if (!(err instanceof ChainRpcError)) throw err;
        const info = inspectError(err);
        // Transport trouble, timeouts, bare HTTP errors and transient node errors say nothing about the tag.
        if (info.timeout || info.transport || info.bodyTooLarge || isTransient(info)) throw err;
        if (info.code === undefined && info.status !== undefined) throw err;
        if (FINALIZED_NOT_YET.test(info.text)) return null;
        if (info.code === -32602 || info.code === -32601 || info.code === -32004 || FINALIZED_UNSUPPORTED.test(info.text)) {
          finalizedUnsupported = true;
          return null;
        }
        throw err;
      }
      if (res === null || res === undefined) return null;
      return parse('eth_getBlockByNumber', () => parseQuantity(asRecord(res, 'result').number, 'number'));
    },

    async getBlock(number: bigint): Promise<BlockHeader | null> {
      checkBlockNumber(number, 'block number');
      const res = await call('eth_getBlockByNumber', [toQuantity(number), false]);
      if (res === null || res === undefined) return null;
      return parse('eth_getBlockByNumber', () => {
        const b = asRecord(res, 'result');
        if (b.hash === null || b.number === null) return null; // pending block
        const n = parseQuantity(b.number, 'number');
        if (n !== number) throw malformed(`number (asked for ${number.toString()})`, b.number);
        let ts = parseQuantity(b.timestamp, 'timestamp');
        // java-tron block timestamps are milliseconds on some versions; Unix seconds stay < 1e11 until year 5138.
        if (tron && ts > 100_000_000_000n) ts /= 1000n;
        if (ts > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed('timestamp', b.timestamp);
        return {
          number: n,
          hash: normHash(b.hash, 'hash'),
          parentHash: normHash(b.parentHash, 'parentHash'),
          timestamp: Number(ts),
        };
      });
    },

    async getTransferLogs(range: { fromBlock: bigint; toBlock: bigint }, tokens: string[]): Promise<TransferLog[]> {
      const { fromBlock, toBlock } = range;
      checkBlockNumber(fromBlock, 'fromBlock');
      checkBlockNumber(toBlock, 'toBlock');
      if (tokens.length === 0 || fromBlock > toBlock) return []; // an empty address filter would mean "every contract"
      const allowed = new Set<string>();
      for (const t of tokens) {
        const body = hexBody(t);
        if (body.length !== 40 || !HEX.test(body)) throw new Error(`invalid token contract ${t}: expected 20-byte 0x hex`);
        allowed.add(`0x${body}`);
      }
      const method = 'eth_getLogs';
      const res = await call(
        method,
        [{ fromBlock: toQuantity(fromBlock), toBlock: toQuantity(toBlock), address: [...allowed], topics: [TRANSFER_TOPIC] }],
        range,
      );
      const out = parse(method, () => {
        if (!Array.isArray(res)) throw malformed('result', res);
        const logs: TransferLog[] = [];
        const seen = new Set<string>();
        for (const item of res) {
          const l = asRecord(item, 'log');
          if (l.removed === true) continue;
          if (l.blockNumber === null || l.blockNumber === undefined) continue; // pending
          if (!Array.isArray(l.topics) || l.topics.length !== 3) continue; // not an ERC-20 Transfer (ERC-721 has 4)
          const [t0, t1, t2] = l.topics as unknown[];
          if (normHash(t0, 'topics[0]') !== TRANSFER_TOPIC) continue;
          const token = normAddress(l.address, 'address', tron);
          if (!allowed.has(token)) continue; // only allow-listed contracts count, whatever the node sends
          if (typeof l.data !== 'string') throw malformed('data', l.data);
          const data = hexBody(l.data);
          if (!HEX.test(data)) throw malformed('data', l.data);
          if (data.length !== 64) continue; // not a uint256 value: not a standard Transfer
          const blockNumber = parseQuantity(l.blockNumber, 'blockNumber');
          if (blockNumber < fromBlock || blockNumber > toBlock) continue;
          const log: TransferLog = {
            blockNumber,
            blockHash: normHash(l.blockHash, 'blockHash'),
            txHash: normHash(l.transactionHash, 'transactionHash'),
            logIndex: parseSafeInt(l.logIndex, 'logIndex'),
            token,
            // 32-byte topic → last 20 bytes (works for zero padding and for a 0x41 byte in it).
            from: `0x${normHash(t1, 'topics[1]').slice(-40)}`,
            to: `0x${normHash(t2, 'topics[2]').slice(-40)}`,
            value: BigInt(`0x${data}`),
          };
          const key = `${log.blockHash}:${log.txHash}:${log.logIndex}`;
          if (seen.has(key)) continue;
          seen.add(key);
          logs.push(log);
        }
        return logs;
      });
      // Stable sort: equal (block, logIndex) pairs keep the node's order.
      out.sort((a, b) => (a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1));
      return out;
    },
  };
}
