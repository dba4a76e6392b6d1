import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { call, createTestContext, type TestContext } from './helpers/harness.ts';
import { createLogger } from '../src/infra/lib/logger.ts';

describe('operator surfaces: health, OpenAPI, docs, metrics, operator API, logs', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestContext();
  });
  after(() => ctx.close());

  it('health is public and checks the database', async () => {
    const r = await ctx.openramp.api.inject({ method: 'GET', url: '/health' });
    assert.equal(r.statusCode, 200);
    assert.equal(r.json().data.database, 'ok');
  });

  it('serves our OpenAPI document with every partner route, and a docs page', async () => {
    const r = await ctx.openramp.api.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(r.statusCode, 200);
    const doc = r.json();
    assert.equal(doc.openapi, '3.0.3');
    for (const route of [
      '/customer/create',
      '/customer/detail',
      '/customer/list',
      '/bank-account/add',
      '/bank-account/detail',
      '/bank-account/list',
      '/deposit-address/create',
      '/deposit-address/detail',
      '/deposit-address/list',
      '/autoramp-flow/offramp',
      '/autoramp-flow/create',
      '/autoramp-flow/detail',
      '/autoramp-flow/list',
      '/autoramp-flow/delete',
      '/autoramp-flow/trade-preview',
      '/health',
      '/basic-info',
      '/balance',
      '/callback-url',
      '/subscribed-events',
      '/ip-white-list',
      '/sandbox/customer/decide',
    ]) {
      assert.ok(doc.paths[route], `missing ${route}`);
    }
    assert.ok(doc.paths['/bank-account/add'].post.requestBody.content['multipart/form-data'], 'multipart documented');
    assert.deepEqual(doc.paths['/customer/create'].post.requestBody.content['application/json'].schema.required, ['name', 'email']);
    const docs = await ctx.openramp.api.inject({ method: 'GET', url: '/docs/' });
    assert.equal(docs.statusCode, 200);
    assert.match(docs.body, /swagger/i);
  });

  it('exposes Prometheus metrics including request durations', async () => {
    await call(ctx, { method: 'GET', url: '/basic-info' });
    const r = await ctx.openramp.api.inject({ method: 'GET', url: '/metrics' });
    assert.equal(r.statusCode, 200);
    assert.match(r.body, /openramp_http_request_duration_seconds_bucket\{[^}]*route="\/basic-info"/);
  });

  it('operator API needs the bearer token', async () => {
    const no = await ctx.openramp.api.inject({ method: 'POST', url: '/ops/partners', payload: { name: 'X' } });
    assert.equal(no.statusCode, 401);
    assert.equal(no.json().status, 'UNAUTHORISED');
    const wrong = await ctx.openramp.api.inject({
      method: 'POST',
      url: '/ops/partners',
      headers: { authorization: 'Bearer nope' },
      payload: { name: 'X' },
    });
    assert.equal(wrong.statusCode, 401);
    const yes = await ctx.openramp.api.inject({
      method: 'POST',
      url: '/ops/partners',
      headers: { authorization: `Bearer ${ctx.operatorToken}` },
      payload: { name: 'Ops Made' },
    });
    assert.equal(yes.statusCode, 200, yes.body);
    assert.match(yes.json().data.apiSecret, /^ors_/);
    const stored = await ctx.openramp.services.db
      .selectFrom('api_keys')
      .select('secret_enc')
      .where('partner_id', '=', yes.json().data.partnerId)
      .executeTakeFirstOrThrow();
    assert.ok(!stored.secret_enc.includes(yes.json().data.apiSecret), 'secret stored sealed, not in clear');
    assert.match(stored.secret_enc, /^v1\./);
  });

  it('logs redact secrets and personal data', () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const logger = createLogger({ level: 'info', destination: sink as never });
    logger.info(
      {
        customer: { email: 'jane@example.com', name: 'Jane Roe', iban: 'DE89370400440532013000' },
        creds: { apiSecret: 'ors_secret' },
        req: { headers: { 'x-signature': 'abc', authorization: 'Bearer t' } },
      },
      'x',
    );
    for (const leaked of ['jane@example.com', 'Jane Roe', 'DE89370400440532013000', 'ors_secret', 'Bearer t'])
      assert.ok(!out.includes(leaked), `leaked ${leaked}: ${out}`);
    assert.match(out, /\[redacted\]/);
  });
});
