import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Registry } from 'prom-client';
import type { HardeningConfig } from '../config.ts';
import { createAuthFailureThrottle } from '../infra/auth/auth-failures.ts';
import { createProxyTrust } from '../infra/auth/ip-address.ts';
import { multipartBodyHashes } from '../infra/auth/signature.ts';
import type { Clock } from '../infra/lib/clock.ts';
import { AppError } from '../infra/lib/errors.ts';
import type { PartnerAuthenticator } from './auth.ts';
import { sendError } from './http.ts';

/**
 * The API's protective layer (docs/security.md), in front of every route:
 *  - the Node server's timeouts and connection bound, and trusted proxies (server options);
 *  - before any body byte is read (onRequest): one Host header, the declared body size, the
 *    throttle of failed authentication, the API key and timestamp (or the operator token), and
 *    multipart only where the route takes it (415 elsewhere);
 *  - multipart bodies hashed while they stream, so the signature can cover their raw bytes;
 *  - control characters refused in every path parameter;
 *  - errors raised below Fastify's routing (Node's HTTP parser, the router) in the contract's
 *    envelope.
 */
export interface HardeningDeps {
  config: HardeningConfig;
  bodyLimitBytes: number;
  /** The multipart parser's file size limit: a multipart body may be this much above the body limit. */
  multipartFileBytesMax: number;
  metrics: Registry;
  /** Wall time (the auth clock): failure windows never run on sandbox time. */
  clock: Clock;
  partnerAuth: PartnerAuthenticator;
  operatorAuth: (req: FastifyRequest) => Promise<void>;
}

export type AuthMode = 'partner' | 'operator' | 'none';

/** The docs UI's own static routes are public; every other route must say otherwise. */
export function authMode(req: FastifyRequest): AuthMode {
  return req.routeOptions.config.auth ?? (req.routeOptions.url?.startsWith('/docs') ? 'none' : 'partner');
}

const ANY_MULTIPART = /^\s*multipart\//i;
const FORM_DATA = /^\s*multipart\/form-data\s*(;|$)/i;
/** C0 controls (NUL included), DEL and C1 controls. */
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

/** Routes whose contract takes multipart/form-data say so in their schema's `consumes`. */
function acceptsMultipart(req: FastifyRequest): boolean {
  const consumes = (req.routeOptions.schema as { consumes?: string[] } | undefined)?.consumes;
  return Array.isArray(consumes) && consumes.includes('multipart/form-data');
}

/** Node keeps only the first of repeated Host headers; the raw list shows them all. */
function hostHeaderCount(rawHeaders: string[]): number {
  let n = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === 'host') n++;
  return n;
}

/**
 * SHA-256 of the raw body, fed by the same 'data' events the multipart parser's pipe reads.
 * The stream is paused first so adding the listener does not start the flow before the parser
 * is attached (no chunk reaches one reader and not the other). Fails when the body ends early
 * or passes `bytesMax` (then it stops counting; Node drains the rest once the reply is sent).
 */
function hashWhileStreaming(raw: Readable, bytesMax: number): Promise<string> {
  const hash = createHash('sha256');
  let bytes = 0;
  raw.pause();
  const done = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > bytesMax) {
        cleanup();
        reject(new AppError('PAYLOAD_TOO_LARGE', 'body: larger than the multipart size limit'));
      } else hash.update(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(hash.digest('hex'));
    };
    const onClose = () => {
      cleanup();
      reject(new AppError('BAD_REQUEST', 'body: the connection closed before the request body was complete'));
    };
    const cleanup = () => {
      raw.off('data', onData);
      raw.off('end', onEnd);
      raw.off('close', onClose);
      raw.off('error', onClose);
    };
    raw.on('data', onData);
    raw.on('end', onEnd);
    raw.on('close', onClose);
    raw.on('error', onClose);
  });
  done.catch(() => {}); // observed by whoever awaits it; a refused request may never look
  return done;
}

function envelopeOf(err: AppError): string {
  return JSON.stringify({ status: err.contractStatus, message: err.message });
}

/**
 * Node's HTTP parser and its timeouts report here, below Fastify's routing (default handler
 * answers in Fastify's own format). Mirrors Node's own handling: answer unless a response has
 * started, then close the connection.
 */
function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const appErr =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new AppError('REQUEST_TIMEOUT', 'request: not received in full within the time limit')
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? new AppError('HEADERS_TOO_LARGE', 'request: the request line and headers are larger than the server accepts')
        : new AppError('BAD_REQUEST', 'request: not a valid HTTP/1.1 request');
  const res = (socket as Socket & { _httpMessage?: http.ServerResponse })._httpMessage;
  if (socket.writable && !res?.headersSent) {
    const body = envelopeOf(appErr);
    socket.write(
      `HTTP/1.1 ${appErr.httpStatus} ${http.STATUS_CODES[appErr.httpStatus]}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Error-Code: ${appErr.code}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Router-level failures (a URL that does not decode, an over-long path parameter). */
function frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const appErr =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new AppError('URI_TOO_LONG', 'request: a path parameter is longer than the server accepts')
      : err.code === 'FST_ERR_BAD_URL'
        ? new AppError('BAD_REQUEST', 'request: the URL path is not validly percent-encoded')
        : new AppError('INTERNAL', 'internal error');
  if (appErr.code === 'INTERNAL') req.log.error({ err }, 'router error');
  void sendError(reply, appErr, req.id);
}

/** Options for `Fastify({...})`. Node checks its request timeouts on an interval: keep it well below them. */
export function hardeningServerOptions(config: HardeningConfig) {
  const trust = createProxyTrust(config.trustedProxies);
  return {
    trustProxy: trust ? (address: string) => trust(address) : false,
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    http: {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, Math.max(25, Math.floor(config.headersTimeoutMs / 4))),
    },
    clientErrorHandler,
    frameworkErrors,
  };
}

export interface Hardening {
  /** preValidation: verifies the signature of a buffered (non-multipart) body. */
  authenticateBody(req: FastifyRequest): Promise<void>;
  /** After multipart parsing: verifies the signature over the raw multipart bytes. */
  authenticateMultipart(req: FastifyRequest): Promise<void>;
  /**
   * For the error handler: a multipart request that failed while parsing has not been
   * authenticated yet. Finishes that first; returns the refusal to send instead, or null.
   */
  settlePendingAuth(req: FastifyRequest): Promise<AppError | null>;
}

export function registerHardening(app: FastifyInstance, deps: HardeningDeps): Hardening {
  const throttle = createAuthFailureThrottle({
    clock: deps.clock,
    perMinuteMax: deps.config.authFailuresPerMinuteMax,
    metrics: deps.metrics,
  });
  app.server.maxConnections = deps.config.connectionsMax;
  const multipartBytesMax = deps.bodyLimitBytes + deps.multipartFileBytesMax;

  const sourceOf = (req: FastifyRequest) => {
    const k = req.headers['x-api-key'];
    return { address: req.ip, apiKey: typeof k === 'string' && k !== '' ? k : null };
  };
  async function counted(req: FastifyRequest, check: () => Promise<void>): Promise<void> {
    try {
      await check();
    } catch (err) {
      if (err instanceof AppError && err.httpStatus === 401) throttle.record(sourceOf(req), err.code);
      throw err;
    }
  }

  app.addHook('onRequest', async (req) => {
    if (hostHeaderCount(req.raw.rawHeaders) > 1) throw new AppError('BAD_REQUEST', 'Host: must be sent exactly once');

    const ct = req.headers['content-type'];
    const multipart = typeof ct === 'string' && ANY_MULTIPART.test(ct);
    const formData = multipart && FORM_DATA.test(ct) && acceptsMultipart(req);
    // The declared size is refused before anything else: it costs nothing and reveals nothing.
    const declared = req.headers['content-length'];
    if (typeof declared === 'string' && /^\d+$/.test(declared) && Number(declared) > (formData ? multipartBytesMax : deps.bodyLimitBytes))
      throw new AppError('PAYLOAD_TOO_LARGE', 'body: larger than the request size limit');

    const mode = authMode(req);
    if (mode !== 'none') {
      const source = sourceOf(req);
      const wait = throttle.retryAfter(mode === 'partner' ? source : { address: source.address, apiKey: null });
      if (wait !== null)
        throw new AppError('AUTH_THROTTLED', `too many failed authentications from this address or API key; retry after ${wait} s`, {
          headers: { 'retry-after': String(wait) },
        });
      await counted(req, async () => {
        if (mode === 'partner') req.pendingAuth = await deps.partnerAuth.precheck(req);
        else await deps.operatorAuth(req);
      });
    }

    if (multipart && !acceptsMultipart(req))
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'body: multipart is accepted only where the contract uses it; send application/json');
    if (formData && req.pendingAuth) req.multipartSha256 = hashWhileStreaming(req.raw, multipartBytesMax);
  });

  // One place for every route's path parameters: control characters are never part of an id,
  // and Postgres text cannot hold NUL (it failed in SQL, as a 500).
  app.addHook('preHandler', async (req) => {
    for (const [name, value] of Object.entries((req.params ?? {}) as Record<string, unknown>)) {
      if (typeof value === 'string' && CONTROL_CHARS.test(value))
        throw new AppError('INVALID_PARAMETERS', `${name}: must not contain control characters`);
    }
  });

  async function authenticateMultipart(req: FastifyRequest): Promise<void> {
    const pending = req.pendingAuth;
    if (!pending || !req.multipartSha256) return;
    req.pendingAuth = undefined; // verified once, whichever path gets here first
    // The parser stops reading at the closing boundary; the hash needs every byte.
    req.raw.resume();
    const rawSha256Hex = await req.multipartSha256;
    await counted(req, () => deps.partnerAuth.verify(req, pending, multipartBodyHashes(rawSha256Hex, pending.key.strictSigning)));
  }

  return {
    async authenticateBody(req) {
      const pending = req.pendingAuth;
      if (!pending || req.multipartSha256) return;
      req.pendingAuth = undefined;
      await counted(req, () => deps.partnerAuth.verify(req, pending, deps.partnerAuth.bufferedBodyHashes(req)));
    },
    authenticateMultipart,
    async settlePendingAuth(req) {
      if (!req.pendingAuth || !req.multipartSha256) return null;
      try {
        await authenticateMultipart(req);
        return null;
      } catch (err) {
        if (err instanceof AppError) return err;
        throw err;
      }
    },
  };
}
