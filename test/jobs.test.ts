import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createJobQueue } from '../src/infra/jobs/queue.ts';
import { createAdjustableClock } from '../src/infra/lib/clock.ts';
import { createLogger } from '../src/infra/lib/logger.ts';
import { AppError } from '../src/infra/lib/errors.ts';
import { openTestDatabase } from './helpers/harness.ts';
import type { DatabaseHandle } from '../src/infra/db/database.ts';

describe('job queue (FOR UPDATE SKIP LOCKED, leases, retries)', () => {
  let database: DatabaseHandle;
  const logger = createLogger({ level: 'silent' });
  before(async () => {
    database = await openTestDatabase();
  });
  after(() => database.close());

  const queue = (clock = createAdjustableClock()) =>
    createJobQueue({ db: database.db, clock, logger, pollIntervalMs: 10, batchSizeMax: 10, leaseMs: 1000 });

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
    assert.equal(rows[0]!.last_error, 'never works');
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
