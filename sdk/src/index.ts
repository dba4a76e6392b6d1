/**
 * @openramp/sdk — for partners integrating with an OpenRamp server.
 *
 * - `verifyWebhook` checks an incoming webhook under either or both signature schemes OpenRamp
 *   sends: the Coinut contract's HMAC headers (X-API-Key, X-Timestamp, X-Nonce, X-Signature,
 *   keyed with your API secret) and Standard Webhooks (webhook-id, webhook-timestamp,
 *   webhook-signature, keyed with your `whsec_` secret).
 * - `signRequest` produces the headers for a signed API call; `encodeMultipart` builds a
 *   multipart/form-data body as bytes, so an upload can be signed over exactly what is sent.
 *
 * This package deliberately imports nothing from the OpenRamp server: it is published and
 * versioned on its own, and a partner installs it without the server. The HMAC code below is a
 * copy of the server's few lines (src/infra/auth/signature.ts, src/domain/webhooks/signing.ts), kept small
 * on purpose; the server's test suite checks that the two agree on real deliveries.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_TOLERANCE_SECONDS_DEFAULT = 300;

/** The webhook body OpenRamp sends. `payload` and `data` are the same object. */
export interface WebhookEvent<T extends Record<string, unknown> = Record<string, unknown>> {
  /** The event id (evt_…): the same on every retry and redelivery, so dedupe on it. */
  id: string;
  /** CUSTOMER_APPROVED, DEPOSIT_RECEIVED, TRADE_SETTLED, … */
  event: string;
  createdAt: string;
  /** The object's detail at this version; `payload.version` orders updates of one object. */
  payload: T;
  data: T;
}

export type VerifyWebhookResult = { ok: true; scheme: 'hmac' | 'standard' | 'both'; event: WebhookEvent } | { ok: false; reason: string };

export type HeaderInput = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

export interface VerifyWebhookOptions {
  /** The request headers (a fetch `Headers`, or Node's `req.headers`). */
  headers: HeaderInput;
  /** The body exactly as received — before any JSON parsing. */
  rawBody: string | Uint8Array;
  /** The callback URL the webhook was sent to, as configured with POST /callback-url. Needed for `apiSecret`. */
  url?: string | URL;
  /** Your API secret(s): checks X-Signature. */
  apiSecret?: string | string[];
  /** Your `whsec_` webhook secret(s): checks webhook-signature. */
  webhookSecret?: string | string[];
  /** Largest accepted distance between the signed timestamp and `now`, in seconds. */
  toleranceSeconds?: number;
  now?: Date;
}

function headerGetter(h: HeaderInput): (name: string) => string | undefined {
  if (typeof (h as { get?: unknown }).get === 'function') {
    const headers = h as { get(name: string): string | null };
    return (name) => headers.get(name) ?? undefined;
  }
  const lower = new Map<string, string>();
  for (const [k, v] of Object.entries(h as Record<string, string | string[] | undefined>)) {
    if (v !== undefined) lower.set(k.toLowerCase(), Array.isArray(v) ? v.join(', ') : v);
  }
  return (name) => lower.get(name.toLowerCase());
}

const list = (s: string | string[] | undefined): string[] =>
  (s === undefined ? [] : Array.isArray(s) ? s : [s]).filter((x) => x.length > 0);
const bytesOf = (b: string | Uint8Array): Buffer =>
  typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const sha256Hex = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Constant-time equality of two byte strings (false, without timing leak on content, when lengths differ). */
function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The contract's canonical string: METHOD, HOST, PATH, QUERY, BODY_SHA256_HEX, TIMESTAMP, NONCE joined by LF. */
export function canonicalString(p: {
  method: string;
  host: string;
  path: string;
  query: string;
  bodySha256Hex: string;
  timestamp: string;
  nonce: string;
}): string {
  return [p.method.toUpperCase(), p.host, p.path, p.query, p.bodySha256Hex, p.timestamp, p.nonce].join('\n');
}

function timestampProblem(raw: string, header: string, nowSeconds: number, toleranceSeconds: number): string | null {
  if (!/^\d{1,12}$/.test(raw)) return `${header} is not a unix timestamp in seconds`;
  const skew = Math.abs(nowSeconds - Number(raw));
  return skew > toleranceSeconds ? `${header} is ${skew} s away from now (tolerance ${toleranceSeconds} s): stale or replayed` : null;
}

function checkHmac(
  get: (n: string) => string | undefined,
  body: Buffer,
  url: URL,
  secrets: string[],
  nowSeconds: number,
  toleranceSeconds: number,
): string | null {
  const timestamp = get('x-timestamp');
  const nonce = get('x-nonce');
  const signature = get('x-signature');
  if (!timestamp || !nonce || !signature) return 'missing X-Timestamp, X-Nonce or X-Signature header';
  const stale = timestampProblem(timestamp, 'X-Timestamp', nowSeconds, toleranceSeconds);
  if (stale) return stale;
  if (!/^[0-9a-fA-F]{64}$/.test(signature)) return 'X-Signature is not 64 hex characters';
  const given = Buffer.from(signature.toLowerCase(), 'hex');
  const canonical = canonicalString({
    method: 'POST',
    host: url.host,
    path: url.pathname,
    query: url.search.replace(/^\?/, ''),
    bodySha256Hex: body.length > 0 ? sha256Hex(body) : '',
    timestamp,
    nonce,
  });
  let ok = false;
  for (const secret of secrets) ok = safeEqual(createHmac('sha256', secret).update(canonical, 'utf8').digest(), given) || ok;
  return ok ? null : 'X-Signature does not match (wrong API secret, URL, or a modified body)';
}

function checkStandard(
  get: (n: string) => string | undefined,
  body: Buffer,
  secrets: string[],
  nowSeconds: number,
  toleranceSeconds: number,
): string | null {
  const id = get('webhook-id');
  const timestamp = get('webhook-timestamp');
  const header = get('webhook-signature');
  if (!id || !timestamp || !header) return 'missing webhook-id, webhook-timestamp or webhook-signature header';
  const stale = timestampProblem(timestamp, 'webhook-timestamp', nowSeconds, toleranceSeconds);
  if (stale) return stale;
  const given = header
    .split(' ')
    .map((entry) => entry.split(','))
    .filter((parts): parts is [string, string] => parts.length === 2 && parts[0] === 'v1')
    .map(([, sig]) => Buffer.from(sig, 'base64'));
  if (given.length === 0) return 'webhook-signature has no v1 signature';
  let ok = false;
  for (const secret of secrets) {
    const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
    const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8').update(body).digest();
    for (const sig of given) ok = safeEqual(expected, sig) || ok;
  }
  return ok ? null : 'webhook-signature does not match (wrong webhook secret or a modified body)';
}

/**
 * Verifies a webhook from OpenRamp. Checks every scheme whose secret you pass (both when you
 * pass both); succeeds only when all of them verify and the timestamps are within tolerance.
 * Also dedupe on `event.id` to drop redeliveries you have already processed.
 */
export function verifyWebhook(opts: VerifyWebhookOptions): VerifyWebhookResult {
  const apiSecrets = list(opts.apiSecret);
  const webhookSecrets = list(opts.webhookSecret);
  if (apiSecrets.length === 0 && webhookSecrets.length === 0)
    return { ok: false, reason: 'no secret given: pass apiSecret and/or webhookSecret' };
  const get = headerGetter(opts.headers);
  const body = bytesOf(opts.rawBody);
  const nowSeconds = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  const tolerance = opts.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS_DEFAULT;

  if (apiSecrets.length > 0) {
    if (opts.url === undefined)
      return { ok: false, reason: 'url is required to check X-Signature: pass the callback URL the webhook was sent to' };
    let url: URL;
    try {
      url = new URL(opts.url);
    } catch {
      return { ok: false, reason: 'url is not an absolute URL' };
    }
    const problem = checkHmac(get, body, url, apiSecrets, nowSeconds, tolerance);
    if (problem) return { ok: false, reason: problem };
  }
  if (webhookSecrets.length > 0) {
    const problem = checkStandard(get, body, webhookSecrets, nowSeconds, tolerance);
    if (problem) return { ok: false, reason: problem };
  }

  let event: WebhookEvent;
  try {
    event = JSON.parse(body.toString('utf8')) as WebhookEvent;
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  if (!event || typeof event !== 'object' || typeof event.id !== 'string' || typeof event.event !== 'string')
    return { ok: false, reason: 'body is not an OpenRamp webhook envelope' };
  const webhookId = get('webhook-id');
  if (webhookSecrets.length > 0 && webhookId !== event.id) return { ok: false, reason: 'webhook-id does not match the body id' };
  return {
    ok: true,
    scheme: apiSecrets.length > 0 && webhookSecrets.length > 0 ? 'both' : apiSecrets.length > 0 ? 'hmac' : 'standard',
    event,
  };
}

export interface SignRequestOptions {
  apiKey: string;
  apiSecret: string;
  method: string;
  /** The full request URL, e.g. `https://ramp.example.com/customer/detail?id=cus_…`. */
  url: string | URL;
  /**
   * The exact body bytes you will send: JSON.stringify once and send that string; for a
   * multipart upload, the bytes from `encodeMultipart` (the signature then covers every field
   * and file — required for partners in strict signing mode).
   */
  body?: string | Uint8Array;
  /** Unix seconds; defaults to now. */
  timestamp?: number | string;
  /** Defaults to a random UUID; never reuse one. */
  nonce?: string;
}

/**
 * Headers for a signed OpenRamp API request (the Coinut contract's scheme). GET requests and
 * empty bodies sign an empty body hash; any other body — JSON or multipart — signs the
 * SHA-256 of its raw bytes. (Signing a multipart upload with the empty hash still works for
 * partners not in strict mode, but binds none of its content: a captured request's form could
 * be swapped.)
 */
export function signRequest(opts: SignRequestOptions): Record<'X-API-Key' | 'X-Timestamp' | 'X-Nonce' | 'X-Signature', string> {
  const url = new URL(opts.url);
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = opts.nonce ?? randomUUID();
  const body = opts.body === undefined ? Buffer.alloc(0) : bytesOf(opts.body);
  const canonical = canonicalString({
    method: opts.method,
    host: url.host,
    path: url.pathname,
    query: url.search.replace(/^\?/, ''),
    bodySha256Hex: opts.method.toUpperCase() === 'GET' || body.length === 0 ? '' : sha256Hex(body),
    timestamp,
    nonce,
  });
  return {
    'X-API-Key': opts.apiKey,
    'X-Timestamp': timestamp,
    'X-Nonce': nonce,
    'X-Signature': createHmac('sha256', opts.apiSecret).update(canonical, 'utf8').digest('hex'),
  };
}

export interface MultipartFile {
  /** The form field name, e.g. `statementFile`. */
  field: string;
  filename: string;
  contentType?: string;
  data: string | Uint8Array;
}

/**
 * A multipart/form-data body as bytes, to sign and send as they are:
 *
 *   const { body, contentType } = encodeMultipart({ customerId, iban, … }, [{ field: 'statementFile', filename: 's.pdf', data }]);
 *   const headers = { ...signRequest({ apiKey, apiSecret, method: 'POST', url, body }), 'Content-Type': contentType };
 *   await fetch(url, { method: 'POST', headers, body });
 *
 * (A `FormData` object is encoded by the HTTP client with its own boundary after you sign, so
 * its bytes cannot be signed.) Field names, file names and the boundary must not contain CR,
 * LF or double quotes.
 */
export function encodeMultipart(
  fields: Record<string, string>,
  files: MultipartFile[] = [],
  boundary = `----openramp${randomUUID().replace(/-/g, '')}`,
): { body: Uint8Array; contentType: string } {
  const unsafe = /[\r\n"]/;
  const parts: Buffer[] = [];
  const check = (s: string, what: string) => {
    if (unsafe.test(s)) throw new Error(`${what} must not contain CR, LF or '"': ${JSON.stringify(s)}`);
  };
  check(boundary, 'boundary');
  for (const [name, value] of Object.entries(fields)) {
    check(name, 'field name');
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`, 'utf8'),
      bytesOf(value),
      Buffer.from('\r\n'),
    );
  }
  for (const f of files) {
    check(f.field, 'file field name');
    check(f.filename, 'file name');
    const type = f.contentType ?? 'application/octet-stream';
    check(type, 'file content type');
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${f.field}"; filename="${f.filename}"\r\nContent-Type: ${type}\r\n\r\n`,
        'utf8',
      ),
      bytesOf(f.data),
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: new Uint8Array(Buffer.concat(parts)), contentType: `multipart/form-data; boundary=${boundary}` };
}
