import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { call, createTestContext, onboard, type TestContext } from './helpers/harness.ts';
import {
  RESULT_MARKER,
  expectOnce,
  guidePath,
  killAllSampleProcesses,
  loadGuideSamples,
  removeOnExit,
  replaceOnce,
  repoRoot,
  resultOf,
  runProcess,
  sampleEnv,
  type GuideSamples,
} from './helpers/guide-samples.ts';
import { REFERENCE, referencePath, skipWithoutReference } from './helpers/reference.ts';

/**
 * docs/api-contract.md: the integration guide's three sample clients (Python `requests`, Node `axios`,
 * TypeScript class) work against a real listening OpenRamp unmodified apart from base URL, host
 * and credentials. The samples are read from the reference folder at test time; every adjustment is
 * an exact string replacement that must match exactly once, so a changed guide fails loudly.
 */
const GUIDE_BASE_URL = 'https://ramp.hexarails.ai';
const PROCESS_TIMEOUT_MS = 90_000;
const EVM_ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const TRON_ADDRESS = /^T[1-9A-HJ-NP-Za-km-z]{33}$/;

const unique = (prefix: string) => `${prefix}-${randomBytes(6).toString('hex')}`;

describe('integration guide sample clients against a listening server (docs/api-contract.md)', {
  skip: skipWithoutReference('guide sample clients', REFERENCE.guide),
}, () => {
  let ctx: TestContext;
  let port: number;
  let samples: GuideSamples;
  let workDir: string;
  let removeWorkDir: () => void;

  before(async () => {
    samples = loadGuideSamples();
    ctx = await createTestContext();
    await ctx.openramp.api.listen({ host: '127.0.0.1', port: 0 });
    const addr = ctx.openramp.api.server.address() as AddressInfo | string | null;
    assert.ok(addr && typeof addr === 'object', 'server listens on a TCP port');
    port = addr.port;
    // Under the repo so `require('axios')` / `import axios` resolve to its node_modules; removed in after().
    workDir = mkdtempSync(path.join(repoRoot, '.tmp-test-guide-'));
    removeWorkDir = removeOnExit(workDir);
  });

  after(async () => {
    killAllSampleProcesses();
    removeWorkDir?.();
    await ctx?.close();
  });

  const localBaseUrl = () => `http://127.0.0.1:${port}`;

  function assertNoProductionHost(code: string, label: string) {
    assert.ok(!code.includes('hexarails'), `${label}: adjusted sample still mentions the production host`);
  }

  async function assertFlow(
    flowId: string,
    expected: { customerId: string; bankAccountId: string; depositAddress: string; network: string; fiatCurrency: string },
  ) {
    const { flow, depositAddress, bankAccount } = await ctx.openramp.services.flows.get(ctx.partner.partnerId, flowId);
    assert.equal(flow.customer_id, expected.customerId);
    assert.equal(flow.network, expected.network);
    assert.equal(flow.currency, 'USDT');
    assert.equal(flow.status, 'ENABLED');
    assert.equal(flow.fiat_currency, expected.fiatCurrency);
    assert.equal(depositAddress.address, expected.depositAddress);
    assert.equal(depositAddress.network, expected.network);
    assert.equal(bankAccount.id, expected.bankAccountId);
    // and over the signed API, as a partner would see it
    const detail = await call(ctx, { method: 'GET', url: `/autoramp-flow/detail?id=${flowId}` });
    assert.equal(detail.status, 200, detail.body);
    assert.equal(detail.json.data.depositAddress, expected.depositAddress);
    assert.equal(detail.json.data.network, expected.network);
    assert.equal(detail.json.data.toBankAccount.id, expected.bankAccountId);
    return { flow, depositAddress, bankAccount };
  }

  describe('Python (requests; signs compact JSON, sends JSON with spaces and nulls)', () => {
    const PY_DRIVER = [
      'import json, sys',
      'sys.path.insert(0, sys.argv[1])',
      'import guide_sample',
      'result = guide_sample.execute_offramp(json.loads(sys.argv[2]), json.loads(sys.argv[3]))',
      `print(${JSON.stringify(RESULT_MARKER)} + json.dumps(result), flush=True)`,
    ].join('\n');

    let pyDir: string;
    before(() => {
      let code = samples.python;
      expectOnce(code, 'API_KEY = os.environ["COINUT_API_KEY"]', 'python credentials');
      expectOnce(code, 'API_SECRET = os.environ["COINUT_API_SECRET"]', 'python credentials');
      code = replaceOnce(code, `BASE_URL = "${GUIDE_BASE_URL}"`, `BASE_URL = "${localBaseUrl()}"`, 'python base URL');
      code = replaceOnce(code, 'host = "ramp.hexarails.ai"', `host = "127.0.0.1:${port}"`, 'python signed host');
      assertNoProductionHost(code, 'python');
      pyDir = mkdtempSync(path.join(workDir, 'py-'));
      writeFileSync(path.join(pyDir, 'guide_sample.py'), code);
    });

    async function runPython(user: Record<string, string>, bank: Record<string, string>) {
      const r = await runProcess('python3', ['-c', PY_DRIVER, pyDir, JSON.stringify(user), JSON.stringify(bank)], {
        cwd: pyDir,
        env: sampleEnv(ctx.partner),
        timeoutMs: PROCESS_TIMEOUT_MS,
      });
      return resultOf(r, 'python sample');
    }

    it('execute_offramp: customer, EUR bank account (with null fields), USDT flow on ETH', async () => {
      const user = { name: 'John Doe', email: `${unique('py')}@example.com`, id: unique('guide-py') };
      const res = await runPython(user, {
        currency: 'EUR',
        bank_name: 'Deutsche Bank',
        account_no: '1234567890',
        iban: 'DE89370400440532013000',
        swift: 'DEUTDEFF',
        network: 'ETH',
      });
      assert.match(res.customerId, /^cus_/);
      assert.match(res.bankAccountId, /^ba_/);
      assert.match(res.flowId, /^flw_/);
      assert.match(res.depositAddress, EVM_ADDRESS);
      const { bankAccount } = await assertFlow(res.flowId, {
        customerId: res.customerId,
        bankAccountId: res.bankAccountId,
        depositAddress: res.depositAddress,
        network: 'ETH',
        fiatCurrency: 'EUR',
      });
      assert.equal(bankAccount.iban, 'DE89370400440532013000');
      assert.equal(bankAccount.swift, 'DEUTDEFF');
      assert.equal(bankAccount.bsb, null);
      assert.equal(bankAccount.aba, null);
      const customer = await ctx.openramp.services.customers.get(ctx.partner.partnerId, { id: res.customerId });
      assert.equal(customer.external_id, user.id);
      assert.equal(customer.email, user.email);
      assert.equal(customer.status, 'CONFIRMED');
    });

    it('execute_offramp with a non-ASCII name (json.dumps escapes it as \\uXXXX) on TRX', async () => {
      const name = 'José Müller';
      const user = { name, email: `${unique('py-utf8')}@example.com`, id: unique('guide-py-utf8') };
      const res = await runPython(user, {
        currency: 'EUR',
        bank_name: 'Deutsche Bank',
        account_no: '1234567890',
        iban: 'DE89370400440532013000',
        swift: 'DEUTDEFF',
        network: 'TRX',
      });
      assert.match(res.customerId, /^cus_/);
      assert.match(res.bankAccountId, /^ba_/);
      assert.match(res.flowId, /^flw_/);
      assert.match(res.depositAddress, TRON_ADDRESS);
      const { bankAccount } = await assertFlow(res.flowId, {
        customerId: res.customerId,
        bankAccountId: res.bankAccountId,
        depositAddress: res.depositAddress,
        network: 'TRX',
        fiatCurrency: 'EUR',
      });
      const customer = await ctx.openramp.services.customers.get(ctx.partner.partnerId, { id: res.customerId });
      assert.equal(customer.name, name);
      assert.equal(bankAccount.account_name, name);
      assert.equal(bankAccount.verification_status, 'VERIFIED');
    });
  });

  describe('Node.js (axios, CommonJS)', () => {
    it('addBankAccount (GBP) and executeOfframp on MATIC for a harness-onboarded customer', async () => {
      let code = samples.node;
      expectOnce(code, 'const API_KEY = process.env.COINUT_API_KEY;', 'node credentials');
      expectOnce(code, 'const API_SECRET = process.env.COINUT_API_SECRET;', 'node credentials');
      expectOnce(code, 'const host = new URL(BASE_URL).host;', 'node signed host (derived from BASE_URL)');
      code = replaceOnce(code, `const BASE_URL = '${GUIDE_BASE_URL}';`, `const BASE_URL = '${localBaseUrl()}';`, 'node base URL');
      assertNoProductionHost(code, 'node');
      const dir = mkdtempSync(path.join(workDir, 'node-'));
      writeFileSync(path.join(dir, 'guide_sample.cjs'), code);
      writeFileSync(
        path.join(dir, 'driver.cjs'),
        [
          "const sample = require('./guide_sample.cjs');",
          'const [customerId, accountName] = process.argv.slice(2);',
          '(async () => {',
          "  const bankAccountId = await sample.addBankAccount(customerId, 'GBP', { bankName: 'Barclays', accountNo: '41011166', sortCode: '200915', swift: 'BARCGB22', accountName });",
          "  const result = await sample.executeOfframp(customerId, 'MATIC', bankAccountId);",
          `  console.log(${JSON.stringify(RESULT_MARKER)} + JSON.stringify({ bankAccountId, result }));`,
          '})().catch((err) => {',
          '  console.error(err && err.response ? JSON.stringify({ status: err.response.status, data: err.response.data }) : err);',
          '  process.exit(1);',
          '});',
          '',
        ].join('\n'),
      );

      const name = 'Jane Smith';
      const { customerId } = await onboard(ctx, { name });
      const r = await runProcess(process.execPath, ['driver.cjs', customerId, name], {
        cwd: dir,
        env: sampleEnv(ctx.partner),
        timeoutMs: PROCESS_TIMEOUT_MS,
      });
      const { bankAccountId, result } = resultOf(r, 'node sample');
      assert.match(bankAccountId, /^ba_/);
      assert.match(result.flowId, /^flw_/);
      assert.match(result.depositAddress, EVM_ADDRESS);
      assert.equal(result.network, 'MATIC');
      const { bankAccount } = await assertFlow(result.flowId, {
        customerId,
        bankAccountId,
        depositAddress: result.depositAddress,
        network: 'MATIC',
        fiatCurrency: 'GBP',
      });
      assert.equal(bankAccount.sort_code, '200915');
      assert.equal(bankAccount.account_name, name);
    });
  });

  describe('TypeScript (CoinutOfframpClient class, axios)', () => {
    it('addBankAccount (USD) and createOfframpFlow on TRX', async () => {
      let code = samples.typescript;
      expectOnce(code, 'constructor(apiKey: string, apiSecret: string)', 'typescript credentials (constructor)');
      expectOnce(code, 'const host = new URL(BASE_URL).host;', 'typescript signed host (derived from BASE_URL)');
      code = replaceOnce(code, `const BASE_URL = '${GUIDE_BASE_URL}';`, `const BASE_URL = '${localBaseUrl()}';`, 'typescript base URL');
      assertNoProductionHost(code, 'typescript');
      const dir = mkdtempSync(path.join(workDir, 'ts-'));
      writeFileSync(path.join(dir, 'guide_sample.ts'), code);
      writeFileSync(
        path.join(dir, 'driver.mjs'),
        [
          "import { CoinutOfframpClient } from './guide_sample.ts';",
          'const [customerId, accountName] = process.argv.slice(2);',
          'try {',
          '  const client = new CoinutOfframpClient(process.env.COINUT_API_KEY, process.env.COINUT_API_SECRET);',
          "  const bankAccountId = await client.addBankAccount(customerId, 'USD', { bankName: 'JPMorgan Chase', accountNo: '123456789', aba: '021000021', accountName });",
          "  const flow = await client.createOfframpFlow(customerId, 'TRX', bankAccountId);",
          `  console.log(${JSON.stringify(RESULT_MARKER)} + JSON.stringify({ bankAccountId, flow }));`,
          '} catch (err) {',
          '  console.error(err && err.response ? JSON.stringify({ status: err.response.status, data: err.response.data }) : err);',
          '  process.exit(1);',
          '}',
          '',
        ].join('\n'),
      );

      const name = 'Alex Taylor';
      const { customerId } = await onboard(ctx, { name });
      const r = await runProcess(process.execPath, ['--import', 'tsx', 'driver.mjs', customerId, name], {
        cwd: dir,
        env: sampleEnv(ctx.partner),
        timeoutMs: PROCESS_TIMEOUT_MS,
      });
      const { bankAccountId, flow } = resultOf(r, 'typescript sample');
      assert.match(bankAccountId, /^ba_/);
      assert.match(flow.flowId, /^flw_/);
      assert.match(flow.data.depositAddress, TRON_ADDRESS);
      assert.equal(flow.data.network, 'TRX');
      await assertFlow(flow.flowId, {
        customerId,
        bankAccountId,
        depositAddress: flow.data.depositAddress,
        network: 'TRX',
        fiatCurrency: 'USD',
      });
    });
  });

  it('reads the samples from the guide at test time', () => {
    assert.equal(guidePath, referencePath(REFERENCE.guide));
    for (const [label, code] of Object.entries(samples))
      assert.ok(code.includes(GUIDE_BASE_URL), `${label} sample as published targets ${GUIDE_BASE_URL}`);
  });
});
