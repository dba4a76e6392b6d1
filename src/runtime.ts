import { existsSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, parseMasterKey, type Config } from './config.ts';
import { migrateToLatest, openDatabase, type DatabaseHandle } from './infra/db/database.ts';
import { createOpenRamp, type OpenRamp, type RuntimeSecrets } from './app.ts';
import { FIAT_ASSETS } from './infra/lib/money.ts';
import { isSandboxXpub, parseAccountXpub, SANDBOX_XPUBS, type NetworkFamily } from './adapters/chains/addresses.ts';

/**
 * Process-level wiring: resolve secrets (generating sandbox ones in the data folder), open and
 * migrate the database, build the app, bootstrap the sandbox partner, listen.
 */
export const SANDBOX_PARTNER_FILE = 'sandbox-partner.json';
export const SERVER_FILE = 'server.json';
/** 10,000,000.00 of each fiat currency in the sandbox treasury at first start. */
export const SANDBOX_TREASURY_FUNDING_MINOR = 1_000_000_000n;

function readOrCreate(file: string, create: () => string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const value = create();
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return value;
}

export function resolveSecrets(config: Config, logger: Logger): RuntimeSecrets {
  const masterKey =
    config.masterKey ??
    parseMasterKey(
      readOrCreate(path.join(config.dataDir, 'master.key'), () => randomBytes(32).toString('hex')),
      `${config.dataDir}/master.key`,
    );
  const operatorToken =
    config.operatorToken ?? readOrCreate(path.join(config.dataDir, 'operator-token'), () => `opt_${randomBytes(24).toString('base64url')}`);
  const xpubs = {} as Record<NetworkFamily, string>;
  for (const family of ['EVM', 'TRON'] as const) {
    const setting = `OPENRAMP_XPUB_${family}`;
    const configured = config.xpubs[family];
    if (config.mode === 'production') {
      if (!configured) throw new ConfigError(setting, 'is required in production mode');
      if (isSandboxXpub(configured))
        throw new ConfigError(setting, 'is the public sandbox test xpub; anyone holds its private keys, so production refuses it');
    }
    const xpub = configured ?? SANDBOX_XPUBS[family];
    try {
      const key = parseAccountXpub(xpub);
      if (key.depth !== 3) throw new Error(`expected an account-level xpub (depth 3, e.g. m/44'/60'/0'), got depth ${key.depth}`);
    } catch (err) {
      throw new ConfigError(setting, (err as Error).message);
    }
    if (isSandboxXpub(xpub)) {
      logger.warn(
        { family },
        `SANDBOX: deposit addresses for ${family} derive from the PUBLIC test mnemonic — never send real funds to them`,
      );
    }
    xpubs[family] = xpub;
  }
  return { masterKey, operatorToken, xpubs };
}

export async function openConfiguredDatabase(config: Config): Promise<DatabaseHandle> {
  return openDatabase({ databaseUrl: config.databaseUrl, pgliteDir: config.databaseUrl ? null : path.join(config.dataDir, 'pgdata') });
}

export interface RunningServer {
  openramp: OpenRamp;
  url: string;
  close(): Promise<void>;
}

export async function startServer(
  config: Config,
  logger: Logger,
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<RunningServer> {
  const secrets = resolveSecrets(config, logger);
  const database = await openConfiguredDatabase(config);
  try {
    await migrateToLatest(database.db);
  } catch (err) {
    await database.close();
    throw err;
  }
  const openramp = await createOpenRamp({ config, database, secrets, logger });
  if (config.role !== 'api') openramp.startWorkers();

  let url = '';
  if (config.role !== 'worker') {
    await openramp.api.listen({ host: config.host, port: config.port });
    const addr = openramp.api.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.port;
    url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(
      path.join(config.dataDir, SERVER_FILE),
      JSON.stringify({ url, pid: process.pid, instance: openramp.instanceId, startedAt: new Date().toISOString() }, null, 2),
      { mode: 0o600 },
    );
  }

  if (config.mode === 'sandbox') {
    const file = path.join(config.dataDir, SANDBOX_PARTNER_FILE);
    if (!existsSync(file)) {
      // A sandbox that pays out from the first deposit: fund each fiat treasury once.
      for (const currency of FIAT_ASSETS) {
        await openramp.services.payouts.fundTreasury(currency, SANDBOX_TREASURY_FUNDING_MINOR, `sandbox-initial-${currency}`);
      }
      const creds = await openramp.services.partners.create('Sandbox Partner');
      writeFileSync(file, JSON.stringify(creds, null, 2), { mode: 0o600 });
      out('Sandbox partner created (the secret is shown once; also saved to the file below):');
      out(JSON.stringify(creds, null, 2));
    }
    out(`Sandbox partner credentials: ${file}`);
    out('SANDBOX MODE: deposit addresses derive from a public test mnemonic. Never send real funds.');
  }
  if (url) {
    out(`OpenRamp ${config.mode} listening on ${url}`);
    out(`  API docs:   ${url}/docs`);
  }

  return {
    openramp,
    url,
    async close() {
      await openramp.close();
      await database.close();
      if (url) rmSync(path.join(config.dataDir, SERVER_FILE), { force: true });
    },
  };
}
