import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.ts';
import { createOpenRamp } from '../src/app.ts';
import { createLogger } from '../src/infra/lib/logger.ts';
import { createSecretBox } from '../src/infra/lib/secret-box.ts';
import { createFieldSealer, SEALED_PREFIX } from '../src/infra/db/sealed-columns.ts';
import { rotateMasterKey } from '../src/infra/keys/master-key.ts';
import { resealPartnerSecrets } from '../src/domain/partners/partners.ts';
import { resealCustomers } from '../src/domain/customers/customers.ts';
import { resealBankAccounts } from '../src/domain/bank-accounts/bank-accounts.ts';
import { resealPayoutBatches } from '../src/domain/payouts/payouts.ts';
import { resealIdempotencyResponses } from '../src/infra/idempotency/store.ts';
import { resealEventPayloads } from '../src/infra/events/outbox.ts';
import { SANDBOX_TEST_MNEMONIC, SANDBOX_XPUBS } from '../src/adapters/chains/addresses.ts';
import { deriveAccountXpubs } from '../src/cli/keys.ts';
import { call, openTestDatabase, type TestContext } from './helpers/harness.ts';

/**
 * The master key (docs/security.md, "The master key"): a server under a key that cannot open the
 * stored secrets refuses to start, naming the setting; `keys rotate-master` re-seals every secret
 * and all personal data, after which signed requests and reads work under the new key only.
 */

const ALL_RESEALERS = {
  partners: resealPartnerSecrets,
  customers: resealCustomers,
  bankAccounts: resealBankAccounts,
  payoutBatches: resealPayoutBatches,
  idempotencyResponses: resealIdempotencyResponses,
  events: resealEventPayloads,
};

const config = loadConfig({
  OPENRAMP_MODE: 'sandbox',
  OPENRAMP_SANDBOX_KYC_DELAY_MS: '0',
  OPENRAMP_LOG_LEVEL: 'silent',
  OPENRAMP_DATA_DIR: '/nonexistent',
  OPENRAMP_RATE_LIMIT_PER_MINUTE: '1000000',
});
const operatorToken = `opt_${randomBytes(24).toString('base64url')}`;
const build = (database: Awaited<ReturnType<typeof openTestDatabase>>, masterKey: Buffer) =>
  createOpenRamp({
    config,
    database,
    secrets: { masterKey, operatorToken, xpubs: { ...SANDBOX_XPUBS } },
    logger: createLogger({ level: 'silent' }),
  });

describe('master key: the start-up check and rotation', () => {
  it('a server under another key refuses to start, naming OPENRAMP_MASTER_KEY — with or without a stored check value', async () => {
    const database = await openTestDatabase();
    try {
      const keyA = randomBytes(32);
      const a = await build(database, keyA);
      await a.services.partners.create('Keyed Partner');
      await a.close();
      await assert.rejects(build(database, randomBytes(32)), (err: Error) => {
        assert.match(err.message, /OPENRAMP_MASTER_KEY/);
        assert.match(err.message, /keys rotate-master/);
        return true;
      });
      // A database from before the check existed: the stored secrets themselves are tried.
      await database.db.deleteFrom('key_checks').execute();
      await assert.rejects(build(database, randomBytes(32)), /OPENRAMP_MASTER_KEY/);
      const again = await build(database, keyA);
      await again.close();
      assert.equal((await database.db.selectFrom('key_checks').selectAll().execute()).length, 1, 'the right key writes the check');
    } finally {
      await database.close();
    }
  });

  it('rotation re-seals secrets and personal data: signed requests and reads work under the new key, the old key is refused', async () => {
    const database = await openTestDatabase();
    try {
      const oldKey = randomBytes(32);
      const newKey = randomBytes(32);
      const a = await build(database, oldKey);
      const partner = await a.services.partners.create('Rotating Partner');
      const ctxA: TestContext = { openramp: a, config, partner, database, operatorToken, outboxDir: '', close: async () => {} };
      const c = await call(ctxA, {
        method: 'POST',
        url: '/customer/create',
        body: { name: 'Rota Tion', email: 'rota@example.com', address: 'Keyway 1', dateOfBirth: '1990-02-03' },
        headers: { 'idempotency-key': 'rotate-1' },
      });
      assert.equal(c.status, 200, c.body);
      const b = await call(ctxA, {
        method: 'POST',
        url: '/bank-account/add',
        body: {
          customerId: c.json.customerId,
          currency: 'EUR',
          bankName: 'Deutsche Bank',
          iban: 'DE89370400440532013000',
          swift: 'DEUTDEFF',
        },
      });
      assert.equal(b.status, 200, b.body);
      await a.close();
      const rawBefore = await database.db.selectFrom('bank_accounts').select('iban').executeTakeFirstOrThrow();

      const changed = await rotateMasterKey(
        database.db,
        {
          from: { box: createSecretBox(oldKey), sealer: createFieldSealer(oldKey) },
          to: { box: createSecretBox(newKey), sealer: createFieldSealer(newKey) },
        },
        ALL_RESEALERS,
      );
      assert.ok(changed.partners! >= 2, `partner secrets re-sealed: ${JSON.stringify(changed)}`);
      assert.equal(changed.customers, 1);
      assert.equal(changed.bankAccounts, 1);
      assert.equal(changed.idempotencyResponses, 1);
      assert.ok(changed.events! >= 2);
      const rawAfter = await database.db.selectFrom('bank_accounts').select('iban').executeTakeFirstOrThrow();
      assert.ok(rawAfter.iban!.startsWith(SEALED_PREFIX));
      assert.notEqual(rawAfter.iban, rawBefore.iban);

      await assert.rejects(build(database, oldKey), /OPENRAMP_MASTER_KEY/, 'the old key no longer starts a server');
      const n = await build(database, newKey);
      try {
        const ctxN: TestContext = { openramp: n, config, partner, database, operatorToken, outboxDir: '', close: async () => {} };
        const detail = await call(ctxN, { method: 'GET', url: `/bank-account/detail?id=${b.json.bankAccountId}` });
        assert.equal(detail.status, 200, `the partner's API secret opens under the new key: ${detail.body}`);
        assert.equal(detail.json.data.iban, 'DE89370400440532013000');
        const customer = await call(ctxN, { method: 'GET', url: `/customer/detail?id=${c.json.customerId}` });
        assert.equal(customer.json.data.address, 'Keyway 1');
        const replay = await call(ctxN, {
          method: 'POST',
          url: '/customer/create',
          body: { name: 'Rota Tion', email: 'rota@example.com', address: 'Keyway 1', dateOfBirth: '1990-02-03' },
          headers: { 'idempotency-key': 'rotate-1' },
        });
        assert.equal(replay.headers['idempotent-replayed'], 'true');
        assert.equal(replay.body, c.body, 'the stored response replays identically');
        const events = await call(ctxN, { method: 'GET', url: '/event/list?limit=50' });
        const approved = events.json.data.list.find((e: any) => e.event === 'CUSTOMER_APPROVED');
        assert.equal(approved.payload.address, 'Keyway 1');
        assert.deepEqual(await n.services.partners.webhookSecrets(partner.partnerId), [partner.webhookSecret]);
      } finally {
        await n.close();
      }
    } finally {
      await database.close();
    }
  });

  it('a rotation under a wrong current key changes nothing', async () => {
    const database = await openTestDatabase();
    try {
      const key = randomBytes(32);
      const a = await build(database, key);
      await a.services.partners.create('Untouched');
      await a.close();
      const before = await database.db.selectFrom('api_keys').select('secret_enc').execute();
      const wrong = randomBytes(32);
      await assert.rejects(
        rotateMasterKey(
          database.db,
          {
            from: { box: createSecretBox(wrong), sealer: createFieldSealer(wrong) },
            to: { box: createSecretBox(randomBytes(32)), sealer: createFieldSealer(randomBytes(32)) },
          },
          ALL_RESEALERS,
        ),
        /OPENRAMP_MASTER_KEY/,
      );
      assert.deepEqual(await database.db.selectFrom('api_keys').select('secret_enc').execute(), before);
      (await build(database, key)).close();
    } finally {
      await database.close();
    }
  });
});

describe('CLI: keys generate, keys rotate-master, xpub derive', () => {
  const repo = path.resolve(import.meta.dirname, '..');
  const bin = path.join(repo, 'bin/openramp.js');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'openramp-keys-'));
  const env = { ...process.env, OPENRAMP_DATA_DIR: dataDir, PORT: '0', OPENRAMP_LOG_LEVEL: 'warn', DATABASE_URL: '' };
  delete (env as Record<string, string | undefined>).OPENRAMP_MASTER_KEY;
  const children: ChildProcess[] = [];
  const cli = (args: string[], input = '', extra: Record<string, string> = {}) =>
    spawnSync(process.execPath, [bin, ...args], { cwd: repo, env: { ...env, ...extra }, input, encoding: 'utf8', timeout: 60_000 });
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keys generate prints a master key and an operator token that production accepts', () => {
    const r = cli(['keys', 'generate']);
    assert.equal(r.status, 0, r.stderr);
    const keys = JSON.parse(r.stdout) as { masterKey: string; operatorToken: string };
    assert.match(keys.masterKey, /^[0-9a-f]{64}$/);
    assert.ok(keys.operatorToken.length >= 40);
    assert.notEqual(JSON.parse(cli(['keys', 'generate']).stdout).masterKey, keys.masterKey);
  });

  it('xpub derive reads the mnemonic from standard input only and gives the account xpubs', () => {
    const r = cli(['xpub', 'derive'], `${SANDBOX_TEST_MNEMONIC}\n`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`OPENRAMP_XPUB_EVM=${SANDBOX_XPUBS.EVM}`));
    assert.match(r.stdout, new RegExp(`OPENRAMP_XPUB_TRON=${SANDBOX_XPUBS.TRON}`));
    assert.deepEqual(deriveAccountXpubs(SANDBOX_TEST_MNEMONIC).EVM, { path: "m/44'/60'/0'", xpub: SANDBOX_XPUBS.EVM });
    assert.notEqual(deriveAccountXpubs(SANDBOX_TEST_MNEMONIC, { account: 1 }).EVM.xpub, SANDBOX_XPUBS.EVM);

    const asArg = cli(['xpub', 'derive', ...SANDBOX_TEST_MNEMONIC.split(' ')]);
    assert.equal(asArg.status, 2);
    assert.match(asArg.stderr, /standard input only/);
    assert.doesNotMatch(asArg.stdout, /xpub/);
    const fromEnv = cli(['xpub', 'derive'], SANDBOX_TEST_MNEMONIC, { OPENRAMP_MNEMONIC: SANDBOX_TEST_MNEMONIC });
    assert.equal(fromEnv.status, 2);
    const bad = cli(['xpub', 'derive'], 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /not a valid BIP39/);
    const badAccount = cli(['xpub', 'derive', '--account', '-1'], SANDBOX_TEST_MNEMONIC);
    assert.equal(badAccount.status, 2);
  });

  it('keys rotate-master on a data folder: the new key replaces master.key, the old one is refused', async () => {
    const created = cli(['partner', 'create', '--name', 'Folder Partner']);
    assert.equal(created.status, 0, created.stderr);
    const oldKey = readFileSync(path.join(dataDir, 'master.key'), 'utf8').trim();
    const newKey = randomBytes(32).toString('hex');
    assert.equal(cli(['keys', 'rotate-master', newKey]).status, 2, 'the new key is never an argument');
    const bad = cli(['keys', 'rotate-master'], 'not-a-key\n');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /new master key/);
    assert.equal(readFileSync(path.join(dataDir, 'master.key'), 'utf8').trim(), oldKey, 'a refused rotation leaves the key');

    const r = cli(['keys', 'rotate-master'], `${newKey}\n`);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(JSON.parse(r.stdout).rotated.partners >= 2);
    assert.equal(readFileSync(path.join(dataDir, 'master.key'), 'utf8').trim(), newKey);

    const withOld = cli(['partner', 'create', '--name', 'Old Key'], '', { OPENRAMP_MASTER_KEY: oldKey });
    assert.equal(withOld.status, 2, withOld.stdout);
    assert.match(withOld.stderr, /OPENRAMP_MASTER_KEY/);
    const withNew = cli(['partner', 'create', '--name', 'New Key']);
    assert.equal(withNew.status, 0, withNew.stderr);

    // A running server holds the folder: rotation is refused.
    const child = spawn(process.execPath, [bin, 'serve'], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const onData = (d: Buffer) => {
        out += d.toString();
        if (/listening on/.test(out)) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.on('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
    });
    const busy = cli(['keys', 'rotate-master'], `${randomBytes(32).toString('hex')}\n`);
    assert.equal(busy.status, 2);
    assert.match(busy.stderr, /stop it/);
    // The CLI checks that the server it reaches is the one server.json names before sending the token.
    const file = path.join(dataDir, 'server.json');
    const info = JSON.parse(readFileSync(file, 'utf8'));
    const viaServer = cli(['treasury', 'show']);
    assert.equal(viaServer.status, 0, viaServer.stderr);
    assert.match(viaServer.stderr, /operator token from .*operator-token/);
    writeFileSync(file, JSON.stringify({ ...info, instance: 'someone-else' }));
    const stale = cli(['treasury', 'show']);
    assert.equal(stale.status, 2, stale.stdout);
    assert.match(stale.stderr, /another server answers there/);
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  });
});
