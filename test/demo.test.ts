import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/infra/lib/logger.ts';
import { SANDBOX_PARTNER_FILE, SERVER_FILE, startServer, type RunningServer } from '../src/runtime.ts';
import { webhookSummary } from '../src/cli/demo/index.ts';

/**
 * docs/configuration.md `npx openramp demo`: the CLI, as a child process, runs the guide's journey against a
 * real server (started in this process on a temporary data folder, with fast sandbox settings)
 * and prints each webhook as it arrives with both signatures verified.
 */
const repo = path.resolve(import.meta.dirname, '..');
const bin = path.join(repo, 'bin/openramp.js');
const DEMO_PROCESS_TIMEOUT_MS = 120_000;

const FAST_SANDBOX: Record<string, string> = {
  OPENRAMP_SANDBOX_KYC_DELAY_MS: '300',
  OPENRAMP_SANDBOX_BLOCK_INTERVAL_MS: '100',
  OPENRAMP_SANDBOX_FINALITY_DEPTH: '2',
  OPENRAMP_SCANNER_POLL_INTERVAL_MS: '50',
  OPENRAMP_PAYOUT_RUN_INTERVAL_MS: '100',
  OPENRAMP_JOB_POLL_INTERVAL_MS: '50',
  OPENRAMP_WEBHOOK_POLL_INTERVAL_MS: '50',
};

const live = new Set<ChildProcess>();
const tempDirs: string[] = [];

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}
process.once('exit', () => {
  for (const c of live) killGroup(c);
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

/** The CLI as a user runs it: its own environment (no test-runner flags), the embedded database, a hard time limit. */
function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  const base: NodeJS.ProcessEnv = { ...process.env };
  delete base.NODE_OPTIONS;
  delete base.NODE_TEST_CONTEXT;
  for (const k of Object.keys(base)) if (/^(http|https|all)_proxy$/i.test(k)) delete base[k];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: repo,
      env: { ...base, NO_PROXY: '127.0.0.1', DATABASE_URL: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    live.add(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, DEMO_PROCESS_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      live.delete(child);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      killGroup(child);
      live.delete(child);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('openramp demo (docs/configuration.md)', () => {
  let dataDir: string;
  let server: RunningServer;

  before(async () => {
    dataDir = tempDir('openramp-demo-');
    // Its own embedded database whatever CI set: the demo finds this server through the data folder.
    const config = loadConfig({ OPENRAMP_DATA_DIR: dataDir, PORT: '0', OPENRAMP_LOG_LEVEL: 'silent', ...FAST_SANDBOX });
    server = await startServer(config, createLogger({ level: 'silent' }), () => {});
  });

  after(async () => {
    for (const c of live) killGroup(c);
    await server?.close();
    for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('runs the guide journey and prints every webhook, in order, with both signatures verified', async () => {
    const r = await cli(['demo', '--timeout', '90'], { OPENRAMP_DATA_DIR: dataDir });
    const shown = `exit ${r.code}${r.timedOut ? ' after TIMEOUT' : ''}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
    assert.equal(r.timedOut, false, shown);
    assert.equal(r.code, 0, shown);

    const lines = r.stdout.split('\n');
    const webhookLine = (event: string) => lines.findIndex((l) => new RegExp(`◀ webhook ${event} `).test(l));
    const order = ['CUSTOMER_APPROVED', 'DEPOSIT_RECEIVED', 'DEPOSIT_APPROVED', 'TRADE_CREATED', 'TRADE_SETTLED'];
    const positions = order.map((e) => [e, webhookLine(e)] as const);
    const payout = Math.max(webhookLine('PAYOUT_SUBMITTED'), webhookLine('PAYOUT_SETTLED'));
    for (const [event, at] of positions) assert.ok(at !== -1, `${event} printed\n${shown}`);
    assert.ok(payout !== -1, `a payout event printed\n${shown}`);
    const indices = [...positions.map(([, at]) => at), payout];
    assert.deepEqual(
      [...indices].sort((a, b) => a - b),
      indices,
      `webhooks printed in the journey's order\n${shown}`,
    );
    for (const at of indices) assert.match(lines[at]!, /signatures: hmac ✓ standard ✓/, lines[at]);
    assert.doesNotMatch(r.stdout, /✗/, 'no webhook failed verification');

    // Key fields on the lines: ids, amount, statuses.
    assert.match(lines[webhookLine('CUSTOMER_APPROVED')]!, /cus_\S+ v\d+ +status=/);
    assert.match(lines[webhookLine('DEPOSIT_RECEIVED')]!, /dep_\S+ .*amount=250\.000000 USDT on TRX status=RECEIVED/);
    assert.match(lines[webhookLine('TRADE_SETTLED')]!, /trd_\S+ .*USDT → [\d.]+ EUR .*status=SETTLED/);
    assert.match(lines[payout]!, /pay_\S+ .*EUR rail=SEPA_\w+ status=(SUBMITTED|SETTLED)/);

    // The guide's steps, each printed.
    assert.match(r.stdout, /POST \/callback-url +→ http:\/\/127\.0\.0\.1:\d+\/webhooks/);
    assert.match(r.stdout, /POST \/customer\/create .*→ cus_/);
    assert.match(r.stdout, /POST \/bank-account\/add +EUR, Deutsche Bank, IBAN DE89370400440532013000, SWIFT DEUTDEFF → ba_/);
    assert.match(r.stdout, /POST \/autoramp-flow\/offramp +USDT on TRX .*→ flw_/);
    assert.match(r.stdout, /Deposit address for the customer:\n +T[1-9A-HJ-NP-Za-km-z]{33}\n.*Send only USDT on the TRX network/);
    assert.match(r.stdout, /POST \/deposit\/mock +250 USDT on TRX/);
    assert.match(r.stdout, /Done in [\d.]+ s/);

    // The partner's webhook settings are as before the demo (none set on a fresh sandbox).
    const partner = JSON.parse(readFileSync(path.join(dataDir, SANDBOX_PARTNER_FILE), 'utf8')) as { partnerId: string };
    const after = await server.openramp.services.partners.get(partner.partnerId);
    assert.ok(!after.callbackUrl, `callback URL restored, got ${after.callbackUrl}`);
    assert.match(r.stdout, /Webhook settings restored: callback URL none/);

    // The server's delivery log agrees: every delivery to the demo's receiver succeeded.
    const deliveries = await server.openramp.services.webhooks.listDeliveries(partner.partnerId, {
      page: { pageNum: 1, pageSize: 100, offset: 0 },
    });
    const events = new Set(deliveries.list.filter((d) => d.status === 'SUCCEEDED').map((d) => d.event));
    for (const e of order)
      assert.ok(
        events.has(e),
        `${e} delivered with a 2xx (log: ${JSON.stringify(deliveries.list.map((d) => [d.event, d.status, d.lastStatusCode]))})`,
      );
  });

  it('fails with a helpful message when no server runs on the data folder', async () => {
    const empty = tempDir('openramp-demo-empty-');
    const r = await cli(['demo'], { OPENRAMP_DATA_DIR: empty });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /no OpenRamp server is running on the data folder .*start one with npm start/);
    assert.equal(r.stdout, '');
  });

  it('fails with a helpful message when --url names nothing listening', async () => {
    const port = await closedPort();
    const r = await cli(['demo', '--url', `http://127.0.0.1:${port}`, '--timeout', '20'], { OPENRAMP_DATA_DIR: dataDir });
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /cannot reach OpenRamp at http:\/\/127\.0\.0\.1:\d+ .*start one with npm start/i);
  });

  it('leaves the running server and its files in place', () => {
    assert.ok(existsSync(path.join(dataDir, SERVER_FILE)));
  });
});

describe('demo webhook lines', () => {
  it('summarise each event family by its key fields', () => {
    assert.equal(
      webhookSummary('DEPOSIT_APPROVED', {
        amount: '250.000000',
        currency: 'USDT',
        network: 'TRX',
        status: 'CONFIRMED',
        confirmations: 3,
        confirmationsRequired: 3,
      }),
      'amount=250.000000 USDT on TRX status=CONFIRMED confirmations=3/3',
    );
    assert.equal(
      webhookSummary('TRADE_SETTLED', {
        fromAmount: '250.000000',
        fromCurrency: 'USDT',
        toAmount: '230.00',
        toCurrency: 'EUR',
        rate: '0.92',
        status: 'SETTLED',
      }),
      '250.000000 USDT → 230.00 EUR rate=0.92 status=SETTLED',
    );
    assert.match(
      webhookSummary('PAYOUT_RETURNED', {
        amount: '230.00',
        currency: 'EUR',
        rail: 'SEPA_INSTANT',
        status: 'RETURNED',
        returnCode: 'AC04',
      }),
      /status=RETURNED .*return=AC04$/,
    );
    assert.equal(webhookSummary('CUSTOMER_APPROVED', { status: 'CONFIRMED', realName: 'John Doe' }), 'status=CONFIRMED name="John Doe"');
  });
});
