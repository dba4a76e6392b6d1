import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { hexToTron } from '../../src/adapters/chains/addresses.ts';

/**
 * A java-tron `/jsonrpc` look-alike in front of an EVM devnet, for the TRX scanner tests.
 * Requests are forwarded unchanged; answers are rewritten the way java-tron's Ethereum-compatible
 * JSON-RPC answers:
 *  - block and transaction hashes WITHOUT `0x` (`hash`, `parentHash`, `blockHash`,
 *    `transactionHash`, the block's `transactions`);
 *  - log contract addresses as 20-byte `0x` hex (default), or — other java-tron versions and
 *    gateways — with the `41` Tron prefix (`41…`, no 0x) or even base58 `T…`;
 *  - optionally block timestamps in milliseconds and topics/data without `0x`.
 * Only POST /jsonrpc is served (404 elsewhere), so a client that drops the path fails loudly.
 */
export interface TronProxyMode {
  addressStyle: 'hex20' | 'hex41' | 'base58';
  timestampsMs: boolean;
  /** Also strip `0x` from log topics and data. */
  stripTopics: boolean;
}

export interface TronProxy {
  /** http://127.0.0.1:port (without the path). */
  readonly origin: string;
  /** origin + '/jsonrpc': what OPENRAMP_RPC_URL_TRX points at. */
  readonly url: string;
  /** Mutable: switch quirks between scans. */
  mode: TronProxyMode;
  /** Methods served (in order) and requests refused. */
  readonly served: string[];
  readonly refused: string[];
  /** Raw answers as sent to the client (last 50), for asserting the rewriting. */
  readonly answers: { method: string; result: unknown }[];
  close(): Promise<void>;
}

const strip = (v: unknown) => (typeof v === 'string' ? v.replace(/^0x/i, '') : v);

function address(v: unknown, style: TronProxyMode['addressStyle']): unknown {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(v)) return v;
  if (style === 'hex41') return `41${v.slice(2).toLowerCase()}`;
  if (style === 'base58') return hexToTron(v);
  return v.toLowerCase();
}

function rewriteBlock(b: Record<string, unknown>, mode: TronProxyMode): Record<string, unknown> {
  const out: Record<string, unknown> = { ...b, hash: strip(b.hash), parentHash: strip(b.parentHash) };
  if (Array.isArray(b.transactions)) {
    out.transactions = b.transactions.map((t) =>
      typeof t === 'string'
        ? strip(t)
        : { ...(t as object), hash: strip((t as { hash?: unknown }).hash), blockHash: strip((t as { blockHash?: unknown }).blockHash) },
    );
  }
  if (mode.timestampsMs && typeof b.timestamp === 'string') out.timestamp = `0x${(BigInt(b.timestamp) * 1000n).toString(16)}`;
  return out;
}

function rewriteLog(l: Record<string, unknown>, mode: TronProxyMode): Record<string, unknown> {
  return {
    ...l,
    blockHash: strip(l.blockHash),
    transactionHash: strip(l.transactionHash),
    address: address(l.address, mode.addressStyle),
    ...(mode.stripTopics && Array.isArray(l.topics) ? { topics: l.topics.map(strip), data: strip(l.data) } : {}),
  };
}

function rewrite(method: string, result: unknown, mode: TronProxyMode): unknown {
  if (result === null || typeof result !== 'object') return result;
  if (method === 'eth_getBlockByNumber' || method === 'eth_getBlockByHash') return rewriteBlock(result as Record<string, unknown>, mode);
  if (method === 'eth_getLogs' && Array.isArray(result)) return result.map((l) => rewriteLog(l as Record<string, unknown>, mode));
  return result;
}

interface RpcRequest {
  id?: unknown;
  method?: string;
}

export async function startTronJsonRpcProxy(upstream: string, mode: Partial<TronProxyMode> = {}): Promise<TronProxy> {
  const served: string[] = [];
  const refused: string[] = [];
  const answers: { method: string; result: unknown }[] = [];
  const proxy = {
    mode: { addressStyle: 'hex20', timestampsMs: false, stripTopics: false, ...mode } as TronProxyMode,
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const path = (req.url ?? '').split('?')[0];
        if (req.method !== 'POST' || path !== '/jsonrpc') {
          refused.push(`${req.method} ${req.url}`);
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
          return;
        }
        const body = Buffer.concat(chunks).toString('utf8');
        let parsed: RpcRequest | RpcRequest[];
        try {
          parsed = JSON.parse(body) as RpcRequest | RpcRequest[];
        } catch {
          res
            .writeHead(400, { 'content-type': 'application/json' })
            .end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } }));
          return;
        }
        const upstreamRes = await fetch(upstream, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const text = await upstreamRes.text();
        let answer: unknown;
        try {
          answer = JSON.parse(text);
        } catch {
          res.writeHead(upstreamRes.status, { 'content-type': 'application/json' }).end(text);
          return;
        }
        const requests = Array.isArray(parsed) ? parsed : [parsed];
        const methodOf = new Map(requests.map((r) => [JSON.stringify(r.id ?? null), r.method ?? '']));
        const fix = (a: unknown) => {
          if (a === null || typeof a !== 'object' || !('result' in a)) return a;
          const m = methodOf.get(JSON.stringify((a as { id?: unknown }).id ?? null)) ?? '';
          served.push(m);
          const result = rewrite(m, (a as { result: unknown }).result, proxy.mode);
          answers.push({ method: m, result });
          if (answers.length > 50) answers.shift();
          return { ...(a as object), result };
        };
        const out = Array.isArray(answer) ? answer.map(fix) : fix(answer);
        res.writeHead(upstreamRes.status, { 'content-type': 'application/json' }).end(JSON.stringify(out));
      })().catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`proxy error: ${err instanceof Error ? err.message : String(err)}`);
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return Object.assign(proxy, {
    origin,
    url: `${origin}/jsonrpc`,
    served,
    refused,
    answers,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
