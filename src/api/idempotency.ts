import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IdempotencyScope, IdempotencyStore } from '../infra/idempotency/store.ts';
import { AppError } from '../infra/lib/errors.ts';

/**
 * `Idempotency-Key` on partner POSTs (docs/api-contract.md, "Idempotency keys"). Runs after
 * authentication — signature, nonce, IP whitelist and rate limit are checked first, so a replayed
 * answer is only ever given to the partner who signed the request — and before schema
 * validation, so a refused body is stored like any other 4xx answer.
 *
 *  - the first request with a key reserves it, runs, and its response is stored (2xx and 4xx;
 *    a 5xx frees the key so the retry runs again);
 *  - the same key with the same request (method, path, query, body bytes) replays the stored
 *    status, headers and body byte for byte, with `Idempotent-Replayed: true`;
 *  - the same key with a different request: 422 IDEMPOTENCY_KEY_REUSED;
 *  - the same key while its first request still runs: 409 IDEMPOTENCY_KEY_IN_USE, Retry-After.
 */
declare module 'fastify' {
  interface FastifyRequest {
    /** Set while this request holds its Idempotency-Key's reservation. */
    idempotency?: { scope: IdempotencyScope; owner: string } | undefined;
  }
}

/** 1–255 printable ASCII characters (Node has already trimmed surrounding spaces). */
const KEY_RE = /^[\x20-\x7e]{1,255}$/;
/** The response headers that are part of the stored answer. */
const STORED_HEADERS = ['content-type', 'x-error-code', 'retry-after'] as const;
/** Seconds a client is asked to wait before retrying a key whose first request is still running. */
const IN_USE_RETRY_AFTER_S = 1;

/** Every value of a header as sent (Node joins repeats of unknown headers into one string). */
function headerValues(req: FastifyRequest, name: string): string[] {
  const raw = req.raw.rawHeaders;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) out.push(raw[i + 1]!.trim());
  return out;
}

/**
 * What makes two requests "the same": method, path, query and the body's bytes. A multipart
 * body counts by the SHA-256 of its raw bytes (boundary included) that signing computed.
 */
async function fingerprintOf(req: FastifyRequest): Promise<string> {
  const url = req.raw.url ?? '/';
  const q = url.indexOf('?');
  const h = createHash('sha256').update(`${req.method}\n${q === -1 ? url : url.slice(0, q)}\n${q === -1 ? '' : url.slice(q + 1)}\n`);
  if (req.multipartSha256) h.update(`multipart\n${await req.multipartSha256}`);
  else h.update('body\n').update(req.rawBody ?? Buffer.alloc(0));
  return h.digest('hex');
}

function replay(reply: FastifyReply, stored: { status: number; headers: Record<string, string>; body: string }) {
  for (const [k, v] of Object.entries(stored.headers)) reply.header(k, v);
  reply.header('idempotent-replayed', 'true');
  return reply.code(stored.status).send(stored.body);
}

export function registerIdempotency(app: FastifyInstance, deps: { store: IdempotencyStore }): void {
  const { store } = deps;

  app.addHook('preValidation', async (req, reply) => {
    const key = req.partnerKey;
    if (req.method !== 'POST' || !key) return;
    const values = headerValues(req, 'idempotency-key');
    if (values.length === 0) {
      if (key.idempotencyRequired)
        throw new AppError('IDEMPOTENCY_KEY_REQUIRED', 'Idempotency-Key: header is required on every POST for this partner');
      return;
    }
    if (values.length > 1) throw new AppError('INVALID_PARAMETERS', 'Idempotency-Key: must be sent exactly once');
    const value = values[0]!;
    if (!KEY_RE.test(value)) throw new AppError('INVALID_PARAMETERS', 'Idempotency-Key: must be 1–255 printable ASCII characters');

    const scope = { partnerId: key.partnerId, route: `${req.method} ${req.routeOptions.url ?? ''}`, key: value };
    const r = await store.reserve(scope, await fingerprintOf(req));
    switch (r.kind) {
      case 'owned':
        req.idempotency = { scope, owner: r.owner };
        return;
      case 'replay':
        return replay(reply, r.response);
      case 'mismatch':
        throw new AppError(
          'IDEMPOTENCY_KEY_REUSED',
          `Idempotency-Key ${JSON.stringify(value)}: already used for a different request to ${scope.route} (method, path, query or body differ); use a new key`,
        );
      case 'in-use':
        throw new AppError(
          'IDEMPOTENCY_KEY_IN_USE',
          `Idempotency-Key ${JSON.stringify(value)}: the first request with this key is still being processed; retry after ${IN_USE_RETRY_AFTER_S} s`,
          { headers: { 'retry-after': String(IN_USE_RETRY_AFTER_S) } },
        );
    }
  });

  // Before the first byte goes out: once the client has the answer, a retry finds it stored.
  app.addHook('onSend', async (req, reply, payload) => {
    const held = req.idempotency;
    if (!held) return payload;
    req.idempotency = undefined;
    // Partner routes answer JSON text; anything else is not stored (the retry runs again).
    const body = typeof payload === 'string' ? payload : null;
    if (reply.statusCode >= 500 || body === null) {
      await store.release(held.scope, held.owner);
      return payload;
    }
    const headers: Record<string, string> = {};
    for (const name of STORED_HEADERS) {
      const v = reply.getHeader(name);
      if (v !== undefined) headers[name] = String(v);
    }
    await store.complete(held.scope, held.owner, { status: reply.statusCode, headers, body });
    return payload;
  });
}
