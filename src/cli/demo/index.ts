/**
 * `openramp demo` (docs/configuration.md): the integration guide's whole offramp journey against a running
 * server, as a partner would run it — signed API calls with the SDK, a local webhook receiver
 * that verifies both signature schemes with the SDK and prints each webhook as it arrives.
 *
 * The demo borrows the partner's webhook settings: it points the callback URL at its own
 * receiver and subscribes to every event, and puts the previous callback URL and subscriptions
 * back when it ends (success, failure or Ctrl-C), so running it leaves the partner as it was.
 * Two demos for one partner at the same time would take each other's webhooks; run them with
 * different partners (`--credentials`).
 *
 * Parts: client.ts (the signed API calls), receiver.ts (the verifying webhook receiver), steps.ts
 * (the journey); this module is the command around them (arguments, server, credentials, Ctrl-C).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../../config.ts';
import { SANDBOX_PARTNER_FILE, SERVER_FILE } from '../../runtime.ts';
import { ASSET_SCALE } from '../../infra/lib/money.ts';
import { DemoError, type Json } from './shared.ts';
import { DEMO_TIMEOUT_MS_DEFAULT, runDemo } from './steps.ts';

export { webhookSummary } from './receiver.ts';
export { DemoError } from './shared.ts';
export { DEMO_TIMEOUT_MS_DEFAULT, runDemo } from './steps.ts';
export type { DemoOptions, DemoResult } from './steps.ts';

const USAGE = `usage: openramp demo [--url <server URL>] [--credentials <file>] [--timeout <seconds>] [--amount <USDT>]

Runs the integration guide's offramp journey against a running sandbox server and prints each
webhook as it arrives. Without --url it uses the server running on the data folder
(OPENRAMP_DATA_DIR, default ./.openramp); without --credentials, the sandbox partner in
<data dir>/${SANDBOX_PARTNER_FILE}. The partner's callback URL and subscriptions are pointed at
the demo's receiver while it runs and put back when it ends.`;

interface Credentials {
  apiKey: string;
  apiSecret: string;
  webhookSecret: string;
}

function readCredentials(file: string): Credentials {
  if (!existsSync(file)) {
    throw new DemoError(
      `no partner credentials at ${file}: start the sandbox server once with npm start (it writes them there), or pass --credentials <file> with {apiKey, apiSecret, webhookSecret}`,
    );
  }
  let json: Json;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as Json;
  } catch (err) {
    throw new DemoError(`cannot read ${file} as JSON (${(err as Error).message})`);
  }
  for (const k of ['apiKey', 'apiSecret', 'webhookSecret'] as const) {
    if (typeof json[k] !== 'string' || json[k] === '')
      throw new DemoError(`${file} has no ${k}: expected {apiKey, apiSecret, webhookSecret}`);
  }
  return { apiKey: json.apiKey, apiSecret: json.apiSecret, webhookSecret: json.webhookSecret };
}

/**
 * The `demo` command: finds the server and the credentials, runs the demo, returns the exit
 * code (0 success, 1 the journey failed, 2 bad usage or nothing to run against).
 * `findServer` is the CLI's running-server lookup (server.json with a live pid).
 */
export async function demoCommand(
  config: Config,
  args: string[],
  findServer: (config: Config) => { url: string } | null,
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  err: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<number> {
  let values: { url?: string; credentials?: string; timeout?: string; amount?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        url: { type: 'string' },
        credentials: { type: 'string' },
        timeout: { type: 'string' },
        amount: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    err(`openramp demo: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    out(USAGE);
    return 0;
  }
  let timeoutMs = DEMO_TIMEOUT_MS_DEFAULT;
  if (values.timeout !== undefined) {
    if (!/^\d{1,5}$/.test(values.timeout) || Number(values.timeout) < 1) {
      err('openramp demo: --timeout must be a whole number of seconds (1 or more)');
      return 2;
    }
    timeoutMs = Number(values.timeout) * 1000;
  }
  if (values.amount !== undefined && !new RegExp(`^\\d{1,12}(\\.\\d{1,${ASSET_SCALE.USDT}})?$`).test(values.amount)) {
    err(`openramp demo: --amount must be a positive USDT amount with at most ${ASSET_SCALE.USDT} decimals, e.g. 250`);
    return 2;
  }
  let url = values.url;
  if (url !== undefined && !/^https?:\/\/[^/]+/.test(url)) {
    err('openramp demo: --url must be an http(s) URL such as http://127.0.0.1:8080');
    return 2;
  }
  if (url === undefined) {
    const server = findServer(config);
    if (!server) {
      const stale = existsSync(path.join(config.dataDir, SERVER_FILE)) ? ' (its server.json names a process that is gone)' : '';
      err(
        `openramp demo: no OpenRamp server is running on the data folder ${config.dataDir}${stale}: start one with npm start (in another terminal), or pass --url <server URL>`,
      );
      return 2;
    }
    url = server.url;
  }
  let creds: Credentials;
  try {
    creds = readCredentials(values.credentials ? path.resolve(values.credentials) : path.join(config.dataDir, SANDBOX_PARTNER_FILE));
  } catch (e) {
    err(`openramp demo: ${(e as Error).message}`);
    return 2;
  }

  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await runDemo({ url, ...creds, out, timeoutMs, signal: abort.signal, ...(values.amount ? { amount: values.amount } : {}) });
    return 0;
  } catch (e) {
    if (e instanceof DemoError) {
      err(`openramp demo: FAILED — ${e.message}`);
      return abort.signal.aborted ? 130 : 1;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
