import type { FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import type { Partners, ResolvedKey } from '../domain/partners/partners.ts';
import type { NonceStore } from '../infra/auth/nonce-store.ts';
import type { SharedRateLimiter } from '../infra/auth/rate-limit.ts';
import type { Clock } from '../infra/lib/clock.ts';
import { AppError, unauthorised } from '../infra/lib/errors.ts';
import { bodyHashCandidates, verifySignature } from '../infra/auth/signature.ts';
import { ipAllowed } from '../infra/auth/ip-address.ts';

export { ipAllowed, isValidIpOrCidr } from '../infra/auth/ip-address.ts';

/**
 * Partner request authentication (docs/request-signing.md), in two phases so an unsigned
 * caller cannot make the server read a body:
 *  - `precheck` (onRequest, before any body byte is read): headers present, API key known,
 *    timestamp inside the window, nonce well-formed;
 *  - `verify` (once the body is read: preValidation, or after multipart parsing): signature →
 *    nonce (recorded only for valid signatures) → IP whitelist → rate limit.
 * Every refusal carries a stable code (UNKNOWN_API_KEY, TIMESTAMP_OUT_OF_WINDOW, …) beside the
 * contract's 401 UNAUTHORISED.
 */
export interface AuthDeps {
  partners: Partners;
  nonces: NonceStore;
  rateLimiter: Pick<SharedRateLimiter, 'hit'>;
  clock: Clock;
  publicHosts: string[];
  windowSeconds: number;
  rateLimitPerMinute: number;
}

/** What `precheck` established, kept on the request for `verify`. */
export interface PendingAuth {
  key: ResolvedKey;
  timestamp: string;
  nonce: string;
  signature: string;
}

const NONCE_RE = /^[\x21-\x7e]{1,128}$/;

function header(req: FastifyRequest, name: string): string | null {
  const v = req.headers[name];
  if (Array.isArray(v)) return null; // repeated auth headers are ambiguous: refuse
  return typeof v === 'string' && v.length > 0 ? v : null;
}

/**
 * The client address for messages: named only when it is the socket's own address (which the
 * caller knows anyway). An address taken from X-Forwarded-For is never echoed: it may be text
 * the client wrote.
 */
function addressForMessage(req: FastifyRequest): string {
  return req.ip === req.raw.socket?.remoteAddress ? `IP address ${req.ip}` : 'the client IP address';
}

export function createPartnerAuthenticator(deps: AuthDeps) {
  return {
    async precheck(req: FastifyRequest): Promise<PendingAuth> {
      const apiKey = header(req, 'x-api-key');
      const timestamp = header(req, 'x-timestamp');
      const nonce = header(req, 'x-nonce');
      const signature = header(req, 'x-signature');
      if (!apiKey) throw unauthorised('missing X-API-Key header');
      if (!timestamp) throw unauthorised('missing X-Timestamp header');
      if (!nonce) throw unauthorised('missing X-Nonce header');
      if (!signature) throw unauthorised('missing X-Signature header');

      const key = await deps.partners.resolveKey(apiKey);
      if (!key) throw new AppError('UNKNOWN_API_KEY', 'unknown or revoked API key');

      if (!/^\d{1,12}$/.test(timestamp)) throw new AppError('TIMESTAMP_OUT_OF_WINDOW', 'X-Timestamp must be unix seconds');
      const skew = Math.abs(Math.floor(deps.clock.now().getTime() / 1000) - Number(timestamp));
      if (skew > deps.windowSeconds)
        throw new AppError(
          'TIMESTAMP_OUT_OF_WINDOW',
          `X-Timestamp is outside the allowed window of ${deps.windowSeconds} s (check the client clock)`,
        );
      if (!NONCE_RE.test(nonce)) throw unauthorised('X-Nonce must be 1–128 printable ASCII characters');
      return { key, timestamp, nonce, signature };
    },

    async verify(req: FastifyRequest, pending: PendingAuth, bodyHashes: string[]): Promise<void> {
      const { key, timestamp, nonce, signature } = pending;
      const rawUrl = req.raw.url ?? '/';
      const q = rawUrl.indexOf('?');
      const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
      const query = q === -1 ? '' : rawUrl.slice(q + 1);
      const hostHeader = header(req, 'host') ?? '';
      const hosts = [hostHeader, hostHeader.toLowerCase(), ...deps.publicHosts];
      if (!verifySignature({ secret: key.secret, signature, method: req.method, hosts, path, query, bodyHashes, timestamp, nonce })) {
        throw new AppError(
          'SIGNATURE_MISMATCH',
          'signature does not match the request (check secret, method, host, path, query, body, timestamp and nonce; lowercase hex)',
        );
      }

      if (!(await deps.nonces.claim(key.keyId, nonce)))
        throw new AppError('NONCE_REPLAYED', 'X-Nonce has already been used (replayed request)');

      if (!ipAllowed(req.ip, key.ipWhitelist))
        throw new AppError('IP_NOT_ALLOWED', `${addressForMessage(req)} is not in the partner's IP whitelist`);

      const limit = key.rateLimitPerMinute ?? deps.rateLimitPerMinute;
      const retryAfter = await deps.rateLimiter.hit(key.keyId, limit, deps.clock.now().getTime());
      if (retryAfter !== null) {
        // Name the knob: a developer hitting the limit in a test loop should not have to search for it.
        const raise =
          key.rateLimitPerMinute === null
            ? 'the server setting OPENRAMP_RATE_LIMIT_PER_MINUTE raises it'
            : 'this partner has its own limit, which takes precedence over OPENRAMP_RATE_LIMIT_PER_MINUTE; the operator raises it on the partner record';
        throw new AppError('RATE_LIMITED', `rate limit of ${limit} requests per minute exceeded; retry after ${retryAfter} s (${raise})`, {
          headers: { 'retry-after': String(retryAfter) },
        });
      }
      req.partnerKey = key;
    },

    /** The body hashes a buffered (non-multipart) body may have been signed with. */
    bufferedBodyHashes(req: FastifyRequest): string[] {
      return bodyHashCandidates({
        method: req.method,
        rawBody: req.rawBody ?? null,
        parsedJson: req.bodyError ? undefined : req.rawBody ? req.body : undefined,
      });
    },
  };
}

export type PartnerAuthenticator = ReturnType<typeof createPartnerAuthenticator>;

export function createOperatorAuthenticator(token: string) {
  const expected = Buffer.from(`Bearer ${token}`);
  return async function authenticateOperator(req: FastifyRequest): Promise<void> {
    const header = req.headers.authorization;
    if (header === undefined || header === '') throw unauthorised('operator token required (Authorization: Bearer <token>)');
    const given = Buffer.from(header);
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw unauthorised('operator token not accepted: it is not the token this server was started with (OPENRAMP_OPERATOR_TOKEN)');
  };
}
