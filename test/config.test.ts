import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../src/config.ts';
import { resolveSecrets } from '../src/runtime.ts';
import { createLogger } from '../src/infra/lib/logger.ts';
import { SANDBOX_XPUBS } from '../src/adapters/chains/addresses.ts';

const prodBase = {
  OPENRAMP_MODE: 'production',
  DATABASE_URL: 'postgres://u@h/db',
  OPENRAMP_MASTER_KEY: 'a'.repeat(64),
  OPENRAMP_OPERATOR_TOKEN: 'opt_k3J9xQ2mZ7vB4nR8tY1wL6pS0dF5gH2c', // production checks its strength
  OPENRAMP_XPUB_EVM: 'xpub-evm',
  OPENRAMP_XPUB_TRON: 'xpub-tron',
  OPENRAMP_RPC_URL_ETH: 'http://eth.example',
  OPENRAMP_RPC_URL_MATIC: 'http://matic.example',
  OPENRAMP_RPC_URL_TRX: 'http://trx.example/jsonrpc',
};

function settingOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.setting;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('defaults to sandbox on 127.0.0.1:8080 with a 60 s window and 100 req/min', () => {
    const c = loadConfig({});
    assert.equal(c.mode, 'sandbox');
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 8080);
    assert.equal(c.auth.timestampWindowSeconds, 60);
    assert.equal(c.auth.rateLimitPerMinute, 100);
    assert.equal(c.databaseUrl, null);
  });

  it('production refuses to start without each required setting, naming it', () => {
    for (const name of [
      'DATABASE_URL',
      'OPENRAMP_MASTER_KEY',
      'OPENRAMP_OPERATOR_TOKEN',
      'OPENRAMP_XPUB_EVM',
      'OPENRAMP_XPUB_TRON',
      'OPENRAMP_RPC_URL_ETH',
      'OPENRAMP_RPC_URL_MATIC',
      'OPENRAMP_RPC_URL_TRX',
    ]) {
      const env: Record<string, string> = { ...prodBase };
      delete env[name];
      assert.equal(
        settingOf(() => loadConfig(env)),
        name,
      );
    }
    assert.doesNotThrow(() => loadConfig(prodBase));
  });

  it('names bad values', () => {
    assert.equal(
      settingOf(() => loadConfig({ PORT: 'eighty' })),
      'PORT',
    );
    assert.equal(
      settingOf(() => loadConfig({ OPENRAMP_MODE: 'staging' })),
      'OPENRAMP_MODE',
    );
    assert.equal(
      settingOf(() => loadConfig({ OPENRAMP_MASTER_KEY: 'short' })),
      'OPENRAMP_MASTER_KEY',
    );
    assert.equal(
      settingOf(() => loadConfig({ DATABASE_URL: 'mysql://x' })),
      'DATABASE_URL',
    );
  });

  it('production refuses the public sandbox xpub; sandbox uses it', () => {
    const logger = createLogger({ level: 'silent' });
    const prod = loadConfig({ ...prodBase, OPENRAMP_XPUB_EVM: SANDBOX_XPUBS.EVM, OPENRAMP_XPUB_TRON: SANDBOX_XPUBS.TRON });
    assert.equal(
      settingOf(() => resolveSecrets(prod, logger)),
      'OPENRAMP_XPUB_EVM',
    );
    const bad = loadConfig({ ...prodBase });
    assert.equal(
      settingOf(() => resolveSecrets(bad, logger)),
      'OPENRAMP_XPUB_EVM',
    );
    const sandbox = loadConfig({ OPENRAMP_MASTER_KEY: 'b'.repeat(64), OPENRAMP_OPERATOR_TOKEN: 'y'.repeat(32) });
    assert.deepEqual(resolveSecrets(sandbox, logger).xpubs, SANDBOX_XPUBS);
  });
});
