import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { call, createTestContext, onboard, signedHeaders, type SignedRequest, type TestContext } from './helpers/harness.ts';
import { createTwoAppsOnOneDatabase } from './helpers/second-app.ts';
import {
  canonicalString,
  escapeNonAsciiLikePython,
  sha256Hex,
  signRequest,
  verifySignature,
  type CanonicalParts,
} from '../src/infra/auth/signature.ts';
import { isValidIpOrCidr } from '../src/api/auth.ts';
import { AppError } from '../src/infra/lib/errors.ts';
import type { Clock } from '../src/infra/lib/clock.ts';

/**
 * Request authentication (docs/request-signing.md) and partner scoping (docs/api-contract.md): the contract's signing
 * vectors, every accepted canonical form through a real request, every tampered field, replay
 * and clock-skew protection (also across two server processes), IP whitelist, rate limit, key
 * rotation, and "another partner's id behaves exactly like an unknown id".
 */

// ---------------------------------------------------------------------------------------------
// helpers

type Creds = { apiKey: string; apiSecret: string };
interface Result {
  status: number;
  json: any;
  headers: Record<string, unknown>;
  body: string;
}

/** Injects a request with exactly these headers (no signing): for replays and missing headers. */
async function injectRaw(
  ctx: TestContext,
  r: { method: 'GET' | 'POST'; url: string; headers: Record<string, string>; payload?: string; remoteAddress?: string },
): Promise<Result> {
  const res = await ctx.openramp.api.inject({
    method: r.method,
    url: r.url,
    headers: r.headers,
    ...(r.payload !== undefined ? { payload: r.payload } : {}),
    ...(r.remoteAddress !== undefined ? { remoteAddress: r.remoteAddress } : {}),
  });
  let json: any = null;
  try {
    json = res.json();
  } catch {
    json = null;
  }
  return { status: res.statusCode, json, headers: res.headers as Record<string, unknown>, body: res.body };
}

/** Like harness `call`, but can drop headers after signing and set the client address. */
async function send(ctx: TestContext, r: SignedRequest, opts: { drop?: string[]; remoteAddress?: string } = {}): Promise<Result> {
  const headers: Record<string, string> = { ...signedHeaders(r, r.creds ?? ctx.partner) };
  for (const h of opts.drop ?? []) delete headers[h];
  const payload = r.rawBody ?? (r.body === undefined ? undefined : JSON.stringify(r.body));
  return injectRaw(ctx, {
    method: r.method,
    url: r.url,
    headers,
    ...(payload !== undefined ? { payload } : {}),
    ...(opts.remoteAddress ? { remoteAddress: opts.remoteAddress } : {}),
  });
}

/** A 401 in the contract envelope: exactly {status, message}, status UNAUTHORISED. */
function assertUnauthorised(r: Result, message?: RegExp): void {
  assert.equal(r.status, 401, `expected 401, got ${r.status}: ${r.body}`);
  assert.deepEqual(Object.keys(r.json ?? {}).sort(), ['message', 'status'], `401 envelope must be exactly {status, message}: ${r.body}`);
  assert.equal(r.json.status, 'UNAUTHORISED');
  assert.equal(typeof r.json.message, 'string');
  assert.ok(r.json.message.length > 0);
  if (message) assert.match(r.json.message, message);
}

function assertOk(r: Result): void {
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.status, 'SUCCESS', r.body);
}

/** Runs a Python 3 snippet with JSON on stdin and parses the JSON it prints. */
function python(script: string, input: unknown): any {
  const res = spawnSync('python3', ['-c', script], { input: JSON.stringify(input), encoding: 'utf8' });
  assert.equal(res.error, undefined, `python3 could not be started: ${String(res.error)}`);
  assert.equal(res.status, 0, `python3 failed: ${res.stderr}`);
  return JSON.parse(res.stdout);
}

/** A clock frozen at a given instant that the test moves by hand. */
function frozenClock(ms: number): Clock & { set(ms: number): void; advance(ms: number): void } {
  let t = ms;
  return {
    now: () => new Date(t),
    set: (v) => {
      t = v;
    },
    advance: (d) => {
      t += d;
    },
  };
}

/** The middle of a wall-clock minute, whole seconds: keeps fixed-window limits deterministic. */
function midMinuteMs(): number {
  return Math.floor(Date.now() / 60_000) * 60_000 + 30_000;
}

/** Python `json.dumps` default separators (", " and ": ") for a flat object of ASCII strings. */
function spacedJson(obj: Record<string, string | number | boolean>): string {
  return `{${Object.entries(obj)
    .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
    .join(', ')}}`;
}

/** The stored customer (create returns only ids): proves the body the server parsed. */
async function storedCustomer(ctx: TestContext, id: string) {
  return ctx.openramp.services.db
    .selectFrom('customers')
    .select(['name', 'email', 'partner_id'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

function uniqueEmail(tag: string): string {
  return `${tag}-${randomUUID().slice(0, 8)}@example.com`;
}

// ---------------------------------------------------------------------------------------------
// 1. signing test vectors of the contract

const V_SECRET = 'YOUR_API_SECRET';
const V_HOST = 'your-partner-api-host.com';
const V_TIMESTAMP = '1700000000';
const V_NONCE = '6f1d2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b';

const VECTORS = [
  {
    name: '(a) Node example: POST /payment/estimate, body {}',
    method: 'POST',
    path: '/payment/estimate',
    query: '',
    body: '{}',
    expected: '1c41ee9c02f8f02f5fa42d7d8faaa4204314acc847df044a5ac503b3dbbac72b',
  },
  {
    name: '(b) GET /balance?currency=USDT&network=TRX, empty body hash',
    method: 'GET',
    path: '/balance',
    query: 'currency=USDT&network=TRX',
    body: '',
    expected: '06256e57b199cd96d07ea017ec38c97ea8a72672bc1eec46e35b333d2abb4e33',
  },
  {
    name: '(c) Java example: POST /payment/estimate, body {"amount":100}',
    method: 'POST',
    path: '/payment/estimate',
    query: '',
    body: '{"amount":100}',
    expected: 'bdc0dc38507adf4324810232b4cd888c4edd40c25672780e40fa9078e7180c82',
  },
] as const;

function vectorParts(v: (typeof VECTORS)[number]): CanonicalParts {
  return {
    method: v.method,
    host: V_HOST,
    path: v.path,
    query: v.query,
    bodySha256Hex: v.body === '' ? '' : sha256Hex(v.body),
    timestamp: V_TIMESTAMP,
    nonce: V_NONCE,
  };
}

const PY_SIGN = `
import sys, json, hmac, hashlib
a = json.loads(sys.stdin.buffer.read().decode("utf-8"))
out = []
for v in a["vectors"]:
    body_hash = hashlib.sha256(v["body"].encode("utf-8")).hexdigest() if v["body"] else ""
    canonical = "\\n".join([v["method"].upper(), a["host"], v["path"], v["query"], body_hash, a["timestamp"], a["nonce"]])
    out.append({"canonical": canonical, "signature": hmac.new(a["secret"].encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256).hexdigest()})
print(json.dumps(out))
`;

describe('signing: the contract’s canonical test vectors', () => {
  for (const v of VECTORS) {
    it(`${v.name} → hard-coded signature`, () => {
      assert.equal(signRequest(V_SECRET, vectorParts(v)), v.expected);
    });
  }

  it('exact canonical strings for vectors (a) and (b)', () => {
    assert.equal(
      canonicalString(vectorParts(VECTORS[0])),
      'POST\nyour-partner-api-host.com\n/payment/estimate\n\n44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\n1700000000\n6f1d2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b',
    );
    assert.equal(
      canonicalString(vectorParts(VECTORS[1])),
      'GET\nyour-partner-api-host.com\n/balance\ncurrency=USDT&network=TRX\n\n1700000000\n6f1d2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b',
    );
    // The method is upper-cased as the contract says.
    assert.equal(canonicalString({ ...vectorParts(VECTORS[1]), method: 'get' }), canonicalString(vectorParts(VECTORS[1])));
  });

  it('Python hmac/hashlib computes the same canonical strings and signatures from the same inputs', () => {
    const py = python(PY_SIGN, {
      secret: V_SECRET,
      host: V_HOST,
      timestamp: V_TIMESTAMP,
      nonce: V_NONCE,
      vectors: VECTORS.map(({ method, path, query, body }) => ({ method, path, query, body })),
    }) as { canonical: string; signature: string }[];
    assert.equal(py.length, VECTORS.length);
    VECTORS.forEach((v, i) => {
      assert.equal(py[i]!.canonical, canonicalString(vectorParts(v)), v.name);
      assert.equal(py[i]!.signature, signRequest(V_SECRET, vectorParts(v)), v.name);
      assert.equal(py[i]!.signature, v.expected, v.name);
    });
  });

  it('verifySignature accepts each vector and refuses a one-character change of the signature or any input', () => {
    for (const v of VECTORS) {
      const p = vectorParts(v);
      const input = {
        secret: V_SECRET,
        signature: v.expected,
        method: p.method,
        hosts: [V_HOST],
        path: p.path,
        query: p.query,
        bodyHashes: [p.bodySha256Hex],
        timestamp: p.timestamp,
        nonce: p.nonce,
      };
      assert.equal(verifySignature(input), true, v.name);
      assert.equal(verifySignature({ ...input, signature: v.expected.toUpperCase() }), false, 'lowercase hex only, as specified');
      const flipped = (v.expected[0] === '0' ? '1' : '0') + v.expected.slice(1);
      assert.equal(verifySignature({ ...input, signature: flipped }), false);
      assert.equal(verifySignature({ ...input, signature: v.expected.slice(0, 63) }), false, 'short signature');
      assert.equal(verifySignature({ ...input, secret: 'YOUR_API_SECRET2' }), false);
      assert.equal(verifySignature({ ...input, hosts: ['other-host.com'] }), false);
      assert.equal(verifySignature({ ...input, timestamp: '1700000001' }), false);
      assert.equal(verifySignature({ ...input, nonce: `${V_NONCE}x` }), false);
      assert.equal(verifySignature({ ...input, method: v.method === 'GET' ? 'POST' : 'GET' }), false);
    }
  });

  it('Python-style escaping equals Python’s json.dumps(separators=(",", ":")) byte for byte', () => {
    const obj = {
      name: 'Zoë Ürlich 😀',
      s: 'tab\t nl\n del\u007f quote" backslash\\ slash/ ctrl\u0001 ls\u2028 euro€',
      n: 100,
      nested: { k: ['ü', 1.5, true, null] },
    };
    const py = python(
      'import sys, json\nprint(json.dumps(json.dumps(json.loads(sys.stdin.buffer.read().decode("utf-8")), separators=(",", ":"))))',
      obj,
    ) as string;
    assert.equal(escapeNonAsciiLikePython(JSON.stringify(obj)), py);
    assert.ok(py.includes('\\ud83d\\ude00'), 'emoji as a lowercase surrogate pair');
  });
});

// ---------------------------------------------------------------------------------------------
// 2. accepted canonical forms, through real requests

describe('accepted canonical forms (real requests)', () => {
  let ctx: TestContext;
  let ctxPublic: TestContext;
  before(async () => {
    ctx = await createTestContext();
    ctxPublic = await createTestContext({ env: { OPENRAMP_PUBLIC_HOSTS: 'ramp.example.com' } });
  });
  after(async () => {
    await ctx.close();
    await ctxPublic.close();
  });

  it('host: the Host header as received', async () => {
    const r = await call(ctx, { method: 'GET', url: '/basic-info', host: 'api.partner-ramp.example:8443' });
    assertOk(r);
    assert.equal(r.json.data.partnerId, ctx.partner.partnerId);
  });

  it('host: a configured public host (OPENRAMP_PUBLIC_HOSTS) while Host is localhost:80', async () => {
    const r = await call(ctxPublic, { method: 'GET', url: '/basic-info', host: 'localhost:80', sign: { host: 'ramp.example.com' } });
    assertOk(r);
    // Control: a deployment without that public host refuses the same signature.
    assertUnauthorised(
      await call(ctx, { method: 'GET', url: '/basic-info', host: 'localhost:80', sign: { host: 'ramp.example.com' } }),
      /signature/,
    );
    // And the public-host deployment still refuses a host it was not configured with.
    assertUnauthorised(
      await call(ctxPublic, { method: 'GET', url: '/basic-info', host: 'localhost:80', sign: { host: 'other.example.com' } }),
      /signature/,
    );
  });

  it('path/query: (path, rawQuery) and (path?rawQuery, "") for a GET with a query', async () => {
    const url = '/customer/list?pageSize=5&pageNum=1';
    const a = await call(ctx, { method: 'GET', url });
    assertOk(a);
    assert.equal(a.json.data.pageSize, 5);
    const b = await call(ctx, { method: 'GET', url, sign: { path: url, query: '' } });
    assertOk(b);
    assert.equal(b.json.data.pageSize, 5);
  });

  it('path/query: the raw query is signed as sent (percent-encoding kept, no re-ordering)', async () => {
    const email = uniqueEmail('q+x');
    assertOk(await call(ctx, { method: 'POST', url: '/customer/create', body: { name: 'Quinn Raw', email } }));
    const url = `/customer/detail?email=${encodeURIComponent(email)}`;
    assert.ok(url.includes('%2B') && url.includes('%40'));
    const r = await call(ctx, { method: 'GET', url }); // harness signs the raw query
    assertOk(r);
    assert.equal(r.json.data.email, email);
    // Signing the decoded query instead is a different canonical string.
    assertUnauthorised(await call(ctx, { method: 'GET', url, sign: { query: `email=${email}` } }), /signature/);
  });

  it('body: SHA-256 of the raw bytes (even when they are not compact JSON)', async () => {
    const email = uniqueEmail('raw');
    const rawBody = `{\n  "name" : "Rae Bytes",\t"email":"${email}"  }`;
    const r = await call(ctx, { method: 'POST', url: '/customer/create', rawBody }); // harness signs sha256(rawBody)
    assertOk(r);
    assert.deepEqual(await storedCustomer(ctx, r.json.customerId), { name: 'Rae Bytes', email, partner_id: ctx.partner.partnerId });
  });

  it('body: compact re-serialisation when the raw body has Python-requests spaces', async () => {
    const obj = { name: 'Sam Spaces', email: uniqueEmail('spaces'), type: 'DEPOSITOR', isIndividual: true };
    const rawBody = spacedJson(obj);
    assert.ok(rawBody.includes('", "') && rawBody.includes('": "'));
    assert.notEqual(sha256Hex(rawBody), sha256Hex(JSON.stringify(obj)));
    const r = await call(ctx, {
      method: 'POST',
      url: '/customer/create',
      rawBody,
      sign: { bodySha256Hex: sha256Hex(JSON.stringify(obj)) },
    });
    assertOk(r);
    assert.deepEqual(await storedCustomer(ctx, r.json.customerId), {
      name: 'Sam Spaces',
      email: obj.email,
      partner_id: ctx.partner.partnerId,
    });
    // With non-ASCII the JSON.stringify form (UTF-8, unescaped) differs from the Python-escaped one.
    const obj2 = { name: 'Søren Ærø', email: uniqueEmail('soren') };
    const r2 = await call(ctx, {
      method: 'POST',
      url: '/customer/create',
      rawBody: spacedJson(obj2),
      sign: { bodySha256Hex: sha256Hex(JSON.stringify(obj2)) },
    });
    assertOk(r2);
    assert.notEqual(JSON.stringify(obj2), escapeNonAsciiLikePython(JSON.stringify(obj2)));
    assert.equal((await storedCustomer(ctx, r2.json.customerId)).name, 'Søren Ærø');
  });

  it('body: Python-style \\uXXXX-escaped compact JSON for non-ASCII (request built and signed by Python)', async () => {
    const name = 'Zoë Ürlich 😀';
    const email = uniqueEmail('zoe');
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = randomUUID();
    // Exactly what the guide's Python sample does: sign compact json.dumps, send requests' json.dumps.
    const py = python(
      `
import sys, json, hmac, hashlib
a = json.loads(sys.stdin.buffer.read().decode("utf-8"))
sent = json.dumps(a["body"])
signed = json.dumps(a["body"], separators=(",", ":"))
body_hash = hashlib.sha256(signed.encode("utf-8")).hexdigest()
canonical = "\\n".join(["POST", a["host"], a["path"], "", body_hash, a["timestamp"], a["nonce"]])
sig = hmac.new(a["secret"].encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256).hexdigest()
print(json.dumps({"sent": sent, "signed": signed, "signature": sig}))
`,
      {
        body: { name, email, type: 'DEPOSITOR', isIndividual: true },
        host: 'localhost:80',
        path: '/customer/create',
        timestamp,
        nonce,
        secret: ctx.partner.apiSecret,
      },
    ) as { sent: string; signed: string; signature: string };
    assert.ok(py.sent.includes('\\ud83d\\ude00') && py.sent.includes('\\u00eb') && py.sent.includes('", "'), py.sent);
    assert.ok(py.signed.includes('\\ud83d\\ude00') && !py.signed.includes('", "'), py.signed);
    const r = await injectRaw(ctx, {
      method: 'POST',
      url: '/customer/create',
      headers: {
        host: 'localhost:80',
        'content-type': 'application/json',
        'x-api-key': ctx.partner.apiKey,
        'x-timestamp': timestamp,
        'x-nonce': nonce,
        'x-signature': py.signature,
      },
      payload: py.sent,
    });
    assertOk(r);
    assert.equal((await storedCustomer(ctx, r.json.customerId)).name, name);

    // The same escaped signature also covers a client that sends UTF-8 with spaces.
    const email2 = uniqueEmail('zoe2');
    const obj2 = { name, email: email2 };
    const utf8Spaced = `{"name": ${JSON.stringify(name)}, "email": ${JSON.stringify(email2)}}`;
    const r2 = await call(ctx, {
      method: 'POST',
      url: '/customer/create',
      rawBody: utf8Spaced,
      sign: { bodySha256Hex: sha256Hex(escapeNonAsciiLikePython(JSON.stringify(obj2))) },
    });
    assertOk(r2);
    assert.equal((await storedCustomer(ctx, r2.json.customerId)).name, name);
  });

  it('body: empty body hash for a multipart/form-data bank-account add (built by hand)', async () => {
    const c = await call(ctx, {
      method: 'POST',
      url: '/customer/create',
      body: { name: 'Mia Schulz', email: uniqueEmail('mia'), type: 'DEPOSITOR', isIndividual: true },
    });
    assertOk(c);
    const customerId = c.json.customerId as string;
    const boundary = '----OpenRampTestBoundary7MA4YWxkTrZu0gW';
    const fields: Record<string, string> = {
      customerId,
      currency: 'EUR',
      bankName: 'Deutsche Bank',
      accountNo: '0532013000',
      iban: 'DE89370400440532013000',
      swift: 'DEUTDEFF',
      accountName: 'Mia Schulz',
    };
    let rawBody = '';
    for (const [k, v] of Object.entries(fields)) rawBody += `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
    rawBody += `--${boundary}\r\nContent-Disposition: form-data; name="statementFile"; filename="statement.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 not really a pdf\r\n`;
    rawBody += `--${boundary}--\r\n`;
    const r = await call(ctx, {
      method: 'POST',
      url: '/bank-account/add',
      rawBody,
      sign: { bodySha256Hex: '' },
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    assertOk(r);
    assert.match(r.json.bankAccountId, /^ba/);
    assert.equal(r.json.data.customerId, customerId);
    assert.equal(r.json.data.iban, 'DE89370400440532013000');
    const d = await call(ctx, { method: 'GET', url: `/bank-account/detail?id=${r.json.bankAccountId}` });
    assertOk(d);
    assert.equal(d.json.data.accountName, 'Mia Schulz');
  });
});

// ---------------------------------------------------------------------------------------------
// 3. tampering, unknown keys, missing headers; 9. the 401 envelope

describe('tampered or incomplete requests are refused with 401 UNAUTHORISED', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestContext();
  });
  after(() => ctx.close());

  const listUrl = '/customer/list?pageNum=1&pageSize=5';

  it('control: the untampered requests succeed', async () => {
    assertOk(await call(ctx, { method: 'GET', url: listUrl }));
    assertOk(await call(ctx, { method: 'POST', url: '/customer/create', body: { name: 'Control Person', email: uniqueEmail('control') } }));
  });

  it('method', async () => {
    assertUnauthorised(await call(ctx, { method: 'GET', url: listUrl, sign: { method: 'POST' } }), /signature/);
  });

  it('host', async () => {
    assertUnauthorised(await call(ctx, { method: 'GET', url: listUrl, sign: { host: 'evil.example.com' } }), /signature/);
    assertUnauthorised(await call(ctx, { method: 'GET', url: listUrl, host: 'localhost:80', sign: { host: 'localhost' } }), /signature/);
  });

  it('path', async () => {
    assertUnauthorised(await call(ctx, { method: 'GET', url: listUrl, sign: { path: '/bank-account/list' } }), /signature/);
  });

  it('query (changed value, re-ordered parameters, dropped query)', async () => {
    assertUnauthorised(await call(ctx, { method: 'GET', url: listUrl, sign: { query: 'pageNum=1&pageSize=6' } }), /signature/);
    assertUnauthorised(await call(ctx, { method: 'GET', url: listUrl, sign: { query: 'pageSize=5&pageNum=1' } }), /signature/);
    assertUnauthorised(await call(ctx, { method: 'GET', url: listUrl, sign: { query: '' } }), /signature/);
  });

  it('body: a different body than the one signed (raw, compact and spaced) creates nothing', async () => {
    const signedBody = { name: 'Signed Name', email: uniqueEmail('signed') };
    const sentBody = { name: 'Sent Name', email: uniqueEmail('sent') };
    const bodySha256Hex = sha256Hex(JSON.stringify(signedBody));
    assertUnauthorised(
      await call(ctx, { method: 'POST', url: '/customer/create', rawBody: JSON.stringify(sentBody), sign: { bodySha256Hex } }),
      /signature/,
    );
    assertUnauthorised(
      await call(ctx, { method: 'POST', url: '/customer/create', rawBody: spacedJson(sentBody), sign: { bodySha256Hex } }),
      /signature/,
    );
    // Signed an empty body, sent one.
    assertUnauthorised(
      await call(ctx, { method: 'POST', url: '/customer/create', rawBody: JSON.stringify(sentBody), sign: { bodySha256Hex: '' } }),
      /signature/,
    );
    const rows = await ctx.openramp.services.db
      .selectFrom('customers')
      .select('id')
      .where('email', 'in', [signedBody.email, sentBody.email])
      .execute();
    assert.equal(rows.length, 0);
  });

  it('timestamp: the X-Timestamp header differs from the signed one (both inside the window)', async () => {
    const now = Math.floor(Date.now() / 1000);
    assertUnauthorised(
      await call(ctx, { method: 'GET', url: listUrl, timestamp: String(now), headers: { 'x-timestamp': String(now - 1) } }),
      /signature/,
    );
  });

  it('nonce: the X-Nonce header differs from the signed one', async () => {
    assertUnauthorised(
      await call(ctx, { method: 'GET', url: listUrl, nonce: randomUUID(), headers: { 'x-nonce': randomUUID() } }),
      /signature/,
    );
  });

  it('a wrong secret', async () => {
    assertUnauthorised(
      await call(ctx, { method: 'GET', url: listUrl, creds: { apiKey: ctx.partner.apiKey, apiSecret: `${ctx.partner.apiSecret}x` } }),
      /signature/,
    );
    const other = await ctx.openramp.services.partners.create('Other Partner');
    assertUnauthorised(
      await call(ctx, { method: 'GET', url: listUrl, creds: { apiKey: ctx.partner.apiKey, apiSecret: other.apiSecret } }),
      /signature/,
    );
  });

  it('an unknown API key', async () => {
    assertUnauthorised(
      await call(ctx, {
        method: 'GET',
        url: listUrl,
        creds: { apiKey: 'ork_test_doesnotexist000000000000', apiSecret: ctx.partner.apiSecret },
      }),
      /unknown or revoked API key/,
    );
  });

  it('a malformed signature (not 64 hex characters)', async () => {
    assertUnauthorised(await call(ctx, { method: 'GET', url: listUrl, headers: { 'x-signature': 'not-a-signature' } }), /signature/);
  });

  for (const [hdr, name] of [
    ['x-api-key', 'X-API-Key'],
    ['x-timestamp', 'X-Timestamp'],
    ['x-nonce', 'X-Nonce'],
    ['x-signature', 'X-Signature'],
  ] as const) {
    it(`missing ${name}`, async () => {
      assertUnauthorised(await send(ctx, { method: 'GET', url: listUrl }, { drop: [hdr] }), new RegExp(`missing ${name} header`));
      assertUnauthorised(
        await send(
          ctx,
          { method: 'POST', url: '/customer/create', body: { name: 'No Header', email: uniqueEmail('nohdr') } },
          { drop: [hdr] },
        ),
        new RegExp(`missing ${name} header`),
      );
    });
  }

  it('no auth headers at all: 401, and an unsigned request with an invalid body learns nothing about the schema', async () => {
    const r = await injectRaw(ctx, {
      method: 'POST',
      url: '/customer/create',
      headers: { 'content-type': 'application/json' },
      payload: '{"nope":1}',
    });
    assertUnauthorised(r, /missing X-API-Key header/);
    assert.doesNotMatch(r.json.message, /name|email|required/);
  });

  it('a refused request does not burn its nonce', async () => {
    const nonce = randomUUID();
    assertUnauthorised(await call(ctx, { method: 'GET', url: listUrl, nonce, sign: { path: '/other' } }), /signature/);
    assertOk(await call(ctx, { method: 'GET', url: listUrl, nonce }));
  });

  it('the 401 envelope is exactly {status, message} with a JSON content type', async () => {
    const r = await send(ctx, { method: 'GET', url: listUrl }, { drop: ['x-signature'] });
    assert.equal(r.status, 401);
    assert.deepEqual(Object.keys(r.json).sort(), ['message', 'status']);
    assert.equal(r.json.status, 'UNAUTHORISED');
    assert.match(String(r.headers['content-type']), /^application\/json/);
    const unknown = await call(ctx, { method: 'GET', url: listUrl, creds: { apiKey: 'ork_test_nobody', apiSecret: 'x' } });
    assert.deepEqual(Object.keys(unknown.json).sort(), ['message', 'status']);
  });
});

// ---------------------------------------------------------------------------------------------
// 4. replay, timestamp window, nonce store across processes

describe('replayed nonces and stale timestamps', () => {
  let ctx: TestContext; // system clock
  let ctxFrozen: TestContext; // default 60 s window, clock under test control
  let ctxWindow5: TestContext; // OPENRAMP_AUTH_WINDOW_SECONDS=5
  const clock = frozenClock(midMinuteMs());
  const clock5 = frozenClock(midMinuteMs());
  before(async () => {
    ctx = await createTestContext();
    ctxFrozen = await createTestContext({ clock });
    ctxWindow5 = await createTestContext({ clock: clock5, env: { OPENRAMP_AUTH_WINDOW_SECONDS: '5' } });
  });
  after(async () => {
    await ctx.close();
    await ctxFrozen.close();
    await ctxWindow5.close();
  });

  it('the same request twice: the second is refused and mentions the nonce', async () => {
    const headers = signedHeaders({ method: 'GET', url: '/basic-info' }, ctx.partner);
    assertOk(await injectRaw(ctx, { method: 'GET', url: '/basic-info', headers }));
    assertUnauthorised(await injectRaw(ctx, { method: 'GET', url: '/basic-info', headers }), /nonce/i);
  });

  it('a replayed POST does not run twice', async () => {
    const body = { name: 'Replay Target', email: uniqueEmail('replay') };
    const payload = JSON.stringify(body);
    const headers = signedHeaders({ method: 'POST', url: '/customer/create', body }, ctx.partner);
    assertOk(await injectRaw(ctx, { method: 'POST', url: '/customer/create', headers, payload }));
    assertUnauthorised(await injectRaw(ctx, { method: 'POST', url: '/customer/create', headers, payload }), /nonce/i);
    const events = await ctx.openramp.services.db.selectFrom('customers').select('id').where('email', '=', body.email).execute();
    assert.equal(events.length, 1);
  });

  it('the same request sent twice at once to one app: exactly one succeeds', async () => {
    for (let i = 0; i < 5; i++) {
      const headers = signedHeaders({ method: 'GET', url: '/basic-info' }, ctx.partner);
      const results = await Promise.all([1, 2, 3].map(() => injectRaw(ctx, { method: 'GET', url: '/basic-info', headers })));
      assert.deepEqual(results.map((r) => r.status).sort(), [200, 401, 401], results.map((r) => r.body).join(' | '));
    }
  });

  it('a nonce cannot be reused for a different, freshly signed request of the same key; other keys have their own nonces', async () => {
    const nonce = randomUUID();
    assertOk(await call(ctx, { method: 'GET', url: '/basic-info', nonce }));
    assertUnauthorised(await call(ctx, { method: 'GET', url: '/customer/list', nonce }), /nonce/i);
    const other = await ctx.openramp.services.partners.create('Nonce Neighbour');
    assertOk(await call(ctx, { method: 'GET', url: '/basic-info', nonce, creds: other }));
  });

  it('timestamp window 60 s each way: −61 s and +61 s refused, −60/−59/+59/+60 s accepted', async () => {
    const now = clock.now().getTime() / 1000;
    for (const d of [-61, 61, -3600, 3600]) {
      assertUnauthorised(await call(ctxFrozen, { method: 'GET', url: '/basic-info', timestamp: String(now + d) }), /window of 60 s/);
    }
    for (const d of [-60, -59, 0, 59, 60]) {
      assertOk(await call(ctxFrozen, { method: 'GET', url: '/basic-info', timestamp: String(now + d) }));
    }
  });

  it('timestamps that are not unix seconds are refused', async () => {
    const now = clock.now().getTime();
    for (const ts of [String(now), `${now / 1000}.0`, '1.7e9', '-1', ' 1700000000', 'abc']) {
      assertUnauthorised(await call(ctxFrozen, { method: 'GET', url: '/basic-info', timestamp: ts }));
    }
  });

  it('the system clock variant: now − 61 s refused, now − 59 s accepted', async () => {
    const now = Math.floor(Date.now() / 1000);
    assertUnauthorised(await call(ctx, { method: 'GET', url: '/basic-info', timestamp: String(now - 61) }), /X-Timestamp/);
    assertOk(await call(ctx, { method: 'GET', url: '/basic-info', timestamp: String(now - 59) }));
  });

  it('the window is configurable (OPENRAMP_AUTH_WINDOW_SECONDS=5)', async () => {
    const now = clock5.now().getTime() / 1000;
    for (const d of [-6, 6, -59]) {
      assertUnauthorised(await call(ctxWindow5, { method: 'GET', url: '/basic-info', timestamp: String(now + d) }), /window of 5 s/);
    }
    for (const d of [-5, 0, 5]) assertOk(await call(ctxWindow5, { method: 'GET', url: '/basic-info', timestamp: String(now + d) }));
  });

  it('a nonce stays used for twice the window, even with a fresh timestamp', async () => {
    const nonce = randomUUID();
    const start = clock.now().getTime();
    const ts = () => String(clock.now().getTime() / 1000);
    assertOk(await call(ctxFrozen, { method: 'GET', url: '/basic-info', nonce, timestamp: ts() }));
    clock.advance(60_000);
    assertUnauthorised(await call(ctxFrozen, { method: 'GET', url: '/basic-info', nonce, timestamp: ts() }), /nonce/i);
    clock.advance(59_000);
    assertUnauthorised(await call(ctxFrozen, { method: 'GET', url: '/basic-info', nonce, timestamp: ts() }), /nonce/i);
    // Past 2 × window no request signed with the old timestamp can still be inside the window,
    // so the store forgets the nonce.
    clock.advance(2_000);
    assertOk(await call(ctxFrozen, { method: 'GET', url: '/basic-info', nonce, timestamp: ts() }));
    clock.set(start);
  });

  describe('across two server processes on one database', () => {
    let pair: Awaited<ReturnType<typeof createTwoAppsOnOneDatabase>>;
    before(async () => {
      pair = await createTwoAppsOnOneDatabase();
    });
    after(() => pair.close());

    it('both apps accept the partner’s key (shared database and master key)', async () => {
      assertOk(await call(pair.a, { method: 'GET', url: '/basic-info' }));
      assertOk(await call(pair.b, { method: 'GET', url: '/basic-info' }));
    });

    it('a nonce accepted by app A is refused by app B, and vice versa', async () => {
      const h1 = signedHeaders({ method: 'GET', url: '/basic-info' }, pair.a.partner);
      assertOk(await injectRaw(pair.a, { method: 'GET', url: '/basic-info', headers: h1 }));
      assertUnauthorised(await injectRaw(pair.b, { method: 'GET', url: '/basic-info', headers: h1 }), /nonce/i);

      const body = { name: 'Cross Process', email: uniqueEmail('xproc') };
      const payload = JSON.stringify(body);
      const h2 = signedHeaders({ method: 'POST', url: '/customer/create', body }, pair.a.partner);
      assertOk(await injectRaw(pair.b, { method: 'POST', url: '/customer/create', headers: h2, payload }));
      assertUnauthorised(await injectRaw(pair.a, { method: 'POST', url: '/customer/create', headers: h2, payload }), /nonce/i);
      const rows = await pair.a.openramp.services.db.selectFrom('customers').select('id').where('email', '=', body.email).execute();
      assert.equal(rows.length, 1);
    });

    it('the same request sent to both apps at once: exactly one succeeds', async () => {
      for (let i = 0; i < 5; i++) {
        const headers = signedHeaders({ method: 'GET', url: '/basic-info' }, pair.a.partner);
        const results = await Promise.all([
          injectRaw(pair.a, { method: 'GET', url: '/basic-info', headers }),
          injectRaw(pair.b, { method: 'GET', url: '/basic-info', headers }),
        ]);
        assert.deepEqual(results.map((r) => r.status).sort(), [200, 401], results.map((r) => r.body).join(' | '));
      }
    });
  });
});

// ---------------------------------------------------------------------------------------------
// 5. IP whitelist

describe('IP whitelist', () => {
  let ctx: TestContext;
  let creds: Creds & { partnerId: string };
  before(async () => {
    ctx = await createTestContext();
    creds = await ctx.openramp.services.partners.create('IP Partner');
  });
  after(() => ctx.close());

  const get = (opts: { remoteAddress?: string } = {}) => send(ctx, { method: 'GET', url: '/basic-info', creds }, opts);
  const setViaApi = (ipWhiteList: unknown[]) => call(ctx, { method: 'POST', url: '/ip-white-list', body: { ipWhiteList }, creds });

  it('empty whitelist = no restriction', async () => {
    const r = await call(ctx, { method: 'GET', url: '/ip-white-list', creds });
    assertOk(r);
    assert.deepEqual(r.json.data.ipWhiteList, []);
    assertOk(await get());
  });

  it('a whitelist without the caller’s address locks it out (401 naming the IP whitelist); listed addresses pass', async () => {
    assertOk(await setViaApi(['10.0.0.0/8']));
    assertUnauthorised(await get(), /IP whitelist/);
    assertUnauthorised(await get(), /127\.0\.0\.1/);
    // Writes are refused too, including clearing the whitelist through the API.
    assertUnauthorised(await setViaApi([]), /IP whitelist/);
    // Addresses inside the range pass, also IPv4-mapped IPv6.
    assertOk(await get({ remoteAddress: '10.1.2.3' }));
    assertOk(await get({ remoteAddress: '::ffff:10.200.0.1' }));
    assertUnauthorised(await get({ remoteAddress: '11.0.0.1' }), /IP whitelist/);
    // Other partners are unaffected.
    assertOk(await call(ctx, { method: 'GET', url: '/basic-info' }));
    await ctx.openramp.services.partners.setIpWhitelist(creds.partnerId, []);
    assertOk(await get());
  });

  it('["127.0.0.1"] and ["127.0.0.0/8"] let the caller in', async () => {
    assertOk(await setViaApi(['127.0.0.1']));
    assertOk(await get());
    assertUnauthorised(await get({ remoteAddress: '127.0.0.2' }), /IP whitelist/);
    assertOk(await setViaApi(['127.0.0.0/8']));
    assertOk(await get());
    assertOk(await get({ remoteAddress: '127.0.0.2' }));
    const r = await call(ctx, { method: 'GET', url: '/ip-white-list', creds });
    assert.deepEqual(r.json.data.ipWhiteList, ['127.0.0.0/8']);
  });

  it('IPv6 entries', async () => {
    assertOk(await setViaApi(['127.0.0.1', '2001:db8::/32']));
    assertOk(await get({ remoteAddress: '2001:db8::1' }));
    assertUnauthorised(await get({ remoteAddress: '2001:db9::1' }), /IP whitelist/);
    await ctx.openramp.services.partners.setIpWhitelist(creds.partnerId, []);
  });

  it('invalid entries are refused with 422 INVALID_PARAMETERS naming ipWhiteList, and change nothing', async () => {
    assertOk(await setViaApi(['127.0.0.1']));
    for (const bad of ['300.1.1.1', 'abc', '10.0.0.0/33', '10.1', '192.168/16', '0x7f.0.0.1', '']) {
      const r = await setViaApi(['127.0.0.1', bad]);
      assert.equal(r.status, 422, `${JSON.stringify(bad)}: ${r.body}`);
      assert.equal(r.json.status, 'INVALID_PARAMETERS');
      assert.match(r.json.message, /ipWhiteList/);
      if (bad !== '') assert.ok(r.json.message.includes(bad), r.json.message);
    }
    const r = await call(ctx, { method: 'GET', url: '/ip-white-list', creds });
    assert.deepEqual(r.json.data.ipWhiteList, ['127.0.0.1']);
    await ctx.openramp.services.partners.setIpWhitelist(creds.partnerId, []);
  });

  it('isValidIpOrCidr: strict dotted-quad IPv4 in plain and CIDR entries', () => {
    for (const ok of ['127.0.0.1', '10.0.0.0/8', '0.0.0.0/0', '::1', '2001:db8::/32', '::ffff:10.0.0.1'])
      assert.equal(isValidIpOrCidr(ok), true, ok);
    // '192.168/16' would parse (classful) as 192.0.0.168/16, i.e. 192.0.0.0/16: silently wrong.
    for (const bad of ['300.1.1.1', 'abc', '10.1', '10.1/8', '192.168/16', '0x7f.0.0.1/8', '10.0.0.0/33', '10.0.0.0/', '/8', ''])
      assert.equal(isValidIpOrCidr(bad), false, bad);
  });
});

// ---------------------------------------------------------------------------------------------
// 6. rate limit

describe('rate limit', () => {
  let ctx: TestContext;
  const clock = frozenClock(midMinuteMs());
  before(async () => {
    ctx = await createTestContext({ clock, env: { OPENRAMP_RATE_LIMIT_PER_MINUTE: '5' } });
  });
  after(() => ctx.close());

  const ts = () => String(Math.floor(clock.now().getTime() / 1000));

  it('the 6th request within the minute gets 429 FAILED with a positive integer Retry-After; the next minute is open again', async () => {
    for (let i = 1; i <= 5; i++) assertOk(await call(ctx, { method: 'GET', url: '/basic-info', timestamp: ts() }));
    const r = await call(ctx, { method: 'GET', url: '/basic-info', timestamp: ts() });
    assert.equal(r.status, 429, r.body);
    assert.equal(r.json.status, 'FAILED');
    assert.deepEqual(Object.keys(r.json).sort(), ['message', 'status']);
    assert.match(r.json.message, /rate limit/);
    const retryAfter = String(r.headers['retry-after']);
    assert.match(retryAfter, /^[1-9]\d*$/);
    assert.equal(Number(retryAfter), 30, 'frozen at mid-minute: 30 s to the next window');
    // Another partner has its own budget.
    const other = await ctx.openramp.services.partners.create('Rate Neighbour');
    assertOk(await call(ctx, { method: 'GET', url: '/basic-info', timestamp: ts(), creds: other }));
    // After Retry-After the key is served again.
    clock.advance(Number(retryAfter) * 1000);
    assertOk(await call(ctx, { method: 'GET', url: '/basic-info', timestamp: ts() }));
  });
});

// ---------------------------------------------------------------------------------------------
// 7. key rotation

describe('API key rotation', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestContext();
  });
  after(() => ctx.close());

  it('two active keys both sign; a third is refused; a revoked key gets 401', async () => {
    const partners = ctx.openramp.services.partners;
    const p = await partners.create('Rotating Partner');
    const second = await partners.createApiKey(p.partnerId);
    assert.notEqual(second.apiKey, p.apiKey);
    for (const creds of [p, second]) {
      const r = await call(ctx, { method: 'GET', url: '/basic-info', creds });
      assertOk(r);
      assert.equal(r.json.data.partnerId, p.partnerId);
    }
    // Each key signs only with its own secret.
    assertUnauthorised(
      await call(ctx, { method: 'GET', url: '/basic-info', creds: { apiKey: second.apiKey, apiSecret: p.apiSecret } }),
      /signature/,
    );

    await assert.rejects(
      partners.createApiKey(p.partnerId),
      (e: unknown) => e instanceof AppError && e.code === 'PRECONDITION_FAILED' && /2 active API keys/.test(e.message),
    );
    assert.equal((await partners.listApiKeys(p.partnerId)).filter((k) => k.status === 'ACTIVE').length, 2);

    const original = (await partners.listApiKeys(p.partnerId)).find((k) => k.apiKey === p.apiKey)!;
    await partners.revokeApiKey(p.partnerId, original.keyId);
    assertUnauthorised(await call(ctx, { method: 'GET', url: '/basic-info', creds: p }), /unknown or revoked API key/);
    assertOk(await call(ctx, { method: 'GET', url: '/basic-info', creds: second }));
    // With one key revoked a new one may be created, and it works at once.
    const third = await partners.createApiKey(p.partnerId);
    assertOk(await call(ctx, { method: 'GET', url: '/basic-info', creds: third }));
    assertUnauthorised(await call(ctx, { method: 'GET', url: '/basic-info', creds: p }), /unknown or revoked API key/);
  });
});

// ---------------------------------------------------------------------------------------------
// 8. another partner's ids behave exactly like unknown ids

describe('partner scoping: another partner’s id behaves exactly like an unknown id', () => {
  let ctx: TestContext;
  let b: Creds & { partnerId: string };
  let a: { customerId: string; bankAccountId: string; email: string; flowId: string; depositAddressId: string };
  before(async () => {
    ctx = await createTestContext();
    const onb = await onboard(ctx, { name: 'Alice Anders' });
    await call(ctx, {
      method: 'POST',
      url: '/customer/create',
      body: { name: 'Alice Ext', email: uniqueEmail('ext'), externalId: 'ext-alice' },
    });
    const flow = await call(ctx, {
      method: 'POST',
      url: '/autoramp-flow/offramp',
      body: { from: { customerId: onb.customerId, currency: 'USDT', network: 'ETH' }, to: onb.bankAccountId },
    });
    assertOk(flow);
    a = { ...onb, flowId: flow.json.flowId, depositAddressId: flow.json.data.depositAddressId };
    b = await ctx.openramp.services.partners.create('B');
  });
  after(() => ctx.close());

  /** A well-formed id of the same kind that never existed. */
  const fake = (id: string) => `${id.slice(0, -6)}ZZZZZZ`;

  async function rowCounts() {
    const db = ctx.openramp.services.db;
    const n = async (q: Promise<{ n: string | number | bigint }>) => Number((await q).n);
    return {
      flows: await n(
        db
          .selectFrom('flows')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow(),
      ),
      deposit_addresses: await n(
        db
          .selectFrom('deposit_addresses')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow(),
      ),
      customer_derivations: await n(
        db
          .selectFrom('customer_derivations')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow(),
      ),
      bank_accounts: await n(
        db
          .selectFrom('bank_accounts')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow(),
      ),
      events: await n(
        db
          .selectFrom('events')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow(),
      ),
    };
  }

  /** Same HTTP status, same contract status, same message once the id is masked, says "not found". */
  function assertSameAsUnknown(foreign: Result, unknown: Result, ids: [string, string][]) {
    assert.equal(foreign.status, unknown.status, `${foreign.body} vs ${unknown.body}`);
    assert.equal(foreign.status, 422);
    assert.deepEqual(Object.keys(foreign.json).sort(), ['message', 'status']);
    assert.deepEqual(Object.keys(unknown.json).sort(), ['message', 'status']);
    assert.equal(foreign.json.status, unknown.json.status);
    assert.equal(foreign.json.status, 'FAILED');
    let fm: string = foreign.json.message;
    let um: string = unknown.json.message;
    for (const [foreignId, unknownId] of ids) {
      fm = fm.split(foreignId).join('<id>');
      um = um.split(unknownId).join('<id>');
    }
    assert.equal(fm, um);
    assert.match(fm, /not found/);
  }

  it('control: partner A sees its own objects', async () => {
    for (const url of [
      `/customer/detail?id=${a.customerId}`,
      `/bank-account/detail?id=${a.bankAccountId}`,
      `/deposit-address/detail?id=${a.depositAddressId}`,
      `/autoramp-flow/detail?id=${a.flowId}`,
    ]) {
      assertOk(await call(ctx, { method: 'GET', url }));
    }
  });

  for (const [label, path, key] of [
    ['customer', '/customer/detail', 'customerId'],
    ['bank account', '/bank-account/detail', 'bankAccountId'],
    ['deposit address', '/deposit-address/detail', 'depositAddressId'],
    ['flow', '/autoramp-flow/detail', 'flowId'],
  ] as const) {
    it(`GET ${path}?id= of A's ${label} as B`, async () => {
      const id = a[key];
      const foreign = await call(ctx, { method: 'GET', url: `${path}?id=${id}`, creds: b });
      const unknown = await call(ctx, { method: 'GET', url: `${path}?id=${fake(id)}`, creds: b });
      assertSameAsUnknown(foreign, unknown, [[id, fake(id)]]);
    });
  }

  it('GET /customer/detail by A’s email and externalId as B', async () => {
    const byEmail = await call(ctx, { method: 'GET', url: `/customer/detail?email=${encodeURIComponent(a.email)}`, creds: b });
    const unknownEmail = 'nobody-ever@example.com';
    const byUnknownEmail = await call(ctx, { method: 'GET', url: `/customer/detail?email=${encodeURIComponent(unknownEmail)}`, creds: b });
    assertSameAsUnknown(byEmail, byUnknownEmail, [[a.email, unknownEmail]]);
    const byExt = await call(ctx, { method: 'GET', url: '/customer/detail?externalId=ext-alice', creds: b });
    const byUnknownExt = await call(ctx, { method: 'GET', url: '/customer/detail?externalId=ext-nobody', creds: b });
    assertSameAsUnknown(byExt, byUnknownExt, [['ext-alice', 'ext-nobody']]);
  });

  it('B’s lists do not contain A’s objects', async () => {
    for (const url of [
      '/customer/list?pageSize=100',
      '/bank-account/list?pageSize=100',
      '/deposit-address/list?pageSize=100',
      '/autoramp-flow/list?pageSize=100',
    ]) {
      const r = await call(ctx, { method: 'GET', url, creds: b });
      assertOk(r);
      assert.equal(r.json.data.total, 0, `${url}: ${r.body}`);
    }
    const own = await call(ctx, { method: 'GET', url: `/bank-account/list?customerId=${a.customerId}`, creds: b });
    assert.equal(own.json.data.total, 0);
  });

  it('POST /autoramp-flow/offramp with A’s customer and bank account as B: same as unknown ids, nothing written', async () => {
    const before = await rowCounts();
    const foreign = await call(ctx, {
      method: 'POST',
      url: '/autoramp-flow/offramp',
      creds: b,
      body: { from: { customerId: a.customerId, currency: 'USDT', network: 'TRX' }, to: a.bankAccountId },
    });
    const unknown = await call(ctx, {
      method: 'POST',
      url: '/autoramp-flow/offramp',
      creds: b,
      body: { from: { customerId: fake(a.customerId), currency: 'USDT', network: 'TRX' }, to: fake(a.bankAccountId) },
    });
    assertSameAsUnknown(foreign, unknown, [
      [a.customerId, fake(a.customerId)],
      [a.bankAccountId, fake(a.bankAccountId)],
    ]);
    assert.deepEqual(await rowCounts(), before);
  });

  it('B’s own customer with A’s bank account: same as an unknown bank account, nothing written', async () => {
    const bOwn = await onboard(ctx, { name: 'Bob Berg', creds: b });
    const before = await rowCounts();
    const foreign = await call(ctx, {
      method: 'POST',
      url: '/autoramp-flow/offramp',
      creds: b,
      body: { from: { customerId: bOwn.customerId, currency: 'USDT', network: 'TRX' }, to: a.bankAccountId },
    });
    const unknown = await call(ctx, {
      method: 'POST',
      url: '/autoramp-flow/offramp',
      creds: b,
      body: { from: { customerId: bOwn.customerId, currency: 'USDT', network: 'TRX' }, to: fake(a.bankAccountId) },
    });
    assertSameAsUnknown(foreign, unknown, [[a.bankAccountId, fake(a.bankAccountId)]]);
    assert.match(foreign.json.message, /bank account/);
    assert.deepEqual(await rowCounts(), before);
  });

  it('POST /autoramp-flow/create, /autoramp-flow/delete and /deposit-address/create with A’s ids as B: same as unknown ids, nothing written', async () => {
    const before = await rowCounts();
    const c1 = await call(ctx, {
      method: 'POST',
      url: '/autoramp-flow/create',
      creds: b,
      body: { type: 'OFFRAMP', from: a.depositAddressId, to: a.bankAccountId },
    });
    const c2 = await call(ctx, {
      method: 'POST',
      url: '/autoramp-flow/create',
      creds: b,
      body: { type: 'OFFRAMP', from: fake(a.depositAddressId), to: fake(a.bankAccountId) },
    });
    assertSameAsUnknown(c1, c2, [
      [a.depositAddressId, fake(a.depositAddressId)],
      [a.bankAccountId, fake(a.bankAccountId)],
    ]);
    const d1 = await call(ctx, { method: 'POST', url: '/autoramp-flow/delete', creds: b, body: { id: a.flowId } });
    const d2 = await call(ctx, { method: 'POST', url: '/autoramp-flow/delete', creds: b, body: { id: fake(a.flowId) } });
    assertSameAsUnknown(d1, d2, [[a.flowId, fake(a.flowId)]]);
    const da1 = await call(ctx, {
      method: 'POST',
      url: '/deposit-address/create',
      creds: b,
      body: { customerId: a.customerId, currency: 'USDC', network: 'MATIC' },
    });
    const da2 = await call(ctx, {
      method: 'POST',
      url: '/deposit-address/create',
      creds: b,
      body: { customerId: fake(a.customerId), currency: 'USDC', network: 'MATIC' },
    });
    assertSameAsUnknown(da1, da2, [[a.customerId, fake(a.customerId)]]);
    assert.deepEqual(await rowCounts(), before);
    // A's flow is untouched.
    const flow = await call(ctx, { method: 'GET', url: `/autoramp-flow/detail?id=${a.flowId}` });
    assertOk(flow);
    assert.equal(flow.json.data.status, 'ENABLED');
    assert.equal(flow.json.data.deletedAt, null);
  });
});
