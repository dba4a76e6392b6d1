import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config.ts';
import { createOpenRamp } from '../../src/app.ts';
import { createLogger } from '../../src/infra/lib/logger.ts';
import { SANDBOX_XPUBS } from '../../src/adapters/chains/addresses.ts';
import type { Clock } from '../../src/infra/lib/clock.ts';
import { openTestDatabase, type TestContext } from './harness.ts';

/**
 * Two OpenRamp apps — two "server processes" — on ONE database handle, sharing the master key
 * (so both can open the partner's sealed API secret) but nothing in memory: each has its own
 * nonce cache, key cache and rate limiter. Each is returned as a TestContext, so the harness's
 * `call()` works against either. `close()` closes both apps and then the database.
 */
export async function createTwoAppsOnOneDatabase(
  opts: { env?: Record<string, string>; clock?: Clock; authClock?: Clock } = {},
): Promise<{ a: TestContext; b: TestContext; close(): Promise<void> }> {
  const config = loadConfig({
    OPENRAMP_MODE: 'sandbox',
    OPENRAMP_SANDBOX_KYC_DELAY_MS: '0',
    OPENRAMP_LOG_LEVEL: 'silent',
    OPENRAMP_DATA_DIR: '/nonexistent',
    ...opts.env,
  });
  const database = await openTestDatabase();
  const masterKey = randomBytes(32);
  const operatorToken = `opt_${randomBytes(24).toString('base64url')}`;
  const build = () =>
    createOpenRamp({
      config,
      database,
      secrets: { masterKey, operatorToken, xpubs: { ...SANDBOX_XPUBS } },
      logger: createLogger({ level: config.logLevel }),
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.authClock ? { authClock: opts.authClock } : {}),
    });
  const appA = await build();
  const appB = await build();
  const partner = await appA.services.partners.create('Shared-DB Partner');
  const noClose = async () => {
    throw new Error('close the pair with the close() returned by createTwoAppsOnOneDatabase');
  };
  return {
    a: { openramp: appA, config, partner, database, operatorToken, outboxDir: config.payouts.outboxDir, close: noClose },
    b: { openramp: appB, config, partner, database, operatorToken, outboxDir: config.payouts.outboxDir, close: noClose },
    async close() {
      await appA.close();
      await appB.close();
      await database.close();
    },
  };
}
