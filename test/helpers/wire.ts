import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../src/infra/lib/clock.ts';
import { signedHeaders, type SignedRequest, type TestContext } from './harness.ts';

/**
 * Requests over a real socket (`listen({ port: 0 })`), for tests where the bytes on the wire
 * matter: repeated headers, exact response bodies, multipart, two processes answering.
 */
export interface WireResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
}

export async function listen(ctx: TestContext): Promise<number> {
  await ctx.openramp.api.listen({ port: 0, host: '127.0.0.1' });
  return (ctx.openramp.api.server.address() as AddressInfo).port;
}

/** One request on its own connection (no agent), headers exactly as given (an array value sends the header repeatedly). */
export function wire(
  port: number,
  r: { method: string; path: string; headers: Record<string, string | string[]>; body?: string | Uint8Array },
): Promise<WireResponse> {
  return new Promise<WireResponse>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers: r.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: any = null;
        try {
          json = JSON.parse(body);
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
    });
    req.on('error', reject);
    req.end(r.body === undefined ? undefined : Buffer.from(r.body));
  });
}

/** A signed JSON request over the wire (harness signing for Host 127.0.0.1:<port>); `clock` sets X-Timestamp. */
export function signedWire(
  port: number,
  r: SignedRequest & { creds: { apiKey: string; apiSecret: string } },
  opts: { clock?: Clock; headers?: Record<string, string | string[]> } = {},
): Promise<WireResponse> {
  const host = `127.0.0.1:${port}`;
  const timestamp = r.timestamp ?? (opts.clock ? String(Math.floor(opts.clock.now().getTime() / 1000)) : undefined);
  const headers = {
    ...signedHeaders({ ...r, host, ...(timestamp !== undefined ? { timestamp } : {}) }, r.creds),
    ...opts.headers,
  } as Record<string, string | string[]>;
  const body = r.rawBody ?? (r.body === undefined ? undefined : JSON.stringify(r.body));
  return wire(port, { method: r.method, path: r.url, headers, ...(body !== undefined ? { body } : {}) });
}

/** A clock frozen mid-minute (rate and failure windows are per wall-clock minute), moved by hand. */
export function frozenClock(): Clock & { advance(ms: number): void } {
  let t = Math.floor(Date.now() / 60_000) * 60_000 + 30_000;
  return {
    now: () => new Date(t),
    advance: (d) => {
      t += d;
    },
  };
}
