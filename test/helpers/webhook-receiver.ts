import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * Real HTTP receivers on 127.0.0.1 for webhook tests: they record every request exactly as it
 * arrived (raw body bytes, headers, path) and answer as the test says.
 */
export interface ReceivedWebhook {
  headers: Record<string, string>;
  rawBody: string;
  path: string;
  receivedAtMs: number;
  json: any;
}

export type Responder = (
  req: ReceivedWebhook,
  index: number,
) => { status: number; body?: string; headers?: Record<string, string> } | 'hang';

export interface WebhookReceiver {
  port: number;
  /** Callback URL for this receiver (path and query as given). */
  url(pathAndQuery?: string): string;
  received: ReceivedWebhook[];
  respond: Responder;
  /** Resolves once `n` requests have arrived (rejects after timeoutMs). */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

function flatHeaders(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export async function startReceiver(opts: { port?: number; respond?: Responder } = {}): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const hanging = new Set<http.ServerResponse>();
  const receiver: WebhookReceiver = {
    port: 0,
    url: (p = '/hooks') => `http://127.0.0.1:${receiver.port}${p}`,
    received,
    respond: opts.respond ?? (() => ({ status: 200, body: '{"status":"SUCCESS"}' })),
    waitFor(n, timeoutMs = 10_000) {
      if (received.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver: ${received.length} of ${n} requests after ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    async close() {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let json: any = null;
      try {
        json = JSON.parse(rawBody);
      } catch {
        json = null;
      }
      const rec: ReceivedWebhook = {
        headers: flatHeaders(req.headers),
        rawBody,
        path: req.url ?? '',
        receivedAtMs: performance.now(),
        json,
      };
      const index = received.length;
      received.push(rec);
      for (const w of [...waiters]) {
        if (received.length >= w.n) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
      const answer = receiver.respond(rec, index);
      if (answer === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  receiver.port = (server.address() as AddressInfo).port;
  return receiver;
}

/** A TCP endpoint that accepts connections and never answers (a dead receiver). */
export async function startBlackHole(): Promise<{ port: number; url(p?: string): string; connections(): number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let total = 0;
  const server = net.createServer((s) => {
    total += 1;
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    s.resume(); // read and drop: the request is accepted, no reply ever comes
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (p = '/hooks') => `http://127.0.0.1:${port}${p}`,
    connections: () => total,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A port that was free a moment ago and has nothing listening (connection refused). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
