import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createIdGenerator } from '../src/infra/lib/ids.ts';
import { createAdjustableClock, type AdjustableClock } from '../src/infra/lib/clock.ts';
import { createLogger } from '../src/infra/lib/logger.ts';
import { loadConfig, ConfigError, DEFAULT_WEBHOOK_RETRY_SCHEDULE, parseDurationList } from '../src/config.ts';
import { sha256Hex, verifySignature } from '../src/infra/auth/signature.ts';
import { createWebhookDispatcher } from '../src/domain/webhooks/dispatcher.ts';
import { createEventHorizon } from '../src/domain/webhooks/horizon.ts';
import { verifyWebhook, signRequest } from '../sdk/src/index.ts';
import { call, createTestContext, onboard, type TestContext } from './helpers/harness.ts';
import { createTwoAppsOnOneDatabase } from './helpers/second-app.ts';
import { freePort, startBlackHole, startReceiver, type ReceivedWebhook, type WebhookReceiver } from './helpers/webhook-receiver.ts';
import { appendEvents } from './helpers/webhook-events.ts';

/**
 * Webhooks (docs/webhooks.md) over real sockets: receivers are HTTP servers on 127.0.0.1, time is driven
 * with an adjustable clock and the dispatcher's runOnce(), so retry schedules of minutes and
 * hours run in milliseconds.
 */

const SCHEDULE_MS = parseDurationList(DEFAULT_WEBHOOK_RETRY_SCHEDULE, 'schedule', { itemsMax: 30, itemMaxMs: 7 * 86_400_000 });
const FAST_ENV = { OPENRAMP_RATE_LIMIT_PER_MINUTE: '1000000' };

/** A clock that does not move unless told to, so "due in 5 s" is exact. */
function frozenClock(): AdjustableClock {
  const t0 = Date.now();
  return createAdjustableClock({ now: () => new Date(t0) });
}

async function deliveriesOf(ctx: TestContext, partnerId: string, q: { eventId?: string } = {}) {
  const page = await ctx.openramp.services.webhooks.listDeliveries(partnerId, { page: { pageNum: 1, pageSize: 100, offset: 0 }, ...q });
  return page.list;
}

function verifyBoth(ctx: TestContext, r: ReceivedWebhook, url: string, opts: { webhookSecret?: string | string[] } = {}) {
  return verifyWebhook({
    headers: r.headers,
    rawBody: r.rawBody,
    url,
    apiSecret: ctx.partner.apiSecret,
    webhookSecret: opts.webhookSecret ?? ctx.partner.webhookSecret,
  });
}

describe('webhooks: signatures and envelope', () => {
  let ctx: TestContext;
  let receiver: WebhookReceiver;
  const clock = createAdjustableClock();
  before(async () => {
    ctx = await createTestContext({ env: FAST_ENV, clock });
    receiver = await startReceiver();
  });
  after(async () => {
    await ctx?.close();
    await receiver?.close();
  });

  it('signs every delivery under both schemes; the SDK and the server verifier accept them; tampering is caught', async () => {
    const url = receiver.url('/hooks/openramp?tenant=a%20b&x=1');
    const set = await call(ctx, { method: 'POST', url: '/callback-url', body: { callbackUrl: url } });
    assert.equal(set.status, 200, set.body);
    const { customerId, bankAccountId } = await onboard(ctx);
    const flow = await call(ctx, {
      method: 'POST',
      url: '/autoramp-flow/offramp',
      body: { from: { customerId, currency: 'USDT', network: 'ETH' }, to: bankAccountId },
    });
    assert.equal(flow.status, 200, flow.body);
    const [tradeEventId] = await appendEvents(ctx, ctx.partner.partnerId, 1, {
      type: 'TRADE_CREATED',
      payload: () => ({ id: 'trd_01test', status: 'CREATED' }),
    });

    const run = await ctx.openramp.services.webhookDispatcher.runOnce();
    assert.equal(run.attempts, 4);
    await receiver.waitFor(4);
    assert.deepEqual(
      receiver.received.map((r) => r.json.event),
      ['CUSTOMER_APPROVED', 'BANK_ACCOUNT_VERIFIED', 'DEPOSIT_ADDRESS_APPROVED', 'TRADE_CREATED'],
    );

    for (const r of receiver.received) {
      assert.equal(r.path, '/hooks/openramp?tenant=a%20b&x=1');
      assert.equal(r.headers['content-type'], 'application/json');
      // Envelope (docs/api-contract.md): payload and data are the same object and carry the object version.
      assert.deepEqual(Object.keys(r.json).sort(), ['createdAt', 'data', 'event', 'id', 'payload']);
      assert.deepEqual(r.json.payload, r.json.data);
      assert.equal(typeof r.json.payload.version, 'number');
      assert.match(r.json.id, /^evt_/);
      assert.equal(r.headers['webhook-id'], r.json.id);
      assert.equal(r.headers['x-api-key'], ctx.partner.apiKey);
      assert.equal(r.headers['webhook-timestamp'], r.headers['x-timestamp']);

      const both = verifyBoth(ctx, r, url);
      assert.ok(both.ok, JSON.stringify(both));
      assert.equal(both.scheme, 'both');
      assert.equal(both.event.id, r.json.id);
      const hmac = verifyWebhook({ headers: r.headers, rawBody: r.rawBody, url, apiSecret: ctx.partner.apiSecret });
      assert.ok(hmac.ok && hmac.scheme === 'hmac', JSON.stringify(hmac));
      const std = verifyWebhook({
        headers: new Headers(r.headers),
        rawBody: Buffer.from(r.rawBody),
        webhookSecret: ctx.partner.webhookSecret,
      });
      assert.ok(std.ok && std.scheme === 'standard', JSON.stringify(std));

      // The server's own request verifier agrees with the SDK on the contract signature.
      const u = new URL(url);
      assert.ok(
        verifySignature({
          secret: ctx.partner.apiSecret,
          signature: r.headers['x-signature']!,
          method: 'POST',
          hosts: [r.headers.host!],
          path: u.pathname,
          query: u.search.slice(1),
          bodyHashes: [sha256Hex(r.rawBody)],
          timestamp: r.headers['x-timestamp']!,
          nonce: r.headers['x-nonce']!,
        }),
      );
      assert.equal(r.headers.host, u.host);

      // Tampering, wrong secrets, wrong URL and stale timestamps are refused.
      const tampered = r.rawBody.replace('"version":', '"version":9');
      assert.equal(verifyWebhook({ headers: r.headers, rawBody: tampered, url, apiSecret: ctx.partner.apiSecret }).ok, false);
      assert.equal(verifyWebhook({ headers: r.headers, rawBody: tampered, webhookSecret: ctx.partner.webhookSecret }).ok, false);
      assert.equal(verifyWebhook({ headers: r.headers, rawBody: r.rawBody, url, apiSecret: 'ors_wrong' }).ok, false);
      assert.equal(
        verifyWebhook({ headers: r.headers, rawBody: r.rawBody, webhookSecret: `whsec_${Buffer.alloc(24, 7).toString('base64')}` }).ok,
        false,
      );
      assert.equal(
        verifyWebhook({ headers: r.headers, rawBody: r.rawBody, url: receiver.url('/hooks/other'), apiSecret: ctx.partner.apiSecret }).ok,
        false,
      );
      const stale = verifyWebhook({
        headers: r.headers,
        rawBody: r.rawBody,
        webhookSecret: ctx.partner.webhookSecret,
        now: new Date(Date.now() + 301_000),
      });
      assert.deepEqual(stale.ok, false);
      assert.match((stale as { reason: string }).reason, /tolerance 300 s/);
      assert.equal(verifyWebhook({ headers: r.headers, rawBody: r.rawBody }).ok, false, 'no secret: never ok');
      assert.equal(
        verifyWebhook({ headers: r.headers, rawBody: r.rawBody, apiSecret: ctx.partner.apiSecret }).ok,
        false,
        'HMAC needs the URL',
      );
    }
    // Trade events also carry tradeId (the guide's sample reads it).
    const trade = receiver.received.find((r) => r.json.id === tradeEventId)!;
    assert.equal(trade.json.payload.tradeId, 'trd_01test');
    assert.equal(trade.json.data.tradeId, 'trd_01test');
    // A fresh nonce per request.
    assert.equal(new Set(receiver.received.map((r) => r.headers['x-nonce'])).size, receiver.received.length);

    // The delivery log shows each success with its attempt.
    const list = await call(ctx, { method: 'GET', url: '/webhook-delivery/list?pageSize=100' });
    assert.equal(list.status, 200, list.body);
    assert.equal(list.json.data.total, 4);
    for (const d of list.json.data.list) {
      assert.equal(d.status, 'SUCCEEDED');
      assert.equal(d.trigger, 'AUTOMATIC');
      assert.equal(d.attemptCount, 1);
      assert.equal(d.nextAttemptTime, null);
      assert.equal(d.attempts.length, 1);
      assert.equal(d.attempts[0].statusCode, 200);
      assert.equal(d.attempts[0].url, url);
      assert.equal(d.attempts[0].responseExcerpt, '{"status":"SUCCESS"}');
      assert.equal(typeof d.attempts[0].latencyMs, 'number');
    }
    const unsigned = await ctx.openramp.api.inject({ method: 'GET', url: '/webhook-delivery/list' });
    assert.equal(unsigned.statusCode, 401);
  });

  it('after rotating the whsec_ secret, deliveries verify with the old and with the new secret', async () => {
    receiver.received.length = 0;
    const oldSecret = ctx.partner.webhookSecret;
    const newSecret = await ctx.openramp.services.partners.rotateWebhookSecret(ctx.partner.partnerId);
    await appendEvents(ctx, ctx.partner.partnerId, 1);
    await ctx.openramp.services.webhookDispatcher.runOnce();
    await receiver.waitFor(1);
    const r = receiver.received[0]!;
    assert.equal(r.headers['webhook-signature']!.split(' ').length, 2, 'one signature per active secret');
    for (const secret of [oldSecret, newSecret, [newSecret, oldSecret]]) {
      const v = verifyWebhook({ headers: r.headers, rawBody: r.rawBody, webhookSecret: secret });
      assert.ok(v.ok, JSON.stringify(v));
    }
  });

  it('the response excerpt is at most 1 KiB; a 3xx is a failure and is not followed', async () => {
    const target = await startReceiver();
    try {
      receiver.received.length = 0;
      receiver.respond = (_r, i) =>
        i === 0 ? { status: 302, headers: { location: target.url('/elsewhere') } } : { status: 200, body: 'x'.repeat(5000) };
      const [eventId] = await appendEvents(ctx, ctx.partner.partnerId, 1);
      await ctx.openramp.services.webhookDispatcher.runOnce();
      assert.equal(receiver.received.length, 1);
      assert.equal(target.received.length, 0, 'the redirect target is never called');
      let [d] = await deliveriesOf(ctx, ctx.partner.partnerId, { eventId: eventId! });
      assert.equal(d!.status, 'PENDING');
      assert.equal(d!.lastStatusCode, 302);
      assert.match(d!.lastError!, /redirect not followed: HTTP 302 to http:\/\/127\.0\.0\.1:\d+\/elsewhere/);
      assert.ok(d!.nextAttemptTime);
      // The retry (5 s later on the schedule) gets a large body: the log keeps 1 KiB of it.
      clock.advance(5_000);
      await ctx.openramp.services.webhookDispatcher.runOnce();
      [d] = await deliveriesOf(ctx, ctx.partner.partnerId, { eventId: eventId! });
      assert.equal(d!.status, 'SUCCEEDED');
      assert.equal(d!.attempts.length, 2);
      assert.equal(d!.attempts[1]!.responseExcerpt, 'x'.repeat(1024));
    } finally {
      receiver.respond = () => ({ status: 200, body: '{"status":"SUCCESS"}' });
      await target.close();
    }
  });
});

describe('webhooks: subscriptions and callback URL', () => {
  let ctx: TestContext;
  let receiver: WebhookReceiver;
  before(async () => {
    ctx = await createTestContext({ env: FAST_ENV });
    receiver = await startReceiver();
  });
  after(async () => {
    await ctx?.close();
    await receiver?.close();
  });

  it('no callback URL: nothing is queued or sent, and setting one later does not replay the past', async () => {
    await onboard(ctx);
    const run = await ctx.openramp.services.webhookDispatcher.runOnce();
    assert.ok(run.events >= 2);
    assert.equal(run.attempts, 0);
    assert.equal((await deliveriesOf(ctx, ctx.partner.partnerId)).length, 0);
    await ctx.openramp.services.partners.setCallbackUrl(ctx.partner.partnerId, receiver.url());
    assert.equal((await ctx.openramp.services.webhookDispatcher.runOnce()).attempts, 0);
    assert.equal(receiver.received.length, 0);
  });

  it('only subscribed events are sent', async () => {
    const sub = await call(ctx, { method: 'POST', url: '/subscribed-events', body: { events: ['BANK_ACCOUNT_VERIFIED'] } });
    assert.equal(sub.status, 200, sub.body);
    await onboard(ctx); // CUSTOMER_APPROVED (not subscribed) + BANK_ACCOUNT_VERIFIED
    const run = await ctx.openramp.services.webhookDispatcher.runOnce();
    assert.equal(run.attempts, 1);
    assert.deepEqual(
      receiver.received.map((r) => r.json.event),
      ['BANK_ACCOUNT_VERIFIED'],
    );
  });
});

describe('webhooks: retries', () => {
  let ctx: TestContext;
  let clock: AdjustableClock;
  let receiver: WebhookReceiver;
  before(async () => {
    clock = frozenClock();
    ctx = await createTestContext({ env: FAST_ENV, clock });
    receiver = await startReceiver();
    await ctx.openramp.services.partners.setCallbackUrl(ctx.partner.partnerId, receiver.url());
  });
  after(async () => {
    await ctx?.close();
    await receiver?.close();
  });

  it('the documented default schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h', () => {
    assert.deepEqual(ctx.config.webhooks.retryScheduleMs, [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    assert.deepEqual(SCHEDULE_MS, ctx.config.webhooks.retryScheduleMs);
  });

  it('a receiver failing 3 times gets the event on attempt 4, each attempt at its scheduled delay', async () => {
    const dispatcher = ctx.openramp.services.webhookDispatcher;
    const failures = 3;
    receiver.respond = (_r, i) => (i < failures ? { status: 503, body: 'busy' } : { status: 204 });
    const [eventId] = await appendEvents(ctx, ctx.partner.partnerId, 1);
    const start = clock.now().getTime();
    assert.equal((await dispatcher.runOnce()).attempts, 1, 'attempt 1 at once');
    let elapsed = 0;
    for (let attempt = 2; attempt <= failures + 1; attempt++) {
      const delay = SCHEDULE_MS[attempt - 1]!;
      clock.advance(delay - 1);
      assert.equal((await dispatcher.runOnce()).attempts, 0, `attempt ${attempt} is not due 1 ms early`);
      clock.advance(1);
      assert.equal((await dispatcher.runOnce()).attempts, 1, `attempt ${attempt} is due after ${delay} ms`);
      elapsed += delay;
      assert.equal(clock.now().getTime() - start, elapsed);
    }
    assert.equal(receiver.received.length, failures + 1);
    assert.equal(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size, 1, 'webhook-id is stable across retries');
    assert.equal(new Set(receiver.received.map((r) => r.headers['x-nonce'])).size, failures + 1, 'a fresh nonce per attempt');
    const [d] = await deliveriesOf(ctx, ctx.partner.partnerId, { eventId: eventId! });
    assert.equal(d!.status, 'SUCCEEDED');
    assert.equal(d!.attemptCount, 4);
    assert.deepEqual(
      d!.attempts.map((a) => [a.attempt, a.statusCode, a.error, a.responseExcerpt]),
      [
        [1, 503, 'HTTP 503', 'busy'],
        [2, 503, 'HTTP 503', 'busy'],
        [3, 503, 'HTTP 503', 'busy'],
        [4, 204, null, ''],
      ],
    );
    assert.deepEqual(
      d!.attempts.map((a) => Date.parse(a.createTime) - start),
      [0, 5_000, 305_000, 2_105_000],
    );
  });

  it('after the last scheduled attempt fails the delivery is FAILED and visible', async () => {
    const dispatcher = ctx.openramp.services.webhookDispatcher;
    receiver.received.length = 0;
    receiver.respond = () => ({ status: 500 });
    const [eventId] = await appendEvents(ctx, ctx.partner.partnerId, 1);
    for (let i = 0; i < SCHEDULE_MS.length; i++) {
      clock.advance(SCHEDULE_MS[i]!);
      assert.equal((await dispatcher.runOnce()).attempts, 1);
    }
    clock.advance(86_400_000);
    assert.equal((await dispatcher.runOnce()).attempts, 0, 'no attempt after the schedule ran out');
    assert.equal(receiver.received.length, SCHEDULE_MS.length);
    const list = await call(ctx, {
      method: 'GET',
      url: `/webhook-delivery/list?eventId=${eventId}&status=FAILED`,
      timestamp: String(Math.floor(clock.now().getTime() / 1000)),
    });
    assert.equal(list.status, 200, list.body);
    assert.equal(list.json.data.total, 1);
    const d = list.json.data.list[0];
    assert.equal(d.status, 'FAILED');
    assert.equal(d.attemptCount, 8);
    assert.equal(d.attempts.length, 8);
    assert.equal(d.nextAttemptTime, null);
    assert.equal(d.lastStatusCode, 500);
    assert.ok(d.completeTime);
    receiver.respond = () => ({ status: 200 });
  });

  it('a receiver that is down, then up, gets every event: none lost, none missing', async () => {
    const dispatcher = ctx.openramp.services.webhookDispatcher;
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/hooks`;
    await ctx.openramp.services.partners.setCallbackUrl(ctx.partner.partnerId, url);
    const ids = await appendEvents(ctx, ctx.partner.partnerId, 30);
    const first = await dispatcher.runOnce();
    assert.equal(first.attempts, 30, 'every event tried (in rounds of the per-partner cap)');
    const down = await deliveriesOf(ctx, ctx.partner.partnerId);
    const pending = down.filter((d) => ids.includes(d.eventId));
    assert.equal(pending.length, 30);
    for (const d of pending) {
      assert.equal(d.status, 'PENDING');
      assert.match(d.lastError!, /request failed: .*ECONNREFUSED/);
      assert.equal(d.lastStatusCode, null);
    }
    const up = await startReceiver({ port });
    try {
      clock.advance(SCHEDULE_MS[1]!);
      const second = await dispatcher.runOnce();
      assert.equal(second.attempts, 30);
      assert.deepEqual(up.received.map((r) => r.json.id).sort(), [...ids].sort());
      // In event order within each claim round.
      assert.deepEqual(
        up.received.map((r) => r.json.id),
        ids,
      );
      const after = (await deliveriesOf(ctx, ctx.partner.partnerId)).filter((d) => ids.includes(d.eventId));
      assert.ok(after.every((d) => d.status === 'SUCCEEDED' && d.attemptCount === 2));
    } finally {
      await up.close();
    }
  });
});

describe('webhooks: redelivery', () => {
  let ctx: TestContext;
  let receiver: WebhookReceiver;
  before(async () => {
    ctx = await createTestContext({ env: FAST_ENV });
    receiver = await startReceiver();
    await ctx.openramp.services.partners.setCallbackUrl(ctx.partner.partnerId, receiver.url());
  });
  after(async () => {
    await ctx?.close();
    await receiver?.close();
  });

  it('redelivers one event with the same webhook-id, and a time range of subscribed events', async () => {
    const before = new Date(ctx.openramp.services.clock.now().getTime() - 1000);
    const ids = await appendEvents(ctx, ctx.partner.partnerId, 3);
    await ctx.openramp.services.webhookDispatcher.runOnce();
    assert.equal(receiver.received.length, 3);

    const one = await call(ctx, { method: 'POST', url: '/webhook-delivery/redeliver', body: { eventId: ids[1] } });
    assert.equal(one.status, 200, one.body);
    assert.equal(one.json.data.count, 1);
    await ctx.openramp.services.webhookDispatcher.runOnce();
    assert.equal(receiver.received.length, 4);
    const again = receiver.received[3]!;
    assert.equal(again.headers['webhook-id'], ids[1]);
    assert.equal(again.json.id, ids[1]);
    assert.notEqual(again.headers['x-nonce'], receiver.received[1]!.headers['x-nonce']);
    assert.ok(verifyBoth(ctx, again, receiver.url()).ok);
    const forEvent = await call(ctx, { method: 'GET', url: `/webhook-delivery/list?eventId=${ids[1]}` });
    assert.deepEqual(forEvent.json.data.list.map((d: any) => [d.trigger, d.status]).sort(), [
      ['AUTOMATIC', 'SUCCEEDED'],
      ['MANUAL', 'SUCCEEDED'],
    ]);

    const to = new Date(ctx.openramp.services.clock.now().getTime() + 1000);
    const range = await call(ctx, {
      method: 'POST',
      url: '/webhook-delivery/redeliver',
      body: { from: before.toISOString(), to: to.toISOString() },
    });
    assert.equal(range.status, 200, range.body);
    assert.equal(range.json.data.count, 3);
    await ctx.openramp.services.webhookDispatcher.runOnce();
    assert.deepEqual(
      receiver.received.slice(4).map((r) => r.headers['webhook-id']),
      ids,
    );
  });

  it('refuses unknown or foreign events, mixed or missing parameters, and partners without a URL', async () => {
    const other = await ctx.openramp.services.partners.create('Other');
    const [foreign] = await appendEvents(ctx, other.partnerId, 1);
    const cases: [unknown, number, string, RegExp][] = [
      [{ eventId: 'evt_01doesnotexist0000000000' }, 422, 'FAILED', /event not found/],
      [{ eventId: foreign }, 422, 'FAILED', /event not found/],
      [{}, 422, 'INVALID_PARAMETERS', /eventId/],
      [{ from: '2024-01-01T00:00:00Z' }, 422, 'INVALID_PARAMETERS', /./],
      [{ eventId: foreign, from: '2024-01-01T00:00:00Z', to: '2024-01-02T00:00:00Z' }, 422, 'INVALID_PARAMETERS', /not both/],
      [{ from: '2024-01-02T00:00:00Z', to: '2024-01-01T00:00:00Z' }, 422, 'INVALID_PARAMETERS', /from: must not be after to/],
      [{ from: 'yesterday', to: '2024-01-01T00:00:00Z' }, 422, 'INVALID_PARAMETERS', /from/],
    ];
    for (const [body, http, status, message] of cases) {
      const r = await call(ctx, { method: 'POST', url: '/webhook-delivery/redeliver', body });
      assert.equal(r.status, http, `${JSON.stringify(body)}: ${r.body}`);
      assert.equal(r.json.status, status, r.body);
      assert.match(r.json.message, message);
    }
    const noUrl = await call(ctx, { method: 'POST', url: '/webhook-delivery/redeliver', body: { eventId: foreign }, creds: other });
    assert.equal(noUrl.status, 422);
    assert.match(noUrl.json.message, /no callback URL/);
  });
});

/** Long enough that no dead attempt times out during the test, however loaded the machine. */
const DEAD_TIMEOUT_MS = 60_000;

describe('webhooks: isolation and shutdown', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestContext({
      env: {
        ...FAST_ENV,
        OPENRAMP_WEBHOOK_TIMEOUT_MS: String(DEAD_TIMEOUT_MS),
        OPENRAMP_WEBHOOK_CONCURRENCY_MAX: '8',
        OPENRAMP_WEBHOOK_PER_PARTNER_IN_FLIGHT_MAX: '2',
        OPENRAMP_WEBHOOK_POLL_INTERVAL_MS: '20',
        OPENRAMP_WEBHOOK_SHUTDOWN_GRACE_MS: '200',
      },
    });
  });
  after(() => ctx?.close());

  it("a dead endpoint holds at most its per-partner slots and does not slow another partner's deliveries", async () => {
    const dead = await startBlackHole();
    const healthy = await startReceiver();
    const dispatcher = ctx.openramp.services.webhookDispatcher;
    try {
      const slow = ctx.partner;
      const fast = await ctx.openramp.services.partners.create('Healthy Partner');
      await ctx.openramp.services.partners.setCallbackUrl(slow.partnerId, dead.url());
      await ctx.openramp.services.partners.setCallbackUrl(fast.partnerId, healthy.url());
      // The dead partner's events come first: a FIFO sender would queue the healthy ones behind them.
      await appendEvents(ctx, slow.partnerId, 20);
      const fastIds = await appendEvents(ctx, fast.partnerId, 20);
      dispatcher.start();
      // A sender that let the dead endpoint take every slot would hold these until its attempts
      // time out; here they all arrive while the dead attempts are still hanging (asserted
      // below: no dead delivery has a recorded attempt), so no clock reading is needed.
      await healthy.waitFor(20, DEAD_TIMEOUT_MS / 2);
      assert.deepEqual(healthy.received.map((r) => r.json.id).sort(), [...fastIds].sort());
      assert.ok(dead.connections() >= 1 && dead.connections() <= 2, `the dead endpoint holds ${dead.connections()} connections (cap 2)`);
      // The healthy partner's last attempt may still be writing its outcome.
      const settleBy = performance.now() + DEAD_TIMEOUT_MS / 2;
      while (dispatcher.inFlight() > 2 && performance.now() < settleBy) await new Promise((r) => setTimeout(r, 10));
      assert.equal(dispatcher.inFlight(), 2, 'only the dead partner’s capped attempts are in flight');
      const slowDeliveries = await deliveriesOf(ctx, slow.partnerId);
      assert.equal(slowDeliveries.length, 20);
      assert.ok(slowDeliveries.every((d) => d.status === 'PENDING' && d.attempts.length === 0));

      // Shutdown: waits 200 ms, then hands the two hanging attempts back, untried, for another worker.
      const s0 = performance.now();
      await dispatcher.stop();
      const stopMs = performance.now() - s0;
      assert.ok(stopMs < DEAD_TIMEOUT_MS / 2, `stop() took ${stopMs.toFixed(0)} ms: it waited for the hanging attempts (grace 200 ms)`);
      assert.equal(dispatcher.inFlight(), 0);
      const rows = await ctx.openramp.services.db
        .selectFrom('webhook_deliveries')
        .select(['status', 'attempt_count', 'locked_until', 'claim_token'])
        .where('partner_id', '=', slow.partnerId)
        .execute();
      assert.equal(rows.length, 20);
      assert.ok(
        rows.every((r) => r.status === 'pending' && r.attempt_count === 0 && r.locked_until === null && r.claim_token === null),
        JSON.stringify(rows.slice(0, 3)),
      );
      assert.equal(
        await ctx.openramp.services.db
          .selectFrom('webhook_attempts')
          .innerJoin('webhook_deliveries', 'webhook_deliveries.id', 'webhook_attempts.delivery_id')
          .select('webhook_attempts.id')
          .where('webhook_deliveries.partner_id', '=', slow.partnerId)
          .executeTakeFirst(),
        undefined,
      );
    } finally {
      await dispatcher.stop();
      await dead.close();
      await healthy.close();
    }
  });

  it('a timed-out attempt is logged as such and retried later', async () => {
    const dead = await startBlackHole();
    const clock = createAdjustableClock();
    const logger = createLogger({ level: 'silent' });
    const services = ctx.openramp.services;
    const partner = await services.partners.create('Timeout Partner');
    await services.partners.setCallbackUrl(partner.partnerId, dead.url());
    // Its own dispatcher with a short timeout; the app's dispatcher is stopped.
    const dispatcher = createWebhookDispatcher({
      db: services.db,
      clock,
      ids: createIdGenerator(),
      partners: services.partners,
      horizon: createEventHorizon(services.db),
      logger,
      config: { ...ctx.config.webhooks, timeoutMs: 300 },
      allowPrivateTargets: true,
    });
    try {
      const [eventId] = await appendEvents(ctx, partner.partnerId, 1);
      await dispatcher.runOnce();
      const [d] = await deliveriesOf(ctx, partner.partnerId, { eventId: eventId! });
      assert.equal(d!.status, 'PENDING');
      assert.match(d!.lastError!, /timed out after 300 ms/);
      assert.ok(d!.attempts[0]!.latencyMs >= 290, String(d!.attempts[0]!.latencyMs));
    } finally {
      await dispatcher.stop();
      await dead.close();
    }
  });
});

describe('webhooks: production delivery-time SSRF check', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestContext({ env: FAST_ENV });
  });
  after(() => ctx?.close());

  it('re-resolves the callback host before each attempt and refuses private addresses (DNS rebinding)', async () => {
    const services = ctx.openramp.services;
    let fetches = 0;
    const fakeFetch: typeof fetch = async () => {
      fetches += 1;
      return new Response('ok', { status: 200 });
    };
    let answer = ['93.184.216.34'];
    const dispatcher = createWebhookDispatcher({
      db: services.db,
      clock: services.clock,
      ids: createIdGenerator(),
      partners: services.partners,
      horizon: createEventHorizon(services.db),
      logger: createLogger({ level: 'silent' }),
      config: ctx.config.webhooks,
      allowPrivateTargets: false,
      resolve: async () => answer,
      fetchImpl: fakeFetch,
    });
    await services.partners.setCallbackUrl(ctx.partner.partnerId, 'https://hooks.partner.example/openramp');
    const [good] = await appendEvents(ctx, ctx.partner.partnerId, 1);
    await dispatcher.runOnce();
    assert.equal(fetches, 1);
    assert.equal((await deliveriesOf(ctx, ctx.partner.partnerId, { eventId: good! }))[0]!.status, 'SUCCEEDED');

    // The name now points inside the network. A new dispatcher: the first one caches DNS answers for a few seconds.
    answer = ['10.0.0.7'];
    const rebound = createWebhookDispatcher({
      db: services.db,
      clock: services.clock,
      ids: createIdGenerator(),
      partners: services.partners,
      horizon: createEventHorizon(services.db),
      logger: createLogger({ level: 'silent' }),
      config: ctx.config.webhooks,
      allowPrivateTargets: false,
      resolve: async () => answer,
      fetchImpl: fakeFetch,
    });
    const [bad] = await appendEvents(ctx, ctx.partner.partnerId, 1);
    await rebound.runOnce();
    assert.equal(fetches, 1, 'no request to a private address');
    const [d] = await deliveriesOf(ctx, ctx.partner.partnerId, { eventId: bad! });
    assert.equal(d!.status, 'PENDING');
    assert.match(
      d!.lastError!,
      /refused at delivery time \(SSRF protection\): callbackUrl: host "hooks\.partner\.example" resolves to a non-public address \(10\.0\.0\.7\)/,
    );
  });
});

describe('webhooks: pull feed GET /event/list', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestContext({ env: FAST_ENV });
  });
  after(() => ctx?.close());

  /**
   * Reads the feed from `after` until `expected` events have come (or, without `expected`, until
   * a page says there is no more). The feed serves only final events, and on Postgres another
   * test file's transaction can hold the horizon back for a while: an empty page then is the
   * feed working as designed, so the reader polls as a partner would.
   */
  async function readAll(creds: { apiKey: string; apiSecret: string }, limit: number, opts: { expected?: number; after?: string } = {}) {
    const seen: any[] = [];
    let cursor: string | undefined = opts.after;
    const giveUpAt = performance.now() + 30_000;
    for (;;) {
      const r = await call(ctx, { method: 'GET', url: `/event/list?limit=${limit}${cursor ? `&after=${cursor}` : ''}`, creds });
      assert.equal(r.status, 200, r.body);
      seen.push(...r.json.data.list);
      assert.ok(r.json.data.list.length <= limit);
      cursor = r.json.data.nextCursor;
      if (r.json.data.hasMore) continue;
      if (opts.expected === undefined || seen.length >= opts.expected) break;
      assert.ok(performance.now() < giveUpAt, `feed: ${seen.length} of ${opts.expected} events after 30 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return { seen, cursor: cursor! };
  }

  it('returns every event once, in order, across pages; only the caller’s', async () => {
    const other = await ctx.openramp.services.partners.create('Feed Other');
    const mine: string[] = [];
    for (let i = 0; i < 5; i++) {
      mine.push(...(await appendEvents(ctx, ctx.partner.partnerId, 5)));
      await appendEvents(ctx, other.partnerId, 3);
    }
    const { customerId } = await onboard(ctx);
    const { seen, cursor } = await readAll(ctx.partner, 7, { expected: 27 });
    const ids = seen.map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, 'no duplicates');
    assert.deepEqual(ids.slice(0, 25), mine);
    assert.deepEqual(
      seen.slice(25).map((e) => e.event),
      ['CUSTOMER_APPROVED', 'BANK_ACCOUNT_VERIFIED'],
    );
    assert.equal(seen[25].payload.id, customerId);
    for (const e of seen) assert.deepEqual(Object.keys(e).sort(), ['createdAt', 'event', 'id', 'payload']);

    // Nothing new: an empty page and the same cursor; then new events continue from there.
    const empty = await call(ctx, { method: 'GET', url: `/event/list?after=${cursor}` });
    assert.deepEqual(empty.json.data.list, []);
    assert.equal(empty.json.data.nextCursor, cursor);
    const more = await appendEvents(ctx, ctx.partner.partnerId, 2);
    const next = await readAll(ctx.partner, 100, { after: cursor, expected: 2 });
    assert.deepEqual(
      next.seen.map((e: any) => e.id),
      more,
    );

    const theirs = await readAll(other, 100, { expected: 15 });
    assert.equal(theirs.seen.length, 15);
    for (const bad of ['after=-1', 'after=abc', 'after=99999999999999999999', 'limit=0', 'limit=501']) {
      const r = await call(ctx, { method: 'GET', url: `/event/list?${bad}` });
      assert.equal(r.status, 422, `${bad}: ${r.body}`);
      assert.equal(r.json.status, 'INVALID_PARAMETERS');
    }
  });

  it('never moves past an event whose transaction commits later (feed and fan-out)', async (t) => {
    if (ctx.database.kind !== 'postgres') return t.skip('PGlite runs one transaction at a time');
    const receiver = await startReceiver();
    try {
      await ctx.openramp.services.partners.setCallbackUrl(ctx.partner.partnerId, receiver.url());
      await ctx.openramp.services.webhookDispatcher.runOnce();
      const { cursor } = await readAll(ctx.partner, 500);
      receiver.received.length = 0;
      const { db, outbox } = ctx.openramp.services;
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let appended!: () => void;
      const inserted = new Promise<void>((r) => (appended = r));
      let slowId = '';
      // A writer takes the lower seq and commits late, after a faster writer has committed.
      const slow = db.transaction().execute(async (tx) => {
        await tx.updateTable('partners').set({ updated_at: new Date() }).where('id', '=', ctx.partner.partnerId).execute();
        slowId = await outbox.append(tx, {
          partnerId: ctx.partner.partnerId,
          type: 'CUSTOMER_APPROVED',
          objectType: 'customer',
          objectId: 'late',
          objectVersion: 1,
          payload: { id: 'late' },
        });
        appended();
        await gate;
      });
      await inserted;
      const [fastId] = await appendEvents(ctx, ctx.partner.partnerId, 1);
      const during = await call(ctx, { method: 'GET', url: `/event/list?after=${cursor}` });
      assert.deepEqual(during.json.data.list, [], 'the committed later seq is held back while a lower one may still commit');
      assert.equal(during.json.data.nextCursor, cursor);
      // The background fan-out does not wait for writers: it creates no delivery for the fast event yet.
      await ctx.openramp.services.webhookDispatcher.fanOut();
      const early = await db.selectFrom('webhook_deliveries').select('event_id').where('event_id', 'in', [slowId, fastId!]).execute();
      assert.deepEqual(early, []);
      release();
      await slow;
      const afterCommit = await readAll(ctx.partner, 100, { after: cursor, expected: 2 });
      assert.deepEqual(
        afterCommit.seen.map((e: any) => e.id),
        [slowId, fastId],
      );
      await ctx.openramp.services.webhookDispatcher.runOnce();
      assert.deepEqual(
        receiver.received.map((r) => r.json.id),
        [slowId, fastId],
      );
    } finally {
      await receiver.close();
    }
  });
});

describe('webhooks: several processes', () => {
  it('two dispatchers on one database: each event gets one automatic delivery and one successful request', async () => {
    const pair = await createTwoAppsOnOneDatabase({ env: { ...FAST_ENV, OPENRAMP_WEBHOOK_FANOUT_BATCH_SIZE_MAX: '7' } });
    const receiver = await startReceiver();
    try {
      const { a, b } = pair;
      await a.openramp.services.partners.setCallbackUrl(a.partner.partnerId, receiver.url());
      const ids = await appendEvents(a, a.partner.partnerId, 60);
      await Promise.all([
        a.openramp.services.webhookDispatcher.fanOut({ covering: true }),
        b.openramp.services.webhookDispatcher.fanOut({ covering: true }),
        a.openramp.services.webhookDispatcher.fanOut({ covering: true }),
      ]);
      const rows = await a.openramp.services.db
        .selectFrom('webhook_deliveries')
        .select(['event_id'])
        .where('partner_id', '=', a.partner.partnerId)
        .execute();
      assert.deepEqual(rows.map((r) => r.event_id).sort(), [...ids].sort());
      await Promise.all([a.openramp.services.webhookDispatcher.runOnce(), b.openramp.services.webhookDispatcher.runOnce()]);
      assert.deepEqual(receiver.received.map((r) => r.json.id).sort(), [...ids].sort(), 'each event sent exactly once');
    } finally {
      await pair.close();
      await receiver.close();
    }
  });
});

describe('webhooks: configuration and SDK request signing', () => {
  it('parses the retry schedule and the concurrency bounds, naming the setting on errors', () => {
    const c = loadConfig({ OPENRAMP_WEBHOOK_RETRY_SCHEDULE: '0s, 250ms,1m,1h,1d', OPENRAMP_WEBHOOK_TIMEOUT_MS: '5000' });
    assert.deepEqual(c.webhooks.retryScheduleMs, [0, 250, 60_000, 3_600_000, 86_400_000]);
    assert.equal(c.webhooks.timeoutMs, 5000);
    assert.equal(loadConfig({}).webhooks.timeoutMs, 30_000);
    for (const [env, setting] of [
      [{ OPENRAMP_WEBHOOK_RETRY_SCHEDULE: '5 minutes' }, 'OPENRAMP_WEBHOOK_RETRY_SCHEDULE'],
      [{ OPENRAMP_WEBHOOK_RETRY_SCHEDULE: '0s,,5s' }, 'OPENRAMP_WEBHOOK_RETRY_SCHEDULE'],
      [{ OPENRAMP_WEBHOOK_RETRY_SCHEDULE: '30d' }, 'OPENRAMP_WEBHOOK_RETRY_SCHEDULE'],
      [{ OPENRAMP_WEBHOOK_TIMEOUT_MS: '10' }, 'OPENRAMP_WEBHOOK_TIMEOUT_MS'],
      [
        { OPENRAMP_WEBHOOK_CONCURRENCY_MAX: '4', OPENRAMP_WEBHOOK_PER_PARTNER_IN_FLIGHT_MAX: '4' },
        'OPENRAMP_WEBHOOK_PER_PARTNER_IN_FLIGHT_MAX',
      ],
    ] as const) {
      assert.throws(
        () => loadConfig(env),
        (err: unknown) => err instanceof ConfigError && err.setting === setting,
        JSON.stringify(env),
      );
    }
  });

  it('signRequest from the SDK signs real API calls over a socket', async () => {
    const ctx = await createTestContext({ env: FAST_ENV });
    try {
      await ctx.openramp.api.listen({ host: '127.0.0.1', port: 0 });
      const addr = ctx.openramp.api.server.address() as { port: number };
      const base = `http://127.0.0.1:${addr.port}`;
      const get = await fetch(`${base}/event/list?limit=5`, {
        headers: signRequest({
          apiKey: ctx.partner.apiKey,
          apiSecret: ctx.partner.apiSecret,
          method: 'GET',
          url: `${base}/event/list?limit=5`,
        }),
      });
      assert.equal(get.status, 200, await get.clone().text());
      const body = JSON.stringify({ callbackUrl: 'http://127.0.0.1:9/hooks' });
      const post = await fetch(`${base}/callback-url`, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          ...signRequest({
            apiKey: ctx.partner.apiKey,
            apiSecret: ctx.partner.apiSecret,
            method: 'POST',
            url: `${base}/callback-url`,
            body,
          }),
        },
      });
      assert.equal(post.status, 200, await post.clone().text());
      const tampered = await fetch(`${base}/callback-url`, {
        method: 'POST',
        body: body.replace('9', '8'),
        headers: {
          'content-type': 'application/json',
          ...signRequest({
            apiKey: ctx.partner.apiKey,
            apiSecret: ctx.partner.apiSecret,
            method: 'POST',
            url: `${base}/callback-url`,
            body,
          }),
        },
      });
      assert.equal(tampered.status, 401);
    } finally {
      await ctx.close();
    }
  });
});
