import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, type TestContext } from './helpers/harness.ts';
import { createTwoAppsOnOneDatabase } from './helpers/second-app.ts';
import { frozenClock } from './helpers/wire.ts';
import { createSharedRateLimiter } from '../src/infra/auth/rate-limit.ts';

/**
 * The per-key rate limit holds for the sum of every API process (docs/request-signing.md, "Rate
 * limit"): two apps on one database share one budget. Time is a clock frozen mid-minute, so the
 * window cannot roll over under the test.
 */
describe('rate limit across processes', () => {
  const clock = frozenClock();
  let pair: Awaited<ReturnType<typeof createTwoAppsOnOneDatabase>>;
  before(async () => {
    pair = await createTwoAppsOnOneDatabase({ authClock: clock, env: { OPENRAMP_RATE_LIMIT_PER_MINUTE: '10' } });
  });
  after(() => pair.close());

  const ts = () => String(Math.floor(clock.now().getTime() / 1000));
  const hit = (ctx: TestContext, creds = pair.a.partner) => call(ctx, { method: 'GET', url: '/basic-info', timestamp: ts(), creds });

  it('limit 10: 6 on A and 6 on B → the 11th and 12th are refused 429 with Retry-After; then A is refused too', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await hit(pair.a)).status);
    const onB = [];
    for (let i = 0; i < 6; i++) onB.push(await hit(pair.b));
    statuses.push(...onB.map((r) => r.status));
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 429, 429]);
    for (const r of onB.slice(4)) {
      assert.equal(r.headers['x-error-code'], 'RATE_LIMITED');
      assert.deepEqual(Object.keys(r.json).sort(), ['message', 'status']);
      assert.equal(r.json.status, 'FAILED');
      assert.equal(r.headers['retry-after'], '30', 'frozen at mid-minute: 30 s to the next window');
    }
    // A counted 6 itself; it learns from the shared counter that the budget is spent.
    const a = await hit(pair.a);
    assert.equal(a.status, 429, a.body);
    // Another partner's key has its own budget, on either process.
    const other = await pair.a.openramp.services.partners.create('Neighbour');
    assert.equal((await hit(pair.b, other)).status, 200);
    // The next minute is open again on both.
    clock.advance(30_000);
    assert.equal((await hit(pair.a)).status, 200);
    assert.equal((await hit(pair.b)).status, 200);
  });

  it('a concurrent burst split over both processes lets exactly the limit through', async () => {
    clock.advance(60_000);
    const burst = await Promise.all(Array.from({ length: 24 }, (_, i) => hit(i % 2 === 0 ? pair.a : pair.b)));
    assert.equal(burst.filter((r) => r.status === 200).length, 10, burst.map((r) => r.status).join(','));
    assert.equal(burst.filter((r) => r.status === 429).length, 14);
  });

  it('the counter: hits written together are counted in arrival order; old windows are purged', async () => {
    const db = pair.a.openramp.services.db;
    const limiter = createSharedRateLimiter({ db });
    const now = clock.now().getTime();
    const results = await Promise.all(Array.from({ length: 5 }, () => limiter.hit('key_unit', 3, now)));
    assert.deepEqual(
      results.map((r) => r === null),
      [true, true, true, false, false],
    );
    // A second limiter (another process) sees the same window.
    const other = createSharedRateLimiter({ db });
    assert.notEqual(await other.hit('key_unit', 3, now), null);
    assert.equal(await other.hit('key_unit', 3, now + 60_000), null, 'the next window starts at zero');
    const purged = await limiter.purgeExpired(now + 3 * 60_000);
    assert.ok(purged >= 2, `purged ${purged}`);
    const left = await db.selectFrom('rate_limit_windows').select('api_key_id').where('api_key_id', '=', 'key_unit').execute();
    assert.equal(left.length, 0);
  });
});
