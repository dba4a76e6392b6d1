import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { signRequest } from '../src/infra/auth/signature.ts';

const repo = path.resolve(import.meta.dirname, '..');
const bin = path.join(repo, 'bin/openramp.js');
const dataDir = mkdtempSync(path.join(tmpdir(), 'openramp-cli-'));
// The CLI under test must use the embedded database in its own folder, whatever CI set.
const env = { ...process.env, OPENRAMP_DATA_DIR: dataDir, PORT: '0', OPENRAMP_LOG_LEVEL: 'warn', DATABASE_URL: '' };
const children: ChildProcess[] = [];

function startServer(): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [bin, 'serve'], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, output: () => out });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited ${code}:\n${out}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function cli(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { cwd: repo, env, encoding: 'utf8', timeout: 60_000 });
}

async function signedGet(url: string, route: string, creds: { apiKey: string; apiSecret: string }) {
  const host = new URL(url).host;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = randomUUID();
  const signature = signRequest(creds.apiSecret, { method: 'GET', host, path: route, query: '', bodySha256Hex: '', timestamp, nonce });
  const res = await fetch(`${url}${route}`, {
    headers: { 'x-api-key': creds.apiKey, 'x-timestamp': timestamp, 'x-nonce': nonce, 'x-signature': signature },
  });
  return { status: res.status, json: (await res.json()) as any };
}

after(async () => {
  for (const c of children) await stop(c);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('openramp CLI and npm start', () => {
  it('serve: first start creates, prints and saves the sandbox partner; partner create goes through the running server', async () => {
    const s = await startServer();
    const file = path.join(dataDir, 'sandbox-partner.json');
    assert.ok(existsSync(file));
    const creds = JSON.parse(readFileSync(file, 'utf8'));
    for (const k of ['partnerId', 'apiKey', 'apiSecret', 'webhookSecret'])
      assert.ok(typeof creds[k] === 'string' && creds[k].length > 8, k);
    assert.ok(s.output().includes(creds.apiSecret), 'secret printed once on first start');
    assert.match(s.output(), /SANDBOX/);

    const info = await signedGet(s.url, '/basic-info', creds);
    assert.equal(info.status, 200);
    assert.equal(info.json.data.name, 'Sandbox Partner');

    const created = cli(['partner', 'create', '--name', 'Acme Wallet']);
    assert.equal(created.status, 0, created.stderr);
    const acme = JSON.parse(created.stdout);
    assert.match(acme.partnerId, /^ptn_/);
    assert.match(acme.webhookSecret, /^whsec_/);
    const acmeInfo = await signedGet(s.url, '/basic-info', acme);
    assert.equal(acmeInfo.json.data.name, 'Acme Wallet');

    // The sandbox treasury is funded at first start; more can be added through the server.
    const shown = cli(['treasury', 'show']);
    assert.equal(shown.status, 0, shown.stderr);
    assert.equal(JSON.parse(shown.stdout).find((r: any) => r.currency === 'EUR').bank, '10000000.00');
    const funded = cli(['treasury', 'fund', '--currency', 'EUR', '--amount', '2500.50']);
    assert.equal(funded.status, 0, funded.stderr);
    assert.equal(JSON.parse(funded.stdout).treasury.bank, '10002500.50');
    const badFund = cli(['treasury', 'fund', '--currency', 'EUR', '--amount', '1.001']);
    assert.equal(badFund.status, 2);
    const rec = cli(['reconcile']);
    assert.equal(rec.status, 0, rec.stdout + rec.stderr);
    assert.equal(JSON.parse(rec.stdout).ok, true);
    await stop(s.child);
    assert.ok(!existsSync(path.join(dataDir, 'server.json')), 'server.json removed on shutdown');
  });

  it('partner create and migrate work without a server; restart keeps the sandbox partner', async () => {
    const direct = cli(['partner', 'create', '--name', 'Offline Partner']);
    assert.equal(direct.status, 0, direct.stderr);
    assert.match(JSON.parse(direct.stdout).partnerId, /^ptn_/);
    const rec = cli(['reconcile']);
    assert.equal(rec.status, 0, rec.stdout + rec.stderr);
    assert.equal(JSON.parse(rec.stdout).ok, true);
    const migrate = cli(['migrate']);
    assert.equal(migrate.status, 0, migrate.stderr);
    assert.deepEqual(JSON.parse(migrate.stdout), { applied: [] });

    const before = readFileSync(path.join(dataDir, 'sandbox-partner.json'), 'utf8');
    const s = await startServer();
    assert.ok(!s.output().includes(JSON.parse(before).apiSecret), 'secret not printed again');
    assert.equal(readFileSync(path.join(dataDir, 'sandbox-partner.json'), 'utf8'), before);
    const offline = JSON.parse(direct.stdout);
    const info = await signedGet(s.url, '/basic-info', offline);
    assert.equal(info.json.data.name, 'Offline Partner');
    await stop(s.child);
  });

  it('fails clearly on bad usage and on production without settings', () => {
    const bad = cli(['partner', 'create']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--name/);
    const prod = spawnSync(process.execPath, [bin, 'serve'], {
      cwd: repo,
      env: { ...env, OPENRAMP_MODE: 'production' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(prod.status, 2);
    assert.match(prod.stderr, /DATABASE_URL: is required in production mode/);
  });
});
