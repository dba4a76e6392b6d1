import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '../src/config.ts';
import { createLogger } from '../src/infra/lib/logger.ts';
import { AppError } from '../src/infra/lib/errors.ts';
import { checkCallbackUrl, isPublicAddress } from '../src/domain/webhooks/url-safety.ts';
import { createProxyTrust } from '../src/infra/auth/ip-address.ts';
import { tokenWeakness } from '../src/infra/auth/token-strength.ts';

/**
 * The audit's start-up and pure-function findings (docs/security.md): operator token strength,
 * the replaced proxy setting, timeouts that contradict each other, special-purpose IPv6 ranges
 * as webhook hosts, and log redaction that must keep `err.name`.
 */

const STRONG_TOKEN = 'opt_k3J9xQ2mZ7vB4nR8tY1wL6pS0dF5gH2c';
const prod = {
  OPENRAMP_MODE: 'production',
  DATABASE_URL: 'postgres://u@h/db',
  OPENRAMP_MASTER_KEY: 'a'.repeat(64),
  OPENRAMP_OPERATOR_TOKEN: STRONG_TOKEN,
  OPENRAMP_XPUB_EVM: 'xpub-evm',
  OPENRAMP_XPUB_TRON: 'xpub-tron',
  OPENRAMP_RPC_URL_ETH: 'http://eth.example',
  OPENRAMP_RPC_URL_MATIC: 'http://matic.example',
  OPENRAMP_RPC_URL_TRX: 'http://trx.example/jsonrpc',
};

function refusal(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('security (config): start-up refusals', () => {
  it('production refuses guessable operator tokens, naming OPENRAMP_OPERATOR_TOKEN', () => {
    for (const weak of ['a'.repeat(24), 'a'.repeat(64), 'abcd'.repeat(10), 'x'.repeat(32), 'short-but-mixed-1234']) {
      const err = refusal({ ...prod, OPENRAMP_OPERATOR_TOKEN: weak });
      assert.equal(err.setting, 'OPENRAMP_OPERATOR_TOKEN', weak);
      assert.match(err.message, /at least (24|32) characters|guessable/, weak);
    }
    assert.equal(loadConfig(prod).operatorToken, STRONG_TOKEN);
    // Random tokens of the documented recipes pass, every time.
    for (let i = 0; i < 2000; i++) {
      assert.equal(tokenWeakness(randomBytes(16).toString('hex')), null);
      assert.equal(tokenWeakness(randomBytes(24).toString('base64url')), null);
    }
    // The sandbox keeps its looser rule (24 characters): its token guards no money.
    assert.equal(loadConfig({ OPENRAMP_OPERATOR_TOKEN: 'a'.repeat(24) }).operatorToken, 'a'.repeat(24));
  });

  it('OPENRAMP_TRUST_PROXY=true is refused with a message naming OPENRAMP_TRUSTED_PROXIES; false is harmless', () => {
    for (const v of ['true', '1', 'yes']) {
      const err = refusal({ OPENRAMP_TRUST_PROXY: v });
      assert.equal(err.setting, 'OPENRAMP_TRUST_PROXY');
      assert.match(err.message, /OPENRAMP_TRUSTED_PROXIES/);
    }
    assert.deepEqual(loadConfig({ OPENRAMP_TRUST_PROXY: 'false' }).hardening.trustedProxies, []);
  });

  it('OPENRAMP_TRUSTED_PROXIES takes addresses and CIDRs and refuses anything else, naming the entry', () => {
    assert.deepEqual(loadConfig({ OPENRAMP_TRUSTED_PROXIES: ' 10.0.0.0/8, 127.0.0.1 ,::1' }).hardening.trustedProxies, [
      '10.0.0.0/8',
      '127.0.0.1',
      '::1',
    ]);
    for (const bad of ['proxy.internal', '10.1', '10.0.0.0/33', '*']) {
      const err = refusal({ OPENRAMP_TRUSTED_PROXIES: `10.0.0.1,${bad}` });
      assert.equal(err.setting, 'OPENRAMP_TRUSTED_PROXIES');
      assert.ok(err.message.includes(bad), err.message);
    }
  });

  it('HTTP timeouts: defaults with units, and a headers timeout longer than the request timeout is refused', () => {
    const h = loadConfig({}).hardening;
    assert.deepEqual(
      [h.headersTimeoutMs, h.requestTimeoutMs, h.keepAliveTimeoutMs, h.connectionsMax, h.authFailuresPerMinuteMax],
      [10_000, 30_000, 5_000, 4096, 0],
    );
    assert.equal(loadConfig(prod).hardening.authFailuresPerMinuteMax, 30, 'throttling is on in production');
    const err = refusal({ OPENRAMP_HTTP_HEADERS_TIMEOUT_MS: '5000', OPENRAMP_HTTP_REQUEST_TIMEOUT_MS: '1000' });
    assert.equal(err.setting, 'OPENRAMP_HTTP_HEADERS_TIMEOUT_MS');
    assert.equal(refusal({ OPENRAMP_HTTP_CONNECTIONS_MAX: '0' }).setting, 'OPENRAMP_HTTP_CONNECTIONS_MAX');
  });
});

describe('security (pure): proxy trust and webhook hosts', () => {
  it('only listed proxies are trusted; IPv4-mapped forms match; non-addresses never do', () => {
    const trust = createProxyTrust(['10.0.0.0/8', '127.0.0.1'])!;
    assert.equal(trust('10.2.3.4'), true);
    assert.equal(trust('::ffff:10.2.3.4'), true);
    assert.equal(trust('127.0.0.1'), true);
    assert.equal(trust('127.0.0.2'), false);
    assert.equal(trust('203.0.113.7'), false);
    assert.equal(trust('unknown'), false);
    assert.equal(trust(''), false);
    assert.equal(createProxyTrust([]), null);
  });

  it('special-purpose IPv6 ranges are refused as webhook callback hosts in production', async () => {
    const refused = [
      '::127.0.0.1', // IPv4-compatible ::/96, wrapping loopback
      '::10.0.0.1',
      '::ffff:127.0.0.1', // IPv4-mapped
      '::ffff:0:0',
      '64:ff9b::7f00:1', // NAT64 of 127.0.0.1
      '64:ff9b:1::a00:1', // local-use NAT64
      '2002:7f00:1::1', // 6to4 of 127.0.0.1
      '2002:c0a8:101::1', // 6to4 of 192.168.1.1
      '2001:0:4136:e378:8000:63bf:3fff:fdd2', // Teredo
      'fc00::1',
      'fd12:3456::1', // unique local fc00::/7
      'fe80::1', // link-local
      'ff02::1',
      '::1',
      '::',
      '2001:db8::1', // documentation
      '100::1', // discard
    ];
    for (const a of refused) {
      assert.equal(isPublicAddress(a), false, a);
      const problem = await checkCallbackUrl(`https://[${a}]/hook`, { allowPrivate: false });
      assert.match(problem ?? 'accepted', /non-public address/, a);
    }
    for (const a of ['2606:4700:4700::1111', '2a00:1450:4001:81b::200e', '::ffff:8.8.8.8', '8.8.8.8'])
      assert.equal(isPublicAddress(a), true, a);
    assert.equal(await checkCallbackUrl('https://[2606:4700:4700::1111]/hook', { allowPrivate: false }), null);
    // The sandbox allows local receivers on purpose.
    assert.equal(await checkCallbackUrl('http://[::127.0.0.1]/hook', { allowPrivate: true }), null);
  });
});

describe('security (logs): redaction hides personal names, not error names', () => {
  it('err.name survives; customer names, emails and secrets do not', () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const logger = createLogger({ level: 'info', destination: sink as never });
    logger.error({ err: new AppError('INTERNAL', 'boom'), customer: { name: 'Jane Roe', email: 'jane@example.com' } }, 'failed');
    logger.info({ body: { name: 'John Poe' }, payload: { data: { name: 'Ann Loe' } } }, 'x');
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines[0].err.name, 'AppError', out);
    assert.equal(lines[0].err.type, 'AppError', out);
    for (const leaked of ['Jane Roe', 'jane@example.com', 'John Poe', 'Ann Loe'])
      assert.ok(!out.includes(leaked), `leaked ${leaked}: ${out}`);
  });
});
