import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config.ts';
import { call, createTestContext, type TestContext } from './helpers/harness.ts';
import type { Clock } from '../src/infra/lib/clock.ts';

/**
 * What a partner developer meets in the first hour of the sandbox: KYC decided in the create
 * response, a front door at `/`, a generous rate limit, every validation error at once, truthful
 * confirmation counts and signature errors that explain themselves.
 */

describe('sandbox KYC decides at creation by default', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestContext();
  });
  after(() => ctx.close());

  it('defaults the delay to 0 in both modes, and a set delay still wins', () => {
    assert.equal(loadConfig({ OPENRAMP_MODE: 'sandbox' }).kyc.sandboxDecisionDelayMs, 0);
    assert.equal(loadConfig({ OPENRAMP_MODE: 'sandbox', OPENRAMP_SANDBOX_KYC_DELAY_MS: '2500' }).kyc.sandboxDecisionDelayMs, 2500);
  });

  it('answers CONFIRMED or REJECTED in the create response and still writes the decision event', async () => {
    const ok = await call(ctx, { method: 'POST', url: '/customer/create', body: { name: 'Ada Lovelace', email: 'ada@example.com' } });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.json.data.status, 'CONFIRMED');
    const no = await call(ctx, { method: 'POST', url: '/customer/create', body: { name: 'Rejected Rex', email: 'rex@example.com' } });
    assert.equal(no.status, 200, no.body);
    assert.equal(no.json.data.status, 'REJECTED');
    const events = await ctx.openramp.services.db
      .selectFrom('events')
      .select(['object_id', 'type'])
      .where('object_id', 'in', [ok.json.customerId, no.json.customerId])
      .execute();
    assert.deepEqual(
      events.filter((e) => e.object_id === ok.json.customerId).map((e) => e.type),
      ['CUSTOMER_APPROVED'],
    );
    assert.deepEqual(
      events.filter((e) => e.object_id === no.json.customerId).map((e) => e.type),
      ['CUSTOMER_REJECTED'],
    );
    assert.equal(await ctx.openramp.services.jobs.runDue(), 0, 'no delayed KYC job was scheduled');
  });
});

/** What production mode needs to start in a test (no real chain is reached). */
const PRODUCTION_ENV: Record<string, string> = {
  OPENRAMP_MODE: 'production',
  DATABASE_URL: 'postgres://unused/x',
  OPENRAMP_MASTER_KEY: 'a'.repeat(64),
  OPENRAMP_OPERATOR_TOKEN: 'opt_k3J9xQ2mZ7vB4nR8tY1wL6pS0dF5gH2c',
  OPENRAMP_XPUB_EVM: 'x',
  OPENRAMP_XPUB_TRON: 'y',
  OPENRAMP_RPC_URL_ETH: 'http://127.0.0.1:9/eth',
  OPENRAMP_RPC_URL_MATIC: 'http://127.0.0.1:9/matic',
  OPENRAMP_RPC_URL_TRX: 'http://127.0.0.1:9/jsonrpc',
};

describe('the front door', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestContext();
  });
  after(() => ctx.close());

  it('answers an unsigned GET / with JSON naming the mode, the docs and the OpenAPI document', async () => {
    for (const accept of [undefined, 'application/json', '*/*', 'text/html;q=0.5, application/json']) {
      const r = await ctx.openramp.api.inject({ method: 'GET', url: '/', headers: accept ? { accept } : {} });
      assert.equal(r.statusCode, 200, `${accept}: ${r.body}`);
      assert.match(String(r.headers['content-type']), /^application\/json/, String(accept));
      const body = r.json();
      assert.equal(body.status, 'SUCCESS');
      assert.equal(body.data.mode, 'sandbox');
      assert.equal(body.data.docs, '/docs');
      assert.equal(body.data.openapi, '/openapi.json');
      assert.equal(body.data.console, null, 'no console is served');
    }
    // The links it names are themselves reachable without a signature.
    for (const url of ['/openapi.json', '/health']) {
      const r = await ctx.openramp.api.inject({ method: 'GET', url });
      assert.equal(r.statusCode, 200, url);
    }
  });

  it('answers HTML to a browser', async () => {
    const r = await ctx.openramp.api.inject({
      method: 'GET',
      url: '/',
      headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' },
    });
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers['content-type']), /^text\/html/);
    assert.match(r.body, /sandbox/);
    assert.match(r.body, /href="\/docs"/);
    assert.match(r.body, /href="\/openapi.json"/);
  });

  it('answers /favicon.ico with the contract 404, not an authentication error', async () => {
    const r = await ctx.openramp.api.inject({ method: 'GET', url: '/favicon.ico' });
    assert.equal(r.statusCode, 404);
    assert.deepEqual(Object.keys(r.json()).sort(), ['message', 'status']);
    assert.equal(r.json().status, 'FAILED');
    assert.equal(r.headers['x-error-code'], 'ROUTE_NOT_FOUND');
  });

  it('names production mode in production', async () => {
    const prod = await createTestContext({ env: PRODUCTION_ENV });
    try {
      const r = await prod.openramp.api.inject({ method: 'GET', url: '/' });
      assert.equal(r.statusCode, 200, r.body);
      assert.equal(r.json().data.mode, 'production');
    } finally {
      await prod.close();
    }
  });
});

describe('sandbox rate limit', () => {
  it('defaults to 6000 a minute in the sandbox and 100 in production; an explicit setting wins', () => {
    assert.equal(loadConfig({ OPENRAMP_MODE: 'sandbox' }).auth.rateLimitPerMinute, 6000);
    assert.equal(loadConfig(PRODUCTION_ENV).auth.rateLimitPerMinute, 100);
    assert.equal(loadConfig({ OPENRAMP_MODE: 'sandbox', OPENRAMP_RATE_LIMIT_PER_MINUTE: '100' }).auth.rateLimitPerMinute, 100);
    assert.equal(loadConfig({ ...PRODUCTION_ENV, OPENRAMP_RATE_LIMIT_PER_MINUTE: '250' }).auth.rateLimitPerMinute, 250);
  });

  it('says in the 429 which setting raises the limit', async () => {
    // Frozen in the middle of a wall-clock minute: the fixed window cannot roll over mid-test.
    const at = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 30_000);
    const clock: Clock = { now: () => at };
    const ctx = await createTestContext({ clock, env: { OPENRAMP_RATE_LIMIT_PER_MINUTE: '2' } });
    try {
      const ts = String(Math.floor(at.getTime() / 1000));
      for (let i = 0; i < 2; i++) assert.equal((await call(ctx, { method: 'GET', url: '/basic-info', timestamp: ts })).status, 200);
      const r = await call(ctx, { method: 'GET', url: '/basic-info', timestamp: ts });
      assert.equal(r.status, 429, r.body);
      assert.equal(r.json.status, 'FAILED');
      assert.match(r.json.message, /rate limit of 2 requests per minute/);
      assert.match(r.json.message, /OPENRAMP_RATE_LIMIT_PER_MINUTE raises it/);

      // A partner with a limit of its own is told that this one, not the server setting, applies.
      const own = await ctx.openramp.services.partners.create('Own Limit Ltd');
      await ctx.openramp.services.db.updateTable('partners').set({ rate_limit_per_minute: 1 }).where('id', '=', own.partnerId).execute();
      assert.equal((await call(ctx, { method: 'GET', url: '/basic-info', timestamp: ts, creds: own })).status, 200);
      const o = await call(ctx, { method: 'GET', url: '/basic-info', timestamp: ts, creds: own });
      assert.equal(o.status, 429, o.body);
      assert.match(o.json.message, /rate limit of 1 requests per minute/);
      assert.match(o.json.message, /this partner has its own limit/);
    } finally {
      await ctx.close();
    }
  });
});
