import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { countRows, createTestContext, signedHeaders, type SignedRequest, type TestContext } from './helpers/harness.ts';
import { encodeMultipart, signRequest as sdkSignRequest } from '../sdk/src/index.ts';
import { frozenClock, listen, signedWire, wire, type WireResponse } from './helpers/wire.ts';

/**
 * The outside audit's findings, re-run as the audit ran them: over a real socket
 * (`listen({ port: 0 })`) wherever the bytes on the wire matter — multipart bodies, forwarded
 * addresses, timeouts, duplicate headers, Node's parser errors. docs/security.md lists them.
 */

type Creds = { apiKey: string; apiSecret: string; partnerId: string };

/**
 * Writes raw bytes on a new connection and collects everything until the server closes it.
 * `ms` is the time from the write to the close.
 */
function rawExchange(port: number, bytes: string): Promise<{ text: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let start = 0;
    socket.on('connect', () => {
      start = performance.now();
      socket.write(bytes);
    });
    socket.on('data', (c) => {
      text += c.toString('latin1');
    });
    socket.on('error', () => {}); // a reset after the answer is still a close
    socket.on('close', () => resolve({ text, ms: performance.now() - start }));
    socket.setTimeout(20_000, () => {
      socket.destroy();
      reject(new Error(`server did not close the connection; got: ${text.slice(0, 300)}`));
    });
  });
}

/** Status line, headers and JSON body of one raw HTTP/1.1 response. */
function parseRaw(text: string) {
  const end = text.indexOf('\r\n\r\n');
  assert.ok(end > 0, `no HTTP response: ${JSON.stringify(text.slice(0, 200))}`);
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine!.split(' ')[1]), headers, json: JSON.parse(text.slice(end + 4)) };
}

/** The contract's error envelope, exactly: no framework fields, no internal codes. */
function assertEnvelope(json: unknown, status: 'INVALID_PARAMETERS' | 'UNAUTHORISED' | 'FAILED', raw = JSON.stringify(json)) {
  assert.deepEqual(Object.keys(json as object).sort(), ['message', 'status'], raw);
  assert.equal((json as { status: string }).status, status, raw);
  assert.doesNotMatch(raw, /FST_|HPE_|ERR_|statusCode|"error"/, raw);
}

function assertRefused(r: WireResponse, httpStatus: number, code: string, contract: 'INVALID_PARAMETERS' | 'UNAUTHORISED' | 'FAILED') {
  assert.equal(r.status, httpStatus, r.body);
  assertEnvelope(r.json, contract, r.body);
  assert.equal(r.headers['x-error-code'], code, r.body);
}

// ---------------------------------------------------------------------------------------------

describe('security (wire): signatures bind the whole request', () => {
  let ctx: TestContext;
  let port: number;
  let strict: Creds;
  let lax: Creds;
  before(async () => {
    ctx = await createTestContext();
    port = await listen(ctx);
    strict = await ctx.openramp.services.partners.create('Strict Partner');
    await ctx.openramp.services.partners.setStrictSigning(strict.partnerId, true);
    lax = await ctx.openramp.services.partners.create('Lax Partner');
  });
  after(() => ctx.close());

  async function customer(creds: Creds, name: string): Promise<string> {
    const r = await signedWire(port, {
      method: 'POST',
      url: '/customer/create',
      body: { name, email: `${randomUUID().slice(0, 8)}@example.com`, type: 'DEPOSITOR', isIndividual: true },
      creds,
    });
    assert.equal(r.status, 200, r.body);
    return r.json.customerId as string;
  }

  const bankForm = (customerId: string, iban: string, name: string) =>
    encodeMultipart(
      { customerId, currency: 'EUR', bankName: 'Deutsche Bank', iban, swift: 'DEUTDEFF', accountName: name },
      [{ field: 'statementFile', filename: 'statement.pdf', contentType: 'application/pdf', data: '%PDF-1.4 not really' }],
      '----OpenRampAuditBoundary', // the same boundary for both bodies: only the IBAN differs
    );

  it('multipart signed over its raw bytes: the same headers with a different IBAN → 401 SIGNATURE_MISMATCH, nothing written', async () => {
    for (const creds of [strict, lax]) {
      const customerId = await customer(creds, 'Mia Schulz');
      const good = bankForm(customerId, 'DE89370400440532013000', 'Mia Schulz');
      const swapped = bankForm(customerId, 'DE02120300000000202051', 'Mia Schulz');
      const url = `http://127.0.0.1:${port}/bank-account/add`;
      // The SDK signs exactly the bytes it encoded.
      const headers = { ...sdkSignRequest({ ...creds, method: 'POST', url, body: good.body }), 'Content-Type': good.contentType };
      const before = await countRows(ctx, 'bank_accounts');
      // The attacker's copy arrives first, with the captured headers and another body.
      const attack = await wire(port, { method: 'POST', path: '/bank-account/add', headers, body: swapped.body });
      assertRefused(attack, 401, 'SIGNATURE_MISMATCH', 'UNAUTHORISED');
      assert.equal(await countRows(ctx, 'bank_accounts'), before, 'the swapped body wrote nothing');
      // The genuine request (its nonce unspent: refused requests do not burn it) is accepted as signed.
      const genuine = await wire(port, { method: 'POST', path: '/bank-account/add', headers, body: good.body });
      assert.equal(genuine.status, 200, genuine.body);
      assert.equal(genuine.json.data.iban, 'DE89370400440532013000');
      assert.equal(await countRows(ctx, 'bank_accounts'), before + 1);
    }
  });

  it('strict signing mode refuses the empty body hash for multipart; other partners keep it (compatibility)', async () => {
    for (const [creds, accepted] of [
      [strict, false],
      [lax, true],
    ] as const) {
      const customerId = await customer(creds, 'Jon Berg');
      const form = bankForm(customerId, 'DE75512108001245126199', 'Jon Berg');
      const before = await countRows(ctx, 'bank_accounts');
      const r = await signedWire(port, {
        method: 'POST',
        url: '/bank-account/add',
        rawBody: Buffer.from(form.body).toString('utf8'),
        sign: { bodySha256Hex: '' },
        headers: { 'content-type': form.contentType },
        creds,
      });
      if (accepted) assert.equal(r.status, 200, r.body);
      else assertRefused(r, 401, 'SIGNATURE_MISMATCH', 'UNAUTHORISED');
      assert.equal(await countRows(ctx, 'bank_accounts'), before + (accepted ? 1 : 0));
    }
  });

  it('a malformed multipart body from a wrong signature is a 401, not a parse error', async () => {
    const r = await signedWire(port, {
      method: 'POST',
      url: '/bank-account/add',
      rawBody: '--XyZ\r\nContent-Disposition: form-data; name="customerId"\r\n\r\ncus',
      headers: { 'content-type': 'multipart/form-data; boundary=XyZ' },
      sign: { bodySha256Hex: 'f'.repeat(64) },
      creds: lax,
    });
    assertRefused(r, 401, 'SIGNATURE_MISMATCH', 'UNAUTHORISED');
  });

  it('multipart is refused with 415 on every route whose contract does not use it (after authentication), writing nothing', async () => {
    const form = encodeMultipart({ name: 'Eve Moss', email: 'eve@example.com', type: 'DEPOSITOR', isIndividual: 'true' });
    const rawBody = Buffer.from(form.body).toString('utf8');
    const before = await countRows(ctx, 'customers');
    for (const url of ['/customer/create', '/callback-url', '/ip-white-list']) {
      const r = await signedWire(port, { method: 'POST', url, rawBody, headers: { 'content-type': form.contentType }, creds: lax });
      assertRefused(r, 415, 'UNSUPPORTED_MEDIA_TYPE', 'INVALID_PARAMETERS');
      const unsigned = await wire(port, {
        method: 'POST',
        path: url,
        headers: { host: `127.0.0.1:${port}`, 'content-type': form.contentType },
        body: form.body,
      });
      assert.equal(unsigned.status, 401, unsigned.body);
    }
    assert.equal(await countRows(ctx, 'customers'), before);
  });

  it('signature hex must be lowercase: the upper-cased signature of a valid request → 401 SIGNATURE_MISMATCH', async () => {
    const headers = signedHeaders({ method: 'GET', url: '/basic-info', host: `127.0.0.1:${port}` }, lax);
    const upper = await wire(port, {
      method: 'GET',
      path: '/basic-info',
      headers: { ...headers, 'x-signature': headers['x-signature'].toUpperCase() },
    });
    assertRefused(upper, 401, 'SIGNATURE_MISMATCH', 'UNAUTHORISED');
    const lower = await wire(port, { method: 'GET', path: '/basic-info', headers });
    assert.equal(lower.status, 200, lower.body);
  });

  it('each authentication failure has its stable code, with the contract’s 401 UNAUTHORISED', async () => {
    const get = (r: Partial<SignedRequest> & { creds: Creds }, extra: Record<string, string> = {}) =>
      signedWire(port, { method: 'GET', url: '/basic-info', ...r }, { headers: extra });
    assertRefused(await get({ creds: { ...lax, apiKey: 'ork_test_unknown' } }), 401, 'UNKNOWN_API_KEY', 'UNAUTHORISED');
    const stale = String(Math.floor(Date.now() / 1000) - 3600);
    assertRefused(await get({ creds: lax, timestamp: stale }), 401, 'TIMESTAMP_OUT_OF_WINDOW', 'UNAUTHORISED');
    assertRefused(await get({ creds: lax, timestamp: 'yesterday' }), 401, 'TIMESTAMP_OUT_OF_WINDOW', 'UNAUTHORISED');
    assertRefused(await get({ creds: { ...lax, apiSecret: 'ors_wrong' } }), 401, 'SIGNATURE_MISMATCH', 'UNAUTHORISED');
    const nonce = randomUUID();
    assert.equal((await get({ creds: lax, nonce })).status, 200);
    assertRefused(await get({ creds: lax, nonce }), 401, 'NONCE_REPLAYED', 'UNAUTHORISED');
    const fenced = await ctx.openramp.services.partners.create('Fenced Partner');
    await ctx.openramp.services.partners.setIpWhitelist(fenced.partnerId, ['10.9.9.9']);
    assertRefused(await get({ creds: fenced }), 401, 'IP_NOT_ALLOWED', 'UNAUTHORISED');
    // Missing headers keep the generic code.
    const bare = await wire(port, { method: 'GET', path: '/basic-info', headers: { host: `127.0.0.1:${port}` } });
    assertRefused(bare, 401, 'UNAUTHORISED', 'UNAUTHORISED');
  });
});

// ---------------------------------------------------------------------------------------------

describe('security (wire): no trusted proxy, timeouts, parser errors', () => {
  const HEADERS_TIMEOUT_MS = 300;
  const REQUEST_TIMEOUT_MS = 600;
  let ctx: TestContext;
  let port: number;
  before(async () => {
    ctx = await createTestContext({
      env: { OPENRAMP_HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), OPENRAMP_HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) },
    });
    port = await listen(ctx);
  });
  after(() => ctx.close());

  it('X-Forwarded-For is ignored when no proxy is trusted: whitelist ["10.1.2.3"] refuses 127.0.0.1 claiming it, without echoing it', async () => {
    const p = await ctx.openramp.services.partners.create('Whitelisted Partner');
    await ctx.openramp.services.partners.setIpWhitelist(p.partnerId, ['10.1.2.3']);
    for (const xff of ['10.1.2.3', '10.1.2.3, 203.0.113.7', '203.0.113.7, 10.1.2.3']) {
      const r = await signedWire(port, { method: 'GET', url: '/basic-info', creds: p }, { headers: { 'x-forwarded-for': xff } });
      assertRefused(r, 401, 'IP_NOT_ALLOWED', 'UNAUTHORISED');
      assert.ok(!r.body.includes('10.1.2.3') && !r.body.includes('203.0.113.7'), `forwarded address echoed: ${r.body}`);
    }
  });

  it('a request that declares Content-Length: 10 and sends no body is answered 408 and closed within the request timeout', async () => {
    const headers = signedHeaders(
      { method: 'POST', url: '/customer/create', host: `127.0.0.1:${port}`, rawBody: '{"a":"b"}x' },
      ctx.partner,
    );
    const head = Object.entries({ ...headers, 'content-length': '10' })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    const { text, ms } = await rawExchange(port, `POST /customer/create HTTP/1.1\r\n${head}\r\n`);
    const res = parseRaw(text);
    assert.equal(res.status, 408, text);
    assertEnvelope(res.json, 'FAILED');
    assert.equal(res.headers['x-error-code'], 'REQUEST_TIMEOUT');
    assert.ok(ms >= REQUEST_TIMEOUT_MS - 50, `closed after ${ms} ms: before the timeout, so not by it`);
    assert.ok(ms < REQUEST_TIMEOUT_MS + 2000, `closed after ${ms} ms, long after the ${REQUEST_TIMEOUT_MS} ms timeout`);
  });

  it('headers that never finish (slowloris) are cut off within the headers timeout', async () => {
    const { text, ms } = await rawExchange(port, `GET /basic-info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n`);
    const res = parseRaw(text);
    assert.equal(res.status, 408, text);
    assertEnvelope(res.json, 'FAILED');
    assert.ok(ms >= HEADERS_TIMEOUT_MS - 50 && ms < HEADERS_TIMEOUT_MS + 2000, `closed after ${ms} ms`);
  });

  it('an unsigned 1 MiB body is refused before it is sent: the 401 arrives while the body is still unsent', async () => {
    // Nothing of the body is ever written: a server that waited for it would answer 408 instead.
    const r = await new Promise<WireResponse>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/customer/create',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': String(1024 * 1024) },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: JSON.parse(body) });
        });
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    assertRefused(r, 401, 'UNAUTHORISED', 'UNAUTHORISED');
  });

  it('an unknown API key with a valid-looking signature is refused before the body too', async () => {
    const headers = signedHeaders(
      { method: 'POST', url: '/customer/create', host: `127.0.0.1:${port}`, rawBody: 'x'.repeat(1024 * 1024) },
      { apiKey: 'ork_test_nobody', apiSecret: 'ors_x' },
    );
    const r = await new Promise<WireResponse>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/customer/create', agent: false, headers });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: JSON.parse(body) });
        });
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    assertRefused(r, 401, 'UNKNOWN_API_KEY', 'UNAUTHORISED');
  });

  it('two Host headers → 400 in the envelope', async () => {
    const { text } = await rawExchange(port, 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n');
    const res = parseRaw(text);
    assert.equal(res.status, 400, text);
    assertEnvelope(res.json, 'INVALID_PARAMETERS');
    assert.equal(res.headers['x-error-code'], 'BAD_REQUEST');
  });

  it('Node’s parser errors (431 headers too large, 400 malformed) and the router’s (414, 400 bad URL) answer in the envelope', async () => {
    const big = await rawExchange(port, `GET /basic-info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    const r431 = parseRaw(big.text);
    assert.equal(r431.status, 431, big.text.slice(0, 300));
    assertEnvelope(r431.json, 'INVALID_PARAMETERS');

    const garbage = await rawExchange(port, 'THIS IS NOT HTTP\r\n\r\n');
    const r400 = parseRaw(garbage.text);
    assert.equal(r400.status, 400, garbage.text);
    assertEnvelope(r400.json, 'INVALID_PARAMETERS');

    const auth = { host: `127.0.0.1:${port}`, authorization: `Bearer ${ctx.operatorToken}` };
    const long = await wire(port, { method: 'GET', path: `/ops/partners/${'p'.repeat(300)}/api-keys`, headers: auth });
    assertRefused(long, 414, 'URI_TOO_LONG', 'INVALID_PARAMETERS');
    const badUrl = await wire(port, { method: 'GET', path: '/ops/partners/%E0%A4%A/api-keys', headers: auth });
    assertRefused(badUrl, 400, 'BAD_REQUEST', 'INVALID_PARAMETERS');
  });

  it('NUL and control characters in any path parameter → 422 INVALID_PARAMETERS (was a 500)', async () => {
    const auth = { host: `127.0.0.1:${port}`, authorization: `Bearer ${ctx.operatorToken}` };
    for (const bad of ['%00', 'par%01tner', '%7F', '%C2%85', 'a%0Ab']) {
      const r = await wire(port, { method: 'GET', path: `/ops/partners/${bad}/api-keys`, headers: auth });
      assertRefused(r, 422, 'INVALID_PARAMETERS', 'INVALID_PARAMETERS');
      assert.match(r.json.message, /^partnerId: must not contain control characters/);
    }
    const fine = await wire(port, { method: 'GET', path: `/ops/partners/${ctx.partner.partnerId}/api-keys`, headers: auth });
    assert.equal(fine.status, 200, fine.body);
  });
});

// ---------------------------------------------------------------------------------------------

describe('security (wire): trusted proxy 127.0.0.1, connection bound, failed-auth throttling', () => {
  const clock = frozenClock();
  const FAILURES_MAX = 5;
  let ctx: TestContext;
  let port: number;
  const ts = () => String(Math.floor(clock.now().getTime() / 1000));
  before(async () => {
    ctx = await createTestContext({
      authClock: clock,
      env: {
        OPENRAMP_TRUSTED_PROXIES: '127.0.0.1',
        OPENRAMP_HTTP_CONNECTIONS_MAX: '2',
        OPENRAMP_HTTP_KEEP_ALIVE_TIMEOUT_MS: '60000',
        OPENRAMP_AUTH_FAILURES_PER_MINUTE_MAX: String(FAILURES_MAX),
      },
    });
    port = await listen(ctx);
  });
  after(() => ctx.close());

  /** Waits until the server has let go of every connection (closes are processed asynchronously). */
  async function serverIdle(): Promise<void> {
    for (;;) {
      const n = await new Promise<number>((resolve, reject) =>
        ctx.openramp.api.server.getConnections((err, count) => (err ? reject(err) : resolve(count))),
      );
      if (n === 0) return;
      await new Promise((r) => setImmediate(r));
    }
  }

  const get = async (creds: Creds, xff?: string) => {
    const r = await signedWire(
      port,
      { method: 'GET', url: '/basic-info', creds, timestamp: ts() },
      xff ? { headers: { 'x-forwarded-for': xff } } : {},
    );
    await serverIdle();
    return r;
  };

  it('the client is the right-most untrusted hop: forged hops to its left change nothing', async () => {
    const p = await ctx.openramp.services.partners.create('Proxied Partner');
    await ctx.openramp.services.partners.setIpWhitelist(p.partnerId, ['10.1.2.3']);
    assert.equal((await get(p, '10.1.2.3')).status, 200);
    assert.equal((await get(p, '203.0.113.7, 10.1.2.3')).status, 200, 'a forged left-most hop is ignored');
    for (const xff of ['10.1.2.3, 203.0.113.7', 'unknown', '10.1.2.3, not-an-ip']) {
      const r = await get(p, xff);
      assertRefused(r, 401, 'IP_NOT_ALLOWED', 'UNAUTHORISED');
      for (const leaked of ['10.1.2.3', '203.0.113.7', 'unknown', 'not-an-ip'])
        assert.ok(!r.body.includes(leaked), `forwarded text "${leaked}" echoed in a 401: ${r.body}`);
    }
    // Without a forwarded hop the trusted proxy itself is the client.
    assertRefused(await get(p), 401, 'IP_NOT_ALLOWED', 'UNAUTHORISED');
  });

  it('failed authentication is throttled per source address: 429 with Retry-After after N failures, counted in a metric', async () => {
    // Guessed keys: each key fails once, the address FAILURES_MAX times.
    for (let i = 0; i < FAILURES_MAX; i++)
      assertRefused(await get({ ...ctx.partner, apiKey: `ork_test_guess${i}` }, '198.51.100.7'), 401, 'UNKNOWN_API_KEY', 'UNAUTHORISED');
    // Now even a correct request from that address waits; other addresses are unaffected.
    const r = await get(ctx.partner, '198.51.100.7');
    assertRefused(r, 429, 'AUTH_THROTTLED', 'FAILED');
    assert.equal(r.headers['retry-after'], '30', 'frozen mid-minute: 30 s to the next window');
    assert.equal((await get(ctx.partner, '198.51.100.8')).status, 200);
    const metric = await ctx.openramp.metrics.getSingleMetricAsString('openramp_auth_failures_total');
    assert.match(metric, /openramp_auth_failures_total\{reason="UNKNOWN_API_KEY"\} ([5-9]|\d\d+)/, metric);
    clock.advance(30_000);
    assert.equal((await get(ctx.partner, '198.51.100.7')).status, 200, 'the next minute is open again');
  });

  it('… and per API key, whatever the address', async () => {
    const p = await ctx.openramp.services.partners.create('Targeted Partner');
    for (let i = 0; i < FAILURES_MAX; i++)
      assertRefused(await get({ ...p, apiSecret: 'ors_guess' }, `198.51.100.${20 + i}`), 401, 'SIGNATURE_MISMATCH', 'UNAUTHORISED');
    assertRefused(await get(p, '198.51.100.99'), 429, 'AUTH_THROTTLED', 'FAILED');
    clock.advance(60_000);
    assert.equal((await get(p, '198.51.100.99')).status, 200);
  });

  it('connections beyond OPENRAMP_HTTP_CONNECTIONS_MAX are dropped', async () => {
    const open = async () => {
      const s = net.connect(port, '127.0.0.1');
      await new Promise<void>((resolve) => s.once('connect', () => resolve()));
      return s;
    };
    /** One keep-alive request; resolves with the status line, or null if the server closed the socket. */
    const ask = (s: net.Socket) =>
      new Promise<string | null>((resolve) => {
        let text = '';
        const onData = (c: Buffer) => {
          text += c.toString();
          if (text.includes('\r\n\r\n')) {
            s.off('data', onData);
            resolve(text.split('\r\n')[0]!);
          }
        };
        s.on('data', onData);
        s.once('close', () => resolve(null));
        s.on('error', () => {});
        s.write('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      });
    const a = await open();
    const b = await open();
    assert.match((await ask(a)) ?? 'closed', /^HTTP\/1.1 200/);
    assert.match((await ask(b)) ?? 'closed', /^HTTP\/1.1 200/);
    const c = await open();
    assert.equal(await ask(c), null, 'the third connection must be dropped while two are open');
    a.destroy();
    b.destroy();
    await serverIdle();
    const d = await open();
    assert.match((await ask(d)) ?? 'closed', /^HTTP\/1.1 200/, 'served again once connections are free');
    d.destroy();
    await serverIdle();
  });
});
