import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createAdvisoryLease } from '../src/adapters/chains/lease.ts';
import { openTestDatabase } from './helpers/harness.ts';

describe('one active scanner per network across processes', () => {
  it('the advisory lease is held by one holder at a time and passes on when released', {
    skip: process.env.DATABASE_URL ? false : 'PGlite is a single process: no lease needed (runs on Postgres in CI)',
  }, async () => {
    const a = await openTestDatabase();
    const b = await openTestDatabase();
    try {
      // A key base of its own, so a server running elsewhere in the suite cannot interfere.
      const base = 0x7e570000 + Math.floor(Math.random() * 0xff00);
      const leaseA = createAdvisoryLease(a.db, base);
      const leaseB = createAdvisoryLease(b.db, base);
      assert.equal(await leaseA.tryAcquire('TRX'), true);
      assert.equal(await leaseA.tryAcquire('TRX'), true, 're-entrant for its holder');
      assert.equal(await leaseB.tryAcquire('TRX'), false, 'a second process is refused');
      assert.equal(await leaseB.tryAcquire('ETH'), true, 'other networks are independent');
      await leaseA.release('TRX');
      // The lock is released by the connection that holds it; give it a moment.
      let got = false;
      for (let i = 0; i < 20 && !got; i++) {
        got = await leaseB.tryAcquire('TRX');
        if (!got) await new Promise((r) => setTimeout(r, 25));
      }
      assert.equal(got, true, 'the lease passes to the next process');
      await leaseB.release('TRX');
      await leaseB.release('ETH');
    } finally {
      await a.close();
      await b.close();
    }
  });
});
