import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createJobQueue } from '../src/infra/jobs/queue.ts';
import { createAdjustableClock } from '../src/infra/lib/clock.ts';
import { createLogger } from '../src/infra/lib/logger.ts';
import { Registry } from 'prom-client';
import { AppError, isRetryable } from '../src/infra/lib/errors.ts';
import { openTestDatabase } from './helpers/harness.ts';
import type { DatabaseHandle } from '../src/infra/db/database.ts';

describe('job queue (FOR UPDATE SKIP LOCKED, leases, retries)', () => {
  let database: DatabaseHandle;
  const logger = createLogger({ level: 'silent' });
  before(async () => {
    database = await openTestDatabase();
  });
  after(() => database.close());

  const queue = (clock = createAdjustableClock(), metrics?: Registry) =>
    createJobQueue({
      db: database.db,
      clock,
      logger,
      pollIntervalMs: 10,
      batchSizeMax: 10,
      leaseMs: 1000,
      ...(metrics ? { metrics } : {}),
    });

  it('two workers never run the same job twice; unique keys dedupe enqueues', async () => {
    const ran: string[] = [];
    const a = queue();
    const b = queue();
    for (const q of [a, b]) q.register('t.count', async (p) => void ran.push(String(p.n)));
    for (let i = 0; i < 40; i++) await a.enqueue(database.db, { kind: 't.count', payload: { n: i }, uniqueKey: `count:${i}` });
    await a.enqueue(database.db, { kind: 't.count', payload: { n: 0 }, uniqueKey: 'count:0' });
    let total = 0;
    for (;;) {
      const [x, y] = await Promise.all([a.runDue(), b.runDue()]);
      total += x + y;
      if (x + y === 0) break;
    }
    assert.equal(total, 40);
    assert.equal(new Set(ran).size, 40);
    assert.equal(ran.length, 40);
  });

  it('retries retryable failures with backoff, fails non-retryable ones at once', async () => {
    const clock = createAdjustableClock();
    const q = queue(clock);
    let calls = 0;
    q.register('t.flaky', async () => {
      calls += 1;
      if (calls < 3) throw new AppError('DEPENDENCY_UNAVAILABLE', 'try later');
    });
    q.register('t.bad', async () => {
      throw new AppError('INVALID_PARAMETERS', 'never works');
    });
    await q.enqueue(database.db, { kind: 't.flaky', payload: {} });
    await q.enqueue(database.db, { kind: 't.bad', payload: {} });
    await q.runDue();
    assert.equal(calls, 1);
    assert.equal(await q.runDue(), 0, 'backoff: not due yet');
    clock.advance(60_000);
    await q.runDue();
    clock.advance(60_000);
    await q.runDue();
    assert.equal(calls, 3);
    const rows = await database.db
      .selectFrom('jobs')
      .select(['kind', 'status', 'attempts', 'last_error'])
      .where('kind', 'in', ['t.flaky', 't.bad'])
      .orderBy('kind')
      .execute();
    assert.deepEqual(
      rows.map((r) => [r.kind, r.status, r.attempts]),
      [
        ['t.bad', 'failed', 1],
        ['t.flaky', 'done', 3],
      ],
    );
    assert.equal(rows[0]!.last_error, 'INVALID_PARAMETERS: never works', 'the code is recorded with the message');
  });

  it('parks a job failing with anything not known to be transient, and counts broken invariants', async () => {
    const clock = createAdjustableClock();
    const metrics = new Registry();
    const q = queue(clock, metrics);
    const calls: Record<string, number> = {};
    const failing = (kind: string, err: () => unknown) =>
      q.register(kind, async () => {
        calls[kind] = (calls[kind] ?? 0) + 1;
        if (calls[kind] === 1) throw err();
      });
    failing('t.invariant', () => new AppError('INVARIANT_BROKEN', 'payout above its trade'));
    failing('t.bug', () => new TypeError("Cannot read properties of undefined (reading 'id')"));
    failing('t.internal', () => new AppError('INTERNAL', 'unexpected'));
    // Known transient failures are retried, whatever wraps them.
    failing('t.deadlock', () => Object.assign(new Error('deadlock detected'), { code: '40P01' }));
    failing('t.reset', () => new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) }));
    const kinds = ['t.invariant', 't.bug', 't.internal', 't.deadlock', 't.reset'];
    for (const kind of kinds) await q.enqueue(database.db, { kind, payload: { kind } });
    assert.equal(await q.runDue(), kinds.length);
    clock.advance(60_000);
    assert.equal(await q.runDue(), 2, 'only the transient failures run again');
    assert.deepEqual(calls, { 't.invariant': 1, 't.bug': 1, 't.internal': 1, 't.deadlock': 2, 't.reset': 2 });

    const parked = await q.parked();
    const mine = parked.filter((j) => kinds.includes(j.kind));
    assert.deepEqual(mine.map((j) => j.kind).sort(), ['t.bug', 't.internal', 't.invariant']);
    const invariant = mine.find((j) => j.kind === 't.invariant')!;
    assert.equal(invariant.lastError, 'INVARIANT_BROKEN: payout above its trade');
    assert.deepEqual(invariant.payload, { kind: 't.invariant' });
    assert.equal(invariant.attempts, 1);
    assert.deepEqual(
      (await q.parked({ kind: 't.bug' })).map((j) => j.lastError),
      ["Cannot read properties of undefined (reading 'id')"],
    );

    const broken = await metrics.getSingleMetricAsString('openramp_invariant_broken_total');
    assert.match(broken, /^openramp_invariant_broken_total\{job="t\.invariant"\} 1$/m);
    assert.doesNotMatch(broken, /t\.bug|t\.internal|t\.deadlock/, 'other failures park without the invariant alert');
    const parkedMetric = await metrics.getSingleMetricAsString('openramp_jobs_parked_total');
    for (const kind of ['t.invariant', 't.bug', 't.internal'])
      assert.match(parkedMetric, new RegExp(`job="${kind.replace('.', '\\.')}"\\} 1`));
  });

  it('a job whose worker died is claimed again after its lease expires', async () => {
    const clock = createAdjustableClock();
    await database.db.updateTable('jobs').set({ status: 'done' }).execute();
    const dead = queue(clock);
    dead.register('t.lease', async () => {
      await new Promise(() => {}); // never finishes: simulates a crashed worker holding the lease
    });
    await dead.enqueue(database.db, { kind: 't.lease', payload: {} });
    void dead.runDue();
    await new Promise((r) => setTimeout(r, 50));
    const alive = queue(clock);
    let ran = 0;
    alive.register('t.lease', async () => void ran++);
    assert.equal(await alive.runDue(), 0, 'lease still held');
    clock.advance(1500);
    assert.equal(await alive.runDue(), 1);
    assert.equal(ran, 1);
  });
});

describe('isRetryable: only known transient failures', () => {
  const withCode = (code: string) => Object.assign(new Error(code), { code });
  it('retries AppErrors marked retryable, and nothing else from the catalogue', () => {
    assert.equal(isRetryable(new AppError('DEPENDENCY_UNAVAILABLE', 'x')), true);
    assert.equal(isRetryable(new AppError('RATE_LIMITED', 'x')), true);
    assert.equal(isRetryable(new AppError('CONCURRENT_UPDATE', 'x')), true);
    for (const code of ['INTERNAL', 'INVARIANT_BROKEN', 'DEPOSIT_ALREADY_TRADED', 'PRECONDITION_FAILED', 'NOT_FOUND'] as const)
      assert.equal(isRetryable(new AppError(code, 'x')), false, code);
  });
  it('retries Postgres connection, serialization, deadlock, shutdown and too-many-connections failures', () => {
    for (const code of ['08000', '08006', '08P01', '40001', '40P01', '57P01', '57P02', '57P03', '53300'])
      assert.equal(isRetryable(withCode(code)), true, code);
    for (const code of ['23505', '23503', '42P01', '22P02', '40002', '57014']) assert.equal(isRetryable(withCode(code)), false, code);
    assert.equal(isRetryable(new Error('Connection terminated unexpectedly')), true);
  });
  it('retries network errors, timeouts and aborts, also when wrapped', () => {
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']) {
      assert.equal(isRetryable(withCode(code)), true, code);
      assert.equal(isRetryable(new Error('wrapped', { cause: withCode(code) })), true, `${code} as a cause`);
    }
    assert.equal(isRetryable(Object.assign(new Error('timed out'), { name: 'TimeoutError' })), true);
    assert.equal(isRetryable(Object.assign(new Error('aborted'), { name: 'AbortError' })), true);
    assert.equal(isRetryable(withCode('ENOENT')), false);
  });
  it('does not retry bugs or non-errors', () => {
    assert.equal(isRetryable(new TypeError('x is undefined')), false);
    assert.equal(isRetryable(new Error('no result')), false);
    assert.equal(isRetryable('a string'), false);
    assert.equal(isRetryable(undefined), false);
  });
});
