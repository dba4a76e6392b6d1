import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { generateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { signRequest } from '../sdk/src/index.ts';
import { startDevnetWithTokens, type DevnetWithTokens } from './helpers/devnet.ts';

/**
 * The README's "Production" section, followed literally: its `production-steps` block is read
 * from README.md and each `npx openramp …` line is run as written (with `<` and `>` as the shell
 * would), against a fresh Postgres database and a devnet standing in for Ethereum. Then one
 * deposit goes through the production server: detected, confirmed, traded and paid out.
 * Production mode refuses PGlite, so the test needs DATABASE_URL (CI's Postgres pass has it).
 */

const repo = path.resolve(import.meta.dirname, '..');
const bin = path.join(repo, 'bin/openramp.js');
const POSTGRES = process.env.DATABASE_URL;

/** The README's production commands, in order. */
function readmeSteps(): string[] {
  const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
  const block = /```sh production-steps\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'README.md has a ```sh production-steps block');
  return block[1]!
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('npx openramp '));
}

/** Splits `npx openramp a "b c" < in > out` into arguments and redirections. */
function parseStep(line: string): { args: string[]; stdin: string | null; stdout: string | null } {
  const words = [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
  const args: string[] = [];
  let stdin: string | null = null;
  let stdout: string | null = null;
  for (let i = 2; i < words.length; i++) {
    if (words[i] === '<') stdin = words[++i]!;
    else if (words[i] === '>') stdout = words[++i]!;
    else args.push(words[i]!);
  }
  return { args, stdin, stdout };
}

/** A port nothing listens on (taken, then released): an RPC endpoint that is down. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

describe('production start, as the README says', {
  skip: POSTGRES ? false : 'needs Postgres (DATABASE_URL): production refuses PGlite',
}, () => {
  const work = mkdtempSync(path.join(tmpdir(), 'openramp-prod-'));
  const children: ChildProcess[] = [];
  const database = `openramp_prod_${process.pid}_${Date.now()}`;
  let admin: pg.Client;
  let chain: DevnetWithTokens;
  const env: Record<string, string> = {};
  let apiUrl = '';
  let workerOutput = '';

  const run = (args: string[], input: string | null) =>
    spawnSync(process.execPath, [bin, ...args], {
      cwd: work,
      env: { ...process.env, ...env },
      input: input ?? '',
      encoding: 'utf8',
      timeout: 120_000,
    });

  before(async () => {
    admin = new pg.Client({ connectionString: POSTGRES });
    await admin.connect();
    await admin.query(`create database ${database}`);
    chain = await startDevnetWithTokens();
    const url = new URL(POSTGRES!);
    url.pathname = `/${database}`;
    const down = await closedPort();
    Object.assign(env, {
      OPENRAMP_MODE: 'production',
      DATABASE_URL: url.toString(),
      OPENRAMP_DATA_DIR: path.join(work, 'data'),
      OPENRAMP_PAYOUT_OUTBOX_DIR: path.join(work, 'outbox'),
      OPENRAMP_RPC_URL_ETH: chain.devnet.url,
      OPENRAMP_TOKEN_ETH_USDT: chain.tokens.USDT,
      OPENRAMP_TOKEN_ETH_USDC: chain.tokens.USDC,
      OPENRAMP_FINALIZED_TAG_ETH: 'false',
      OPENRAMP_CONFIRMATIONS_ETH: '2',
      OPENRAMP_SCANNER_START_ETH: '0',
      OPENRAMP_MIN_DEPOSIT_ETH: '1',
      // Only Ethereum has a devnet here; the other networks' endpoints are down, which a
      // production server must survive (its scanners retry, the rest runs).
      OPENRAMP_RPC_URL_MATIC: `http://127.0.0.1:${down}`,
      OPENRAMP_RPC_URL_TRX: `http://127.0.0.1:${down}/jsonrpc`,
      OPENRAMP_PUBLIC_HOSTS: 'ramp.example.com',
      // The test's own choices: a free port, payouts batched at once, quiet logs.
      HOST: '127.0.0.1',
      PORT: '0',
      OPENRAMP_PAYOUT_BATCH_IMMEDIATELY: 'true',
      OPENRAMP_SCANNER_POLL_INTERVAL_MS: '100',
      OPENRAMP_JOB_POLL_INTERVAL_MS: '50',
      OPENRAMP_PAYOUT_RUN_INTERVAL_MS: '200',
      OPENRAMP_LOG_LEVEL: 'error',
    });
    for (const k of Object.keys(process.env)) if (k.startsWith('OPENRAMP_') && !(k in env)) env[k] = '';
    writeFileSync(path.join(work, 'mnemonic.txt'), `${generateMnemonic(wordlist, 256)}\n`, { mode: 0o600 });
  });

  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)));
    await chain?.devnet.stop();
    if (admin) {
      await admin.query(`drop database if exists ${database} with (force)`);
      await admin.end();
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('runs every README step, then one deposit from chain to payout', async () => {
    const steps = readmeSteps();
    assert.deepEqual(
      steps.map((s) => parseStep(s).args.slice(0, 2).join(' ')),
      ['keys generate', 'xpub derive', 'migrate', 'serve --role', 'serve --role', 'partner create', 'treasury fund'],
      'the README steps this test knows how to follow',
    );
    let partner: { apiKey: string; apiSecret: string } | null = null;
    for (const line of steps) {
      const step = parseStep(line);
      if (step.args[0] === 'serve') {
        const child = spawn(process.execPath, [bin, ...step.args], {
          cwd: work,
          env: { ...process.env, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        children.push(child);
        let out = '';
        const role = step.args[2];
        if (role === 'api') {
          apiUrl = await new Promise<string>((resolve, reject) => {
            const onData = (d: Buffer) => {
              out += d.toString();
              const m = /listening on (http:\/\/\S+)/.exec(out);
              if (m) resolve(m[1]!);
            };
            child.stdout!.on('data', onData);
            child.stderr!.on('data', onData);
            child.once('exit', (code) => reject(new Error(`${line} exited ${code}:\n${out}`)));
          });
        } else {
          child.stdout!.on('data', (d: Buffer) => (workerOutput += d.toString()));
          child.stderr!.on('data', (d: Buffer) => (workerOutput += d.toString()));
          child.once('exit', (code) => (workerOutput += `\n[worker exited ${code}]`));
        }
        continue;
      }
      const r = run(step.args, step.stdin ? readFileSync(path.join(work, step.stdin), 'utf8') : null);
      assert.equal(r.status, 0, `${line}\n${r.stderr}`);
      if (step.stdout) writeFileSync(path.join(work, step.stdout), r.stdout, { mode: 0o600 });
      // What the README tells the operator to do with each output.
      if (step.args[0] === 'keys') {
        const keys = JSON.parse(r.stdout) as { masterKey: string; operatorToken: string };
        env.OPENRAMP_MASTER_KEY = keys.masterKey;
        env.OPENRAMP_OPERATOR_TOKEN = keys.operatorToken;
      }
      if (step.args[0] === 'xpub') {
        env.OPENRAMP_XPUB_EVM = /OPENRAMP_XPUB_EVM=(\S+)/.exec(r.stdout)![1]!;
        env.OPENRAMP_XPUB_TRON = /OPENRAMP_XPUB_TRON=(\S+)/.exec(r.stdout)![1]!;
      }
      if (step.args[0] === 'partner') {
        partner = JSON.parse(r.stdout);
        assert.match(r.stderr, new RegExp(`server ${apiUrl.replace(/[.]/g, '\\.')}`), 'the CLI went through the running API server');
      }
    }
    assert.ok(partner && apiUrl, 'a partner and a listening API server');
    assert.match(partner.apiKey, /^ork_live_/, 'production keys');

    const signed = async (method: 'GET' | 'POST', route: string, body?: unknown) => {
      const raw = body === undefined ? '' : JSON.stringify(body);
      const url = `${apiUrl}${route}`;
      const headers = signRequest({ apiKey: partner!.apiKey, apiSecret: partner!.apiSecret, method, url, ...(raw ? { body: raw } : {}) });
      const res = await fetch(url, {
        method,
        headers: { ...headers, ...(raw ? { 'content-type': 'application/json' } : {}) },
        ...(raw ? { body: raw } : {}),
      });
      return { status: res.status, json: (await res.json()) as any };
    };
    const ops = async (method: string, route: string, body?: unknown) => {
      const res = await fetch(`${apiUrl}${route}`, {
        method,
        headers: { authorization: `Bearer ${env.OPENRAMP_OPERATOR_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return (await res.json()) as any;
    };

    const c = await signed('POST', '/customer/create', { name: 'Prod Customer', email: `prod-${randomUUID()}@example.com` });
    assert.equal(c.status, 200, JSON.stringify(c.json));
    if (c.json.data.status === 'PENDING')
      assert.equal((await ops('POST', `/ops/customers/${c.json.customerId}/kyc-decision`, { decision: 'APPROVE' })).status, 'SUCCESS');
    const b = await signed('POST', '/bank-account/add', {
      customerId: c.json.customerId,
      currency: 'EUR',
      bankName: 'Deutsche Bank',
      iban: 'DE89370400440532013000',
      swift: 'DEUTDEFF',
      accountName: 'Prod Customer',
    });
    assert.equal(b.status, 200, JSON.stringify(b.json));
    const f = await signed('POST', '/autoramp-flow/offramp', {
      from: { customerId: c.json.customerId, currency: 'USDT', network: 'ETH' },
      to: b.json.bankAccountId,
    });
    assert.equal(f.status, 200, JSON.stringify(f.json));
    const depositAddress = f.json.data.depositAddress as string;
    assert.notEqual(depositAddress.toLowerCase(), '0x9858effd232b4033e47d90003d41ec34ecaeda94', 'not the public test address');

    await chain.devnet.mint(chain.tokens.USDT, chain.devnet.accounts[1]!.address, 500_000_000n);
    await chain.devnet.transfer(chain.tokens.USDT, 1, depositAddress, 250_000_000n); // 250 USDT
    await chain.devnet.mine(3);

    // Each stage is observed through the API; the bound is a failure report, not a wait.
    const deadline = Date.now() + 90_000;
    let payout: any = null;
    while (Date.now() < deadline) {
      const p = await signed('GET', `/payout/list?customerId=${c.json.customerId}`);
      payout = p.json.data?.list?.[0] ?? null;
      if (payout && payout.status !== 'PENDING') break;
      await chain.devnet.mine(1);
      await new Promise((r) => setTimeout(r, 200));
    }
    const deposits = await signed('GET', `/deposit/list?customerId=${c.json.customerId}`);
    assert.equal(deposits.json.data.list.length, 1, JSON.stringify(deposits.json));
    assert.equal(deposits.json.data.list[0].status, 'CONFIRMED');
    assert.equal(deposits.json.data.list[0].amount, '250.000000');
    const trades = await signed('GET', `/trade/list?customerId=${c.json.customerId}`);
    assert.equal(trades.json.data.list[0]?.status, 'SETTLED', JSON.stringify(trades.json));
    assert.ok(payout, `a payout was created (worker output: ${workerOutput.slice(-2000)})`);
    assert.ok(['SUBMITTED', 'SETTLED'].includes(payout.status), `payout ${JSON.stringify(payout)}; worker: ${workerOutput.slice(-2000)}`);
    const reconcile = run(['reconcile'], null);
    assert.equal(reconcile.status, 0, `the ledger reconciles: ${reconcile.stdout}${reconcile.stderr}`);
  });
});
