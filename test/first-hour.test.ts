import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config.ts';
import { call, createTestContext, type TestContext } from './helpers/harness.ts';

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
