import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs as parseNodeArgs } from 'node:util';
import { ConfigError, loadConfig, type Config, type Role } from '../config.ts';
import { createLogger } from '../infra/lib/logger.ts';
import { migrateToLatest } from '../infra/db/database.ts';
import { openConfiguredDatabase, resolveSecrets, SERVER_FILE, startServer } from '../runtime.ts';
import { createOpenRamp } from '../app.ts';
import { ASSET_SCALE, FIAT_ASSETS, amountRefusal, isFiatAsset, parseAmount } from '../infra/lib/money.ts';

/**
 * `openramp` command line. Commands that need the database go through a running server's
 * operator API when there is one (PGlite is single-process), and open the database directly
 * otherwise.
 */
const USAGE = `usage: openramp <command> [options]

commands:
  serve [--role api|worker|all]   run the server (sandbox by default; see README for settings)
  migrate                          apply database migrations and exit
  partner create --name <name>     create a partner; prints JSON {partnerId, apiKey, apiSecret, webhookSecret}
  treasury fund --currency <CCY> --amount <decimal>
                                   record treasury funding; payouts waiting for funds resume
  treasury show                    treasury balances per currency
  reconcile                        prove the ledger invariants; exit 1 on any difference
  keys generate                    print a new master key and operator token as JSON (store them in your secret manager)
  keys rotate-master               re-seal every secret and all personal data under the master key read from
                                   standard input; stop every server on the database first
  xpub derive [--account <n>]      account xpubs for OPENRAMP_XPUB_EVM / OPENRAMP_XPUB_TRON from a BIP39 mnemonic
                                   read from standard input (never from arguments or the environment)
  demo [--url <url>] [--timeout <seconds>]
                                   the guide's offramp journey against the running server, printing each webhook
  help                             show this text`;

function fail(message: string): never {
  process.stderr.write(`openramp: ${message}\n`);
  process.exit(2);
}

/** node:util parseArgs, with a bad option reported as a usage error (one line, exit 2), not a stack trace. */
const parseArgs: typeof parseNodeArgs = (cfg) => {
  try {
    return parseNodeArgs(cfg);
  } catch (err) {
    fail((err as Error).message.split('\n')[0] ?? 'bad arguments');
  }
};

/** The running server of this data folder, if any (its pid is alive and it wrote its URL). */
export function runningServer(config: Config): { url: string; instance: string | null; file: string } | null {
  const file = path.join(config.dataDir, SERVER_FILE);
  if (!existsSync(file)) return null;
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as { url: string; pid: number; instance?: string };
    process.kill(info.pid, 0);
    return { url: info.url, instance: info.instance ?? null, file };
  } catch {
    return null;
  }
}

/**
 * Before an operator token leaves this machine, the server at the URL must be the one the data
 * folder's server.json names (its random instance id, shown by `GET /`): a stale file must never
 * send this folder's token to another server. Says which server and token source it uses.
 */
async function checkedServer(config: Config, server: { url: string; instance: string | null; file: string }): Promise<void> {
  let answered: string | null = null;
  try {
    const res = await fetch(`${server.url}/`, { headers: { accept: 'application/json' } });
    answered = ((await res.json()) as { data?: { instance?: string } }).data?.instance ?? null;
  } catch (err) {
    fail(`${server.file} names the server at ${server.url}, which does not answer (${(err as Error).message})`);
  }
  if (server.instance !== null && answered !== server.instance)
    fail(
      `${server.file} names the server at ${server.url}, but another server answers there (instance ${answered ?? 'unknown'}, ` +
        `the file says ${server.instance}); the file is stale — delete it, or point OPENRAMP_DATA_DIR at the running server's folder`,
    );
  const tokenSource = config.operatorToken ? 'OPENRAMP_OPERATOR_TOKEN' : path.join(config.dataDir, 'operator-token');
  process.stderr.write(`openramp: server ${server.url} (from ${server.file}), operator token from ${tokenSource}\n`);
}

async function operatorCall(
  config: Config,
  server: { url: string; instance: string | null; file: string },
  method: string,
  route: string,
  body?: unknown,
): Promise<unknown> {
  await checkedServer(config, server);
  const logger = createLogger({ level: 'error' });
  const { operatorToken } = resolveSecrets(config, logger);
  const res = await fetch(`${server.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${operatorToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await res.json()) as { status: string; data?: unknown; message?: string };
  if (json.status !== 'SUCCESS') fail(`${route}: ${json.message ?? res.status}`);
  return json.data;
}

async function withDatabase<T>(config: Config, fn: (o: Awaited<ReturnType<typeof createOpenRamp>>) => Promise<T>): Promise<T> {
  const logger = createLogger({ level: 'error' });
  const database = await openConfiguredDatabase(config);
  try {
    await migrateToLatest(database.db);
    const openramp = await createOpenRamp({ config, database, secrets: resolveSecrets(config, logger), logger });
    try {
      return await fn(openramp);
    } finally {
      await openramp.close();
    }
  } finally {
    await database.close();
  }
}

/** `keys generate` and `xpub derive`: they need no settings, no database and no network. */
async function setupCommand(command: 'keys' | 'xpub', rest: string[]): Promise<void> {
  const keys = await import('./keys.ts');
  if (command === 'keys') {
    process.stdout.write(`${JSON.stringify(keys.generateKeys(), null, 2)}\n`);
    process.stderr.write('openramp: set OPENRAMP_MASTER_KEY and OPENRAMP_OPERATOR_TOKEN to these; they are not stored anywhere\n');
    return;
  }
  const [sub, ...args] = rest;
  if (sub !== 'derive') fail(`unknown xpub command "${sub ?? ''}"\n${USAGE}`);
  const { values, positionals } = parseArgs({ args, options: { account: { type: 'string' } }, allowPositionals: true });
  // A mnemonic in the environment (any variable named like one) leaks to every child process and to /proc.
  if (positionals.length > 0 || Object.keys(process.env).some((k) => /MNEMONIC/i.test(k)))
    fail('xpub derive reads the mnemonic from standard input only: never pass it as an argument or in the environment');
  const account = values.account === undefined ? 0 : Number(values.account);
  if (!Number.isInteger(account) || account < 0 || account >= 2 ** 31) fail('--account must be an integer from 0 to 2147483647');
  try {
    const derived = keys.deriveAccountXpubs(await keys.readStdin(), { account });
    process.stdout.write(
      `${JSON.stringify(derived, null, 2)}\nOPENRAMP_XPUB_EVM=${derived.EVM.xpub}\nOPENRAMP_XPUB_TRON=${derived.TRON.xpub}\n`,
    );
  } catch (err) {
    fail((err as Error).message);
  }
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  // Set-up commands run before any configuration exists (they produce it), often offline.
  if (command === 'xpub' || (command === 'keys' && rest[0] === 'generate')) return setupCommand(command, rest);
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }

  switch (command) {
    case 'serve': {
      const { values } = parseArgs({ args: rest, options: { role: { type: 'string' } } });
      if (values.role && !['api', 'worker', 'all'].includes(values.role)) fail('--role must be api, worker or all');
      const cfg = values.role ? { ...config, role: values.role as Role } : config;
      const logger = createLogger({ level: cfg.logLevel });
      let server: Awaited<ReturnType<typeof startServer>>;
      try {
        server = await startServer(cfg, logger);
      } catch (err) {
        if (err instanceof ConfigError) fail(err.message);
        throw err;
      }
      let closing = false;
      const shutdown = (signal: string) => {
        if (closing) return;
        closing = true;
        logger.info({ signal }, 'shutting down');
        server.close().then(
          () => process.exit(0),
          (err) => {
            logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => shutdown('SIGINT'));
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      return;
    }
    case 'migrate': {
      if (runningServer(config) && !config.databaseUrl)
        fail('a server is running on this data folder; it has already migrated the database');
      const database = await openConfiguredDatabase(config);
      try {
        const applied = await migrateToLatest(database.db);
        process.stdout.write(`${JSON.stringify({ applied })}\n`);
      } finally {
        await database.close();
      }
      return;
    }
    case 'partner': {
      const [sub, ...args] = rest;
      if (sub !== 'create') fail(`unknown partner command "${sub ?? ''}"\n${USAGE}`);
      const { values } = parseArgs({ args, options: { name: { type: 'string' } } });
      if (!values.name) fail('partner create needs --name <name>');
      const server = runningServer(config);
      const creds = server
        ? await operatorCall(config, server, 'POST', '/ops/partners', { name: values.name })
        : await withDatabase(config, (o) => o.services.partners.create(values.name!));
      process.stdout.write(`${JSON.stringify(creds, null, 2)}\n`);
      return;
    }
    case 'treasury': {
      const [sub, ...args] = rest;
      const server = runningServer(config);
      if (sub === 'show') {
        const rows = server
          ? await operatorCall(config, server, 'GET', '/ops/treasury')
          : await withDatabase(config, (o) => o.services.payouts.treasury());
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      if (sub !== 'fund') fail(`unknown treasury command "${sub ?? ''}"\n${USAGE}`);
      const { values } = parseArgs({
        args,
        options: { currency: { type: 'string' }, amount: { type: 'string' }, reference: { type: 'string' } },
      });
      const currency = values.currency?.toUpperCase() ?? '';
      if (!isFiatAsset(currency)) fail(`--currency must be one of ${FIAT_ASSETS.join(', ')}`);
      const amount = values.amount ? parseAmount(currency, values.amount) : null;
      if (amount === null) fail(`--amount must be a decimal with at most ${ASSET_SCALE[currency]} decimals, e.g. 250000.00`);
      const refusal = amountRefusal(currency, amount);
      if (refusal !== null) fail(`--amount ${refusal}`);
      const result = server
        ? await operatorCall(config, server, 'POST', '/ops/treasury/fund', {
            currency,
            amount: values.amount,
            ...(values.reference ? { reference: values.reference } : {}),
          })
        : await withDatabase(config, async (o) => {
            await o.services.payouts.fundTreasury(currency, amount, values.reference);
            return (await o.services.payouts.treasury()).find((t) => t.currency === currency);
          });
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    case 'reconcile': {
      const server = runningServer(config);
      const report = (
        server
          ? await operatorCall(config, server, 'GET', '/ops/reconcile')
          : await withDatabase(config, (o) => o.services.ledger.reconcile())
      ) as { ok: boolean };
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      process.exitCode = report.ok ? 0 : 1;
      return;
    }
    case 'keys': {
      const [sub] = rest;
      const keys = await import('./keys.ts');
      if (sub !== 'rotate-master') fail(`unknown keys command "${sub ?? ''}"\n${USAGE}`);
      if (rest.length > 1) fail('keys rotate-master reads the new key from standard input, never from arguments');
      if (!config.databaseUrl && runningServer(config))
        fail('a server is running on this data folder; stop it before rotating the master key');
      try {
        const result = await keys.rotateMaster(config, await keys.readStdin());
        process.stdout.write(`${JSON.stringify({ rotated: result.rows }, null, 2)}\n`);
        process.stderr.write(
          result.keyFile
            ? `openramp: the new master key is in ${result.keyFile}\n`
            : 'openramp: every secret is now sealed under the new key; set OPENRAMP_MASTER_KEY to it before starting any server\n',
        );
      } catch (err) {
        if (err instanceof ConfigError) fail(err.message);
        fail((err as Error).message);
      }
      return;
    }
    case 'demo': {
      const { demoCommand } = await import('./demo/index.ts');
      process.exitCode = await demoCommand(config, rest, runningServer);
      return;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return;
    default:
      fail(`unknown command "${command}"\n${USAGE}`);
  }
}
