import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_DOC, ConfigError, loadConfig, SETTINGS, settingsMarkdownTable } from '../src/config.ts';
import { README, withSettingsTable } from '../scripts/docs-settings.ts';
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
  it('defaults to sandbox on 127.0.0.1:8080 with a 60 s window and 6000 req/min (production: 100)', () => {
    const c = loadConfig({});
    assert.equal(c.mode, 'sandbox');
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 8080);
    assert.equal(c.auth.timestampWindowSeconds, 60);
    assert.equal(c.auth.rateLimitPerMinute, 6000);
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

describe('the settings list (SETTINGS in src/config.ts)', () => {
  const SRC = path.resolve(import.meta.dirname, '../src');
  const sourceFiles = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
    );
  const reEscape = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // A listed name as a pattern: <NET>, <TOKEN>, <RAIL> stand for a literal value or a template hole.
  const defPatterns = SETTINGS.map(
    (s) =>
      new RegExp(
        `^${s.name
          .split(/<[A-Z]+>/)
          .map(reEscape)
          .join('(?:[A-Z0-9_]+|\\$\\{[^}]+\\})')}$`,
      ),
  );
  // A name read in the source as a pattern: a template hole stands for any part of a listed name.
  const sourcePattern = (name: string) =>
    new RegExp(
      `^${name
        .split(/\$\{[^}]+\}/)
        .map(reEscape)
        .join('(?:[A-Z0-9_]|<[A-Z]+>)+')}$`,
    );
  const listed = (name: string) => defPatterns.some((re) => re.test(name)) || SETTINGS.some((s) => sourcePattern(name).test(s.name));

  /** Setting names read in a source text: `env.X`, `env['X']`, and OPENRAMP_* names in string or template literals. */
  function settingsRead(text: string): string[] {
    const names = new Set<string>();
    for (const m of text.matchAll(/\benv(?:\.|\[\s*['"`])([A-Z][A-Z0-9_]*)/g)) names.add(m[1]!);
    for (const m of text.matchAll(/['"`](OPENRAMP_(?:[A-Z0-9_]|<[A-Z]+>|\$\{[^}]+\})*)/g)) names.add(m[1]!);
    return [...names];
  }

  it('the scan finds what it should (so an empty result cannot pass)', () => {
    assert.deepEqual(settingsRead(`env.PORT; env['HOST']; const n = \`OPENRAMP_RPC_URL_\${network}\`; 'OPENRAMP_MODE'`).sort(), [
      'HOST',
      'OPENRAMP_MODE',
      `OPENRAMP_RPC_URL_\${network}`,
      'PORT',
    ]);
    const hole = (x: string) => `OPENRAMP_${x}_\${network}`; // a template literal's text, as the scan sees it
    assert.ok(listed(hole('RPC_URL')) && listed('OPENRAMP_RPC_URL_ETH') && listed('OPENRAMP_FEE_FIXED_<RAIL>'));
    assert.ok(listed(`OPENRAMP_XPUB_\${family}`) && !listed('OPENRAMP_RPC_URL'));
    assert.ok(!listed('OPENRAMP_NOT_A_SETTING') && !listed(hole('NOT_A_SETTING')));
  });

  it('lists every setting read anywhere in src/', () => {
    const unlisted: string[] = [];
    let found = 0;
    for (const file of sourceFiles(SRC)) {
      for (const name of settingsRead(readFileSync(file, 'utf8'))) {
        found++;
        if (!listed(name)) unlisted.push(`${path.relative(SRC, file)}: ${name}`);
      }
    }
    assert.ok(found > 20, `expected the scan to find the settings read in src/, found ${found}`);
    assert.deepEqual(unlisted, [], 'settings read in src/ but missing from SETTINGS in src/config.ts');
  });

  it('has one entry per name, each with a description', () => {
    const names = SETTINGS.map((s) => s.name);
    assert.equal(new Set(names).size, names.length);
    for (const s of SETTINGS) assert.ok(s.description.length > 0, s.name);
  });

  it('drives the defaults: an unset setting takes the listed default of the mode', () => {
    const c = loadConfig({});
    assert.equal(c.jobs.leaseMs, 60_000);
    assert.equal(c.payouts.batchImmediately, true);
    assert.equal(c.webhooks.retryScheduleMs.length, 8);
    assert.equal(loadConfig({ ...prodBase }).payouts.batchImmediately, false);
    assert.equal(
      settingOf(() => loadConfig({ OPENRAMP_SCANNER_RANGE_BLOCKS_MAX: '100001' })),
      'OPENRAMP_SCANNER_RANGE_BLOCKS_MAX',
    );
    assert.equal(
      settingOf(() => loadConfig({ OPENRAMP_FEE_FIXED_ACH: 'x' })),
      'OPENRAMP_FEE_FIXED_ACH',
    );
  });

  it('CONFIG_DOC and the README table are generated from it, and the README is up to date', () => {
    for (const s of SETTINGS) {
      assert.ok(CONFIG_DOC.includes(s.name), `CONFIG_DOC lists ${s.name}`);
      assert.ok(settingsMarkdownTable().includes(`\`${s.name}\``), `the table lists ${s.name}`);
    }
    const readme = readFileSync(README, 'utf8');
    assert.equal(readme, withSettingsTable(readme), 'README.md settings table is stale: run npm run docs:settings');
  });
});
