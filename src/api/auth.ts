import type { FastifyRequest } from 'fastify';
import ipaddr from 'ipaddr.js';
import { timingSafeEqual } from 'node:crypto';
import type { Partners } from '../domain/partners/partners.ts';
import type { NonceStore } from '../infra/auth/nonce-store.ts';
import type { RateLimiter } from '../infra/auth/rate-limit.ts';
import type { Clock } from '../infra/lib/clock.ts';
import { AppError, unauthorised } from '../infra/lib/errors.ts';
import { bodyHashCandidates, verifySignature } from '../infra/auth/signature.ts';

/**
 * Partner request authentication (docs/request-signing.md), run as a preValidation hook so it sees the raw
 * body but runs before schema validation: an unsigned request learns nothing about our schemas.
 * Order: key → timestamp → signature → nonce (recorded only for valid signatures) → IP
 * whitelist → rate limit.
 */
export interface AuthDeps {
  partners: Partners;
  nonces: NonceStore;
  rateLimiter: RateLimiter;
  clock: Clock;
  publicHosts: string[];
  windowSeconds: number;
  rateLimitPerMinute: number;
}

const NONCE_RE = /^[\x21-\x7e]{1,128}$/;

function header(req: FastifyRequest, name: string): string | null {
  const v = req.headers[name];
  if (Array.isArray(v)) return null; // repeated auth headers are ambiguous: refuse
  return typeof v === 'string' && v.length > 0 ? v : null;
}

export function ipAllowed(ip: string, whitelist: string[]): boolean {
  if (whitelist.length === 0) return true;
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.process(ip);
  } catch {
    return false;
  }
  return whitelist.some((entry) => {
    try {
      if (entry.includes('/')) {
        const [range, bits] = ipaddr.parseCIDR(entry);
        return addr.kind() === range.kind() && addr.match([range, bits] as never);
      }
      const e = ipaddr.process(entry);
      return e.kind() === addr.kind() && e.toNormalizedString() === addr.toNormalizedString();
    } catch {
      return false;
    }
  });
}

export function isValidIpOrCidr(entry: string): boolean {
  if (entry.includes('/')) {
    // ipaddr.js parses the address part of a CIDR leniently (classful/hex IPv4: "192.168/16" is
    // read as 192.0.0.168/16, i.e. 192.0.0.0/16): require a dotted quad, as for a single IP.
    const address = entry.slice(0, entry.indexOf('/'));
    if (!ipaddr.IPv4.isValidFourPartDecimal(address) && !ipaddr.IPv6.isValid(address)) return false;
    try {
      ipaddr.parseCIDR(entry);
      return true;
    } catch {
      return false;
    }
  }
  return ipaddr.isValid(entry) && (ipaddr.IPv4.isValidFourPartDecimal(entry) || ipaddr.IPv6.isValid(entry));
}

export function createPartnerAuthenticator(deps: AuthDeps) {
  return async function authenticate(req: FastifyRequest): Promise<void> {
    const apiKey = header(req, 'x-api-key');
    const timestamp = header(req, 'x-timestamp');
    const nonce = header(req, 'x-nonce');
    const signature = header(req, 'x-signature');
    if (!apiKey) throw unauthorised('missing X-API-Key header');
    if (!timestamp) throw unauthorised('missing X-Timestamp header');
    if (!nonce) throw unauthorised('missing X-Nonce header');
    if (!signature) throw unauthorised('missing X-Signature header');

    const key = await deps.partners.resolveKey(apiKey);
    if (!key) throw unauthorised('unknown or revoked API key');

    if (!/^\d{1,12}$/.test(timestamp)) throw unauthorised('X-Timestamp must be unix seconds');
    const skew = Math.abs(Math.floor(deps.clock.now().getTime() / 1000) - Number(timestamp));
    if (skew > deps.windowSeconds)
      throw unauthorised(`X-Timestamp is outside the allowed window of ${deps.windowSeconds} s (check the client clock)`);
    if (!NONCE_RE.test(nonce)) throw unauthorised('X-Nonce must be 1–128 printable ASCII characters');

    const rawUrl = req.raw.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const query = q === -1 ? '' : rawUrl.slice(q + 1);
    const hostHeader = header(req, 'host') ?? '';
    const hosts = [hostHeader, hostHeader.toLowerCase(), ...deps.publicHosts];
    const bodyHashes = bodyHashCandidates({
      method: req.method,
      rawBody: req.rawBody ?? null,
      parsedJson: req.bodyError ? undefined : req.rawBody ? req.body : undefined,
      isMultipart: req.isMultipart(),
    });
    if (!verifySignature({ secret: key.secret, signature, method: req.method, hosts, path, query, bodyHashes, timestamp, nonce })) {
      throw unauthorised('signature does not match the request (check secret, method, host, path, query, body, timestamp and nonce)');
    }

    if (!(await deps.nonces.claim(key.keyId, nonce))) throw unauthorised('X-Nonce has already been used (replayed request)');

    if (!ipAllowed(req.ip, key.ipWhitelist)) throw unauthorised(`IP address ${req.ip} is not in the partner's IP whitelist`);

    const retryAfter = deps.rateLimiter.hit(key.keyId, key.rateLimitPerMinute ?? deps.rateLimitPerMinute, deps.clock.now().getTime());
    if (retryAfter !== null) {
      throw new AppError(
        'RATE_LIMITED',
        `rate limit of ${key.rateLimitPerMinute ?? deps.rateLimitPerMinute} requests per minute exceeded; retry after ${retryAfter} s`,
        { headers: { 'retry-after': String(retryAfter) } },
      );
    }
    req.partnerKey = key;
  };
}

export function createOperatorAuthenticator(token: string) {
  const expected = Buffer.from(`Bearer ${token}`);
  return async function authenticateOperator(req: FastifyRequest): Promise<void> {
    const given = Buffer.from(req.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw unauthorised('operator token required (Authorization: Bearer <token>)');
  };
}
