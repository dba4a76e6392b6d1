import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createAdjustableClock, systemClock } from '../src/infra/lib/clock.ts';
import { call, createTestContext, type TestContext } from './helpers/harness.ts';
import { CONTRACT_PATH, loadContract, type Contract } from './helpers/contract.ts';
import { REFERENCE, skipWithoutReference } from './helpers/reference.ts';

/**
 * docs/api-contract.md: every JSON response of every implemented route validates against the matching
 * response schema of the contract (read at test time from the reference folder). Table-driven:
 * a new route is one `ok(...)` line plus one error line.
 */

type Creds = { apiKey: string; apiSecret: string };
type ContractStatus = 'INVALID_PARAMETERS' | 'UNAUTHORISED' | 'FAILED';

interface Fixtures {
  customerId: string; // fully populated, CONFIRMED
  email: string;
  externalId: string;
  minimalCustomerId: string; // no optional fields
  rejectedCustomerId: string;
  bank: Record<'EUR' | 'GBP' | 'USD' | 'AUD' | 'SGD', string>;
  addresses: { ethUsdt: string; maticUsdc: string; trxUsdt: string };
  flows: { eth: string; matic: string; trx: string; disabled: string; toDelete: string };
  second: { customerId: string; bankAccountId: string; trxAddressId: string }; // for the create cases
  other: Creds; // a second partner
  deposits: { received: string; confirmed: string; trx: string; actionRequired: string };
  ethAddress: string;
  tradeId: string;
}

interface Case {
  method: 'GET' | 'POST';
  route: string;
  name: string;
  query?: (f: Fixtures) => string;
  body?: (f: Fixtures) => unknown;
  unsigned?: boolean;
  as?: 'other';
  /** 200, or the error status and contract status expected. */
  expect: 200 | { http: 401 | 422; status: ContractStatus };
  /** The response's data.list must be non-empty, so the item schema is really exercised. */
  nonEmptyList?: boolean;
  extra?: (json: any, f: Fixtures) => void;
}

const uniq = () => randomBytes(4).toString('hex');
const NAME = 'Jane Roe';

const BANKS = {
  EUR: {
    currency: 'EUR',
    bankName: 'Deutsche Bank',
    accountNo: '1234567890',
    iban: 'DE89370400440532013000',
    swift: 'DEUTDEFF',
    accountName: NAME,
  },
  GBP: { currency: 'GBP', bankName: 'NatWest', accountNo: '66374958', sortCode: '08-99-99', swift: 'NWBKGB2L', accountName: NAME },
  USD: { currency: 'USD', bankName: 'JPMorgan Chase', accountNo: '123456789', aba: '021000021', accountName: NAME },
  AUD: { currency: 'AUD', bankName: 'Commonwealth Bank', accountNo: '12345678', bsb: '062-000', beneficiaryName: NAME },
  SGD: { currency: 'SGD', bankName: 'DBS Bank', accountNo: '0123456789', swift: 'DBSSSGSG', accountName: NAME },
} as const;
type BankCurrency = keyof typeof BANKS;

// Case builders: one line per request.
const ok = (
  method: Case['method'],
  route: string,
  name: string,
  req: Pick<Case, 'query' | 'body' | 'nonEmptyList' | 'extra' | 'as'> = {},
): Case => ({ method, route, name, expect: 200, ...req });
const fail = (
  method: Case['method'],
  route: string,
  name: string,
  status: ContractStatus,
  req: Pick<Case, 'query' | 'body' | 'as'> = {},
): Case => ({ method, route, name, expect: { http: 422, status }, ...req });
const unsigned = (method: Case['method'], route: string): Case => ({
  method,
  route,
  name: 'unsigned',
  unsigned: true,
  expect: { http: 401, status: 'UNAUTHORISED' },
});

const CONTRACT_EVENTS = [
  'CUSTOMER_APPROVED',
  'CUSTOMER_REJECTED',
  'DEPOSIT_ADDRESS_APPROVED',
  'DEPOSIT_RECEIVED',
  'DEPOSIT_APPROVED',
  'TRADE_CREATED',
  'TRADE_SETTLED',
];

const CASES: Case[] = [
  // Common
  ok('GET', '/health', 'liveness'),
  ok('GET', '/basic-info', 'partner'),
  unsigned('GET', '/basic-info'),
  ok('GET', '/balance', 'all assets', { extra: (j) => assert.ok(j.data.length > 0, 'balance lists assets') }),
  unsigned('GET', '/balance'),
  ok('POST', '/callback-url', 'set', { body: () => ({ callbackUrl: 'https://example.com/hooks/openramp' }) }),
  ok('GET', '/callback-url', 'set URL', { extra: (j) => assert.equal(j.data.callbackUrl, 'https://example.com/hooks/openramp') }),
  ok('POST', '/callback-url', 'clear', { body: () => ({ callbackUrl: '' }) }),
  ok('GET', '/callback-url', 'cleared URL'),
  fail('POST', '/callback-url', 'not a URL', 'INVALID_PARAMETERS', { body: () => ({ callbackUrl: 'ftp://example.com/x' }) }),
  fail('POST', '/callback-url', 'wrong type', 'INVALID_PARAMETERS', { body: () => ({ callbackUrl: 42 }) }),
  unsigned('GET', '/callback-url'),
  ok('GET', '/subscribed-events', 'default subscriptions of a new partner'),
  ok('POST', '/subscribed-events', 'set (with an extension event)', { body: () => ({ events: [...CONTRACT_EVENTS, 'PAYOUT_SETTLED'] }) }),
  ok('GET', '/subscribed-events', 'set events', {
    extra: (j) => {
      assert.deepEqual([...j.data.events].sort(), [...CONTRACT_EVENTS].sort());
      assert.deepEqual(j.data.extensionEvents, ['PAYOUT_SETTLED']);
    },
  }),
  fail('POST', '/subscribed-events', 'unknown event', 'INVALID_PARAMETERS', { body: () => ({ events: ['NOPE'] }) }),
  unsigned('GET', '/subscribed-events'),
  ok('POST', '/ip-white-list', 'set (inject comes from 127.0.0.1)', { body: () => ({ ipWhiteList: ['127.0.0.1', '::1', '10.0.0.0/8'] }) }),
  ok('GET', '/ip-white-list', 'set list', { extra: (j) => assert.equal(j.data.ipWhiteList.length, 3) }),
  ok('POST', '/ip-white-list', 'clear', { body: () => ({ ipWhiteList: [] }) }),
  ok('GET', '/ip-white-list', 'empty list'),
  fail('POST', '/ip-white-list', 'not an IP', 'INVALID_PARAMETERS', { body: () => ({ ipWhiteList: ['not-an-ip'] }) }),
  unsigned('GET', '/ip-white-list'),

  // Customers
  ok('POST', '/customer/create', 'all fields', {
    body: () => ({
      name: 'Max Mustermann',
      email: `${uniq()}@example.com`,
      type: 'DEPOSITOR',
      isIndividual: true,
      externalId: `ext-${uniq()}`,
      dateOfBirth: '1985-02-03',
      country: 'DE',
      nationality: 'AT',
      city: 'Berlin',
      address: 'Unter den Linden 1',
    }),
  }),
  ok('POST', '/customer/create', 'minimal', { body: () => ({ name: 'Erika Musterfrau', email: `${uniq()}@example.com` }) }),
  ok('POST', '/customer/create', 'rejected by sandbox KYC', {
    body: () => ({ name: 'Reject Me', email: `${uniq()}@example.com`, isIndividual: false, type: 'PAYEE' }),
  }),
  fail('POST', '/customer/create', 'missing email', 'INVALID_PARAMETERS', { body: () => ({ name: 'No Email' }) }),
  fail('POST', '/customer/create', 'duplicate email', 'FAILED', { body: (f) => ({ name: 'Dup', email: f.email }) }),
  ok('GET', '/customer/detail', 'by id (all fields)', { query: (f) => `id=${f.customerId}` }),
  ok('GET', '/customer/detail', 'by email', { query: (f) => `email=${encodeURIComponent(f.email)}` }),
  ok('GET', '/customer/detail', 'by externalId', { query: (f) => `externalId=${encodeURIComponent(f.externalId)}` }),
  ok('GET', '/customer/detail', 'minimal customer (null dob, country)', { query: (f) => `id=${f.minimalCustomerId}` }),
  ok('GET', '/customer/detail', 'rejected customer', {
    query: (f) => `id=${f.rejectedCustomerId}`,
    extra: (j) => assert.equal(j.data.status, 'REJECTED'),
  }),
  fail('GET', '/customer/detail', 'unknown id', 'FAILED', { query: () => 'id=cus_doesnotexist' }),
  fail('GET', '/customer/detail', "another partner's id", 'FAILED', { query: (f) => `id=${f.customerId}`, as: 'other' }),
  fail('GET', '/customer/detail', 'no selector', 'INVALID_PARAMETERS'),
  ok('GET', '/customer/list', 'default page', { nonEmptyList: true }),
  ok('GET', '/customer/list', 'page 2 of size 2', {
    query: () => 'pageNum=2&pageSize=2',
    nonEmptyList: true,
    extra: (j) => assert.equal(j.data.pageNum, 2),
  }),
  ok('GET', '/customer/list', 'filtered by status', { query: () => 'status=REJECTED&sortDirection=ASC', nonEmptyList: true }),
  ok('GET', '/customer/list', 'empty page (another partner)', { as: 'other', extra: (j) => assert.deepEqual(j.data.list, []) }),
  fail('GET', '/customer/list', 'pageSize too big', 'INVALID_PARAMETERS', { query: () => 'pageSize=1000' }),

  // Bank accounts (the contract's currency enum lacks CAD, our extension: docs/api-contract.md)
  ...(Object.keys(BANKS) as BankCurrency[]).map((c) =>
    ok('POST', '/bank-account/add', `${c} account`, { body: (f) => ({ customerId: f.customerId, ...BANKS[c], label: `${c} ${uniq()}` }) }),
  ),
  ok('POST', '/bank-account/add', 'payee-name mismatch (REJECTED)', {
    body: (f) => ({ customerId: f.customerId, ...BANKS.GBP, accountName: 'Mallory Evil' }),
    extra: (j) => assert.equal(j.data.verificationStatus, 'REJECTED'),
  }),
  fail('POST', '/bank-account/add', 'unknown customer', 'FAILED', { body: () => ({ customerId: 'cus_doesnotexist', ...BANKS.EUR }) }),
  fail('POST', '/bank-account/add', 'unknown currency', 'INVALID_PARAMETERS', {
    body: (f) => ({ customerId: f.customerId, ...BANKS.EUR, currency: 'XXX' }),
  }),
  fail('POST', '/bank-account/add', 'bad IBAN', 'INVALID_PARAMETERS', {
    body: (f) => ({ customerId: f.customerId, ...BANKS.EUR, iban: 'DE89370400440532013001' }),
  }),
  ...(Object.keys(BANKS) as BankCurrency[]).map((c) =>
    ok('GET', '/bank-account/detail', `${c} account`, { query: (f) => `id=${f.bank[c]}` }),
  ),
  ok('GET', '/bank-account/detail', 'with matching customerId', { query: (f) => `id=${f.bank.EUR}&customerId=${f.customerId}` }),
  fail('GET', '/bank-account/detail', 'unknown id', 'FAILED', { query: () => 'id=ba_doesnotexist' }),
  fail('GET', '/bank-account/detail', 'missing id', 'INVALID_PARAMETERS'),
  ok('GET', '/bank-account/list', 'all', { query: () => 'pageSize=100', nonEmptyList: true }),
  ok('GET', '/bank-account/list', 'by customer and currency', {
    query: (f) => `customerId=${f.customerId}&currency=GBP`,
    nonEmptyList: true,
  }),
  fail('GET', '/bank-account/list', 'pageNum 0', 'INVALID_PARAMETERS', { query: () => 'pageNum=0' }),

  // Deposit addresses
  ok('POST', '/deposit-address/create', 'USDC on ETH', { body: (f) => ({ customerId: f.customerId, currency: 'USDC', network: 'ETH' }) }),
  ok('POST', '/deposit-address/create', 'USDT on TRX (second customer)', {
    body: (f) => ({ customerId: f.minimalCustomerId, currency: 'USDT', network: 'TRX' }),
  }),
  fail('POST', '/deposit-address/create', 'unknown customer', 'FAILED', {
    body: () => ({ customerId: 'cus_doesnotexist', currency: 'USDT', network: 'ETH' }),
  }),
  fail('POST', '/deposit-address/create', 'unknown network', 'INVALID_PARAMETERS', {
    body: (f) => ({ customerId: f.customerId, currency: 'USDT', network: 'BTC' }),
  }),
  ok('GET', '/deposit-address/detail', 'ETH', { query: (f) => `id=${f.addresses.ethUsdt}` }),
  ok('GET', '/deposit-address/detail', 'MATIC', { query: (f) => `id=${f.addresses.maticUsdc}` }),
  ok('GET', '/deposit-address/detail', 'TRX', { query: (f) => `id=${f.addresses.trxUsdt}` }),
  fail('GET', '/deposit-address/detail', 'unknown id', 'FAILED', { query: () => 'id=dad_doesnotexist' }),
  ok('GET', '/deposit-address/list', 'all', { query: () => 'pageSize=100', nonEmptyList: true }),
  ok('GET', '/deposit-address/list', 'by customer', {
    query: (f) => `customerId=${f.customerId}&pageNum=1&pageSize=2`,
    nonEmptyList: true,
  }),
  fail('GET', '/deposit-address/list', 'non-numeric pageSize', 'INVALID_PARAMETERS', { query: () => 'pageSize=abc' }),

  // Flows
  ok('POST', '/autoramp-flow/offramp', 'new flow', {
    body: (f) => ({ from: { customerId: f.second.customerId, currency: 'USDT', network: 'ETH' }, to: f.second.bankAccountId }),
  }),
  ok('POST', '/autoramp-flow/offramp', 'existing flow returned', {
    body: (f) => ({ from: { customerId: f.customerId, currency: 'USDT', network: 'ETH' }, to: f.bank.EUR }),
    extra: (j, f) => assert.equal(j.data.id, f.flows.eth),
  }),
  fail('POST', '/autoramp-flow/offramp', 'unknown bank account', 'FAILED', {
    body: (f) => ({ from: { customerId: f.customerId, currency: 'USDT', network: 'ETH' }, to: 'ba_doesnotexist' }),
  }),
  fail('POST', '/autoramp-flow/offramp', 'USDC on TRX', 'INVALID_PARAMETERS', {
    body: (f) => ({ from: { customerId: f.customerId, currency: 'USDC', network: 'TRX' }, to: f.bank.EUR }),
  }),
  fail('POST', '/autoramp-flow/offramp', 'missing from', 'INVALID_PARAMETERS', { body: (f) => ({ to: f.bank.EUR }) }),
  ok('POST', '/autoramp-flow/create', 'OFFRAMP from ids', {
    body: (f) => ({ type: 'OFFRAMP', from: f.second.trxAddressId, to: f.second.bankAccountId }),
  }),
  fail('POST', '/autoramp-flow/create', 'ONRAMP not supported', 'INVALID_PARAMETERS', {
    body: (f) => ({ type: 'ONRAMP', from: f.addresses.trxUsdt, to: f.bank.AUD }),
  }),
  fail('POST', '/autoramp-flow/create', 'unknown ids', 'FAILED', {
    body: () => ({ type: 'OFFRAMP', from: 'dad_doesnotexist', to: 'ba_doesnotexist' }),
  }),
  ok('GET', '/autoramp-flow/detail', 'ETH flow', { query: (f) => `id=${f.flows.eth}` }),
  ok('GET', '/autoramp-flow/detail', 'MATIC flow', { query: (f) => `id=${f.flows.matic}` }),
  ok('GET', '/autoramp-flow/detail', 'TRX flow', { query: (f) => `id=${f.flows.trx}` }),
  ok('GET', '/autoramp-flow/detail', 'DISABLED flow', {
    query: (f) => `id=${f.flows.disabled}`,
    extra: (j) => assert.equal(j.data.status, 'DISABLED'),
  }),
  fail('GET', '/autoramp-flow/detail', 'unknown id', 'FAILED', { query: () => 'id=flw_doesnotexist' }),
  fail('GET', '/autoramp-flow/detail', "another partner's id", 'FAILED', { query: (f) => `id=${f.flows.eth}`, as: 'other' }),
  ok('POST', '/autoramp-flow/delete', 'delete', {
    body: (f) => ({ id: f.flows.toDelete }),
    extra: (j, f) => assert.equal(j.data, f.flows.toDelete),
  }),
  fail('POST', '/autoramp-flow/delete', 'unknown id', 'FAILED', { body: () => ({ id: 'flw_doesnotexist' }) }),
  fail('POST', '/autoramp-flow/delete', 'id not a string', 'INVALID_PARAMETERS', { body: () => ({ id: 7 }) }),
  ok('GET', '/autoramp-flow/detail', 'deleted flow', { query: (f) => `id=${f.flows.toDelete}` }),
  ok('GET', '/autoramp-flow/list', 'all', { query: () => 'pageSize=100', nonEmptyList: true }),
  ok('GET', '/autoramp-flow/list', 'filtered', {
    query: (f) => `type=OFFRAMP&status=DISABLED&customerId=${f.customerId}`,
    nonEmptyList: true,
  }),
  ok('GET', '/autoramp-flow/list', 'including deleted', { query: () => 'includeDeleted=true&pageNum=1&pageSize=3', nonEmptyList: true }),
  fail('GET', '/autoramp-flow/list', 'unknown status', 'INVALID_PARAMETERS', { query: () => 'status=FOO' }),
  ok('GET', '/autoramp-flow/trade-preview', 'USDT → EUR', {
    query: () => 'fromCurrency=USDT&toCurrency=EUR&amount=1000.00',
    extra: (j) => assert.equal(typeof j.data, 'object'),
  }),
  ok('GET', '/autoramp-flow/trade-preview', 'USDC → SGD', { query: () => 'fromCurrency=USDC&toCurrency=SGD&amount=0.000001' }),
  fail('GET', '/autoramp-flow/trade-preview', 'negative amount', 'INVALID_PARAMETERS', {
    query: () => 'fromCurrency=USDT&toCurrency=EUR&amount=-1',
  }),
  fail('GET', '/autoramp-flow/trade-preview', 'onramp direction', 'INVALID_PARAMETERS', {
    query: () => 'fromCurrency=EUR&toCurrency=USDT&amount=1',
  }),

  // Deposits
  ok('GET', '/deposit/detail', 'RECEIVED', {
    query: (f) => `id=${f.deposits.received}`,
    extra: (j) => assert.equal(j.data.status, 'RECEIVED'),
  }),
  ok('GET', '/deposit/detail', 'CONFIRMED', {
    query: (f) => `id=${f.deposits.confirmed}`,
    extra: (j) => assert.equal(j.data.status, 'CONFIRMED'),
  }),
  ok('GET', '/deposit/detail', 'TRX', { query: (f) => `id=${f.deposits.trx}` }),
  ok('GET', '/deposit/detail', 'ACTION_REQUIRED', {
    query: (f) => `id=${f.deposits.actionRequired}&status=ACTION_REQUIRED`,
    extra: (j) => assert.equal(j.data.status, 'ACTION_REQUIRED'),
  }),
  fail('GET', '/deposit/detail', 'unknown id', 'FAILED', { query: () => 'id=dep_doesnotexist' }),
  fail('GET', '/deposit/detail', 'status filter does not match', 'FAILED', { query: (f) => `id=${f.deposits.confirmed}&status=REJECTED` }),
  fail('GET', '/deposit/detail', "another partner's id", 'FAILED', { query: (f) => `id=${f.deposits.confirmed}`, as: 'other' }),
  ok('GET', '/deposit/list', 'all', { query: () => 'pageSize=100', nonEmptyList: true }),
  ok('GET', '/deposit/list', 'filtered', { query: (f) => `customerId=${f.customerId}&currency=USDT&status=CONFIRMED`, nonEmptyList: true }),
  fail('GET', '/deposit/list', 'unknown status', 'INVALID_PARAMETERS', { query: () => 'status=NOPE' }),
  ok('POST', '/deposit/mock', 'USDT on ETH', {
    body: (f) => ({
      currency: 'USDT',
      amount: '10',
      senderName: 'S',
      senderAccountNo: 'x',
      receiverAccountNo: f.ethAddress,
      network: 'ETH',
    }),
  }),
  fail('POST', '/deposit/mock', 'fiat', 'INVALID_PARAMETERS', {
    body: (f) => ({
      currency: 'EUR',
      amount: '10',
      senderName: 'S',
      senderAccountNo: 'x',
      receiverAccountNo: f.ethAddress,
      network: 'ETH',
    }),
  }),
  ok('GET', '/trade/detail', 'settled trade', { query: (f) => `id=${f.tradeId}`, extra: (j) => assert.equal(j.data.status, 'SETTLED') }),
  fail('GET', '/trade/detail', 'unknown id', 'FAILED', { query: () => 'id=trd_doesnotexist' }),
  fail('GET', '/trade/detail', "another partner's id", 'FAILED', { query: (f) => `id=${f.tradeId}`, as: 'other' }),
  ok('GET', '/trade/list', 'all', { nonEmptyList: true }),
  ok('GET', '/trade/list', 'settled', { query: () => 'status=SETTLED&pageNum=1&pageSize=5', nonEmptyList: true }),
  fail('GET', '/trade/list', 'unknown status', 'INVALID_PARAMETERS', { query: () => 'status=DONE' }),
  fail('POST', '/deposit/mock', 'not our address', 'FAILED', {
    body: () => ({
      currency: 'USDT',
      amount: '10',
      senderName: 'S',
      senderAccountNo: 'x',
      receiverAccountNo: '0x2222222222222222222222222222222222222222',
      network: 'ETH',
    }),
  }),
];

/** Implemented routes without a contract error case, and why. */
const NO_ERROR_CASE: Record<string, string> = {
  'GET /health': 'unsigned and parameterless: it has no client error (503 when the database is down is not reachable here)',
};

describe('API responses conform to the contract (docs/api-contract.md)', {
  skip: skipWithoutReference('contract conformance', REFERENCE.contract),
}, () => {
  let ctx: TestContext;
  let contract: Contract;
  let f: Fixtures;

  const send = async (c: Pick<Case, 'method' | 'route' | 'unsigned' | 'as'> & { query?: string; body?: unknown }) => {
    const url = c.query ? `${c.route}?${c.query}` : c.route;
    if (c.unsigned) {
      const res = await ctx.openramp.api.inject({ method: c.method, url, ...(c.body !== undefined ? { payload: c.body as object } : {}) });
      let json: any = null;
      try {
        json = res.json();
      } catch {
        json = null;
      }
      return { status: res.statusCode, json, body: res.body };
    }
    return call(ctx, {
      method: c.method,
      url,
      ...(c.body !== undefined ? { body: c.body } : {}),
      ...(c.as === 'other' ? { creds: f.other } : {}),
    });
  };
  const must = async (c: Parameters<typeof send>[0]) => {
    const r = await send(c);
    assert.equal(r.status, 200, `set-up ${c.method} ${c.route} failed: ${r.body}`);
    return r.json;
  };

  before(async () => {
    contract = loadContract();
    // Sandbox time frozen and moved by the test only, so "RECEIVED, not yet final" stays so.
    ctx = await createTestContext({
      env: { OPENRAMP_RATE_LIMIT_PER_MINUTE: '1000000' },
      clock: createAdjustableClock({ now: () => new Date('2026-06-03T09:00:00Z') }),
      authClock: systemClock,
    });
    const email = `${uniq()}@example.com`;
    const externalId = `ext-${uniq()}`;
    const full = await must({
      method: 'POST',
      route: '/customer/create',
      body: {
        name: NAME,
        email,
        type: 'DEPOSITOR',
        isIndividual: true,
        externalId,
        dateOfBirth: '1990-05-17',
        country: 'DE',
        nationality: 'FR',
        city: 'Berlin',
        address: 'Friedrichstraße 43',
      },
    });
    const minimal = await must({ method: 'POST', route: '/customer/create', body: { name: 'Min Imal', email: `${uniq()}@example.com` } });
    const rejected = await must({
      method: 'POST',
      route: '/customer/create',
      body: { name: 'Please Reject Me', email: `${uniq()}@example.com` },
    });
    const customerId = full.customerId as string;
    const bank = {} as Fixtures['bank'];
    for (const c of Object.keys(BANKS) as BankCurrency[]) {
      const b = await must({ method: 'POST', route: '/bank-account/add', body: { customerId, ...BANKS[c] } });
      assert.equal(b.data.verificationStatus, 'VERIFIED', `${c} account should pass the payee check`);
      bank[c] = b.bankAccountId;
    }
    const flow = async (currency: string, network: string, to: string) =>
      (await must({ method: 'POST', route: '/autoramp-flow/offramp', body: { from: { customerId, currency, network }, to } })).data;
    const eth = await flow('USDT', 'ETH', bank.EUR);
    const matic = await flow('USDC', 'MATIC', bank.GBP);
    const trx = await flow('USDT', 'TRX', bank.USD);
    const disabled = await flow('USDC', 'ETH', bank.USD);
    await must({ method: 'POST', route: '/autoramp-flow/update-status', body: { id: disabled.id, status: 'DISABLED' } });
    const toDelete = await flow('USDT', 'MATIC', bank.SGD);
    const second = await must({ method: 'POST', route: '/customer/create', body: { name: 'Sam Second', email: `${uniq()}@example.com` } });
    const secondBank = await must({
      method: 'POST',
      route: '/bank-account/add',
      body: { customerId: second.customerId, ...BANKS.EUR, accountName: 'Sam Second' },
    });
    const secondTrx = await must({
      method: 'POST',
      route: '/deposit-address/create',
      body: { customerId: second.customerId, currency: 'USDT', network: 'TRX' },
    });
    const other = await ctx.openramp.services.partners.create('Other Partner');

    // Deposits in several states: mock transfers on the sandbox chain, mined and scanned.
    const services = ctx.openramp.services;
    const mock = async (network: string, currency: string, to: string, amount: string) =>
      (
        await must({
          method: 'POST',
          route: '/deposit/mock',
          body: { currency, amount, senderName: 'Sender', senderAccountNo: 'wallet', receiverAccountNo: to, network },
        })
      ).data.txid as string;
    const scan = async (seconds: number) => {
      services.sandboxClock!.advance(seconds * 1000);
      await services.sandboxChain!.produceBlocks();
      for (const n of ['ETH', 'MATIC', 'TRX'] as const) await services.scanners[n].tick();
    };
    const txConfirmed = await mock('ETH', 'USDT', eth.depositAddress, '125.5');
    const txTrx = await mock('TRX', 'USDT', trx.depositAddress, '60');
    const txAction = await mock('ETH', 'USDC', eth.depositAddress, '30'); // the USDC/ETH flow is disabled
    await scan(30);
    const txReceived = await mock('ETH', 'USDT', eth.depositAddress, '7.25');
    await scan(1);
    await services.jobs.runDue(); // trade.create
    await services.jobs.runDue(); // trade.settle
    const depositIdOf = async (txid: string) =>
      (
        await services.db
          .selectFrom('deposits')
          .select('id')
          .where('tx_hash', 'in', [txid, `0x${txid}`])
          .executeTakeFirstOrThrow()
      ).id;
    f = {
      customerId,
      email,
      externalId,
      minimalCustomerId: minimal.customerId,
      rejectedCustomerId: rejected.customerId,
      bank,
      addresses: { ethUsdt: eth.depositAddressId, maticUsdc: matic.depositAddressId, trxUsdt: trx.depositAddressId },
      flows: { eth: eth.id, matic: matic.id, trx: trx.id, disabled: disabled.id, toDelete: toDelete.id },
      second: { customerId: second.customerId, bankAccountId: secondBank.bankAccountId, trxAddressId: secondTrx.data.id },
      other,
      ethAddress: eth.depositAddress,
      tradeId: (await services.db.selectFrom('trades').select('id').executeTakeFirstOrThrow()).id,
      deposits: {
        confirmed: await depositIdOf(txConfirmed),
        trx: await depositIdOf(txTrx),
        actionRequired: await depositIdOf(txAction),
        received: await depositIdOf(txReceived),
      },
    };
  });
  after(() => ctx?.close());

  it(`reads the contract from ${CONTRACT_PATH} and catches violations`, async () => {
    assert.ok(contract.hasOperation('post', '/customer/create'));
    // The normalisation is what docs/api-contract.md allows, no more: a bare object accepts anything, a typed field does not.
    assert.ok(contract.validateComponent('GetCustomerDataDto', { id: 'x', dob: null, countryName: 'Germany' }).ok);
    assert.ok(!contract.validateComponent('GetCustomerDataDto', { id: 'x', realName: null }).ok);
    assert.ok(
      contract.validateComponent('AutorampFlowDetailDto', {
        id: 'x',
        type: 'OFFRAMP',
        fromVirtualAccount: null,
        fromDepositAddress: null,
        toBankAccount: null,
        toCryptoAddress: null,
        status: 'ENABLED',
        createTime: 't',
      }).ok,
    );
    assert.ok(
      !contract.validateComponent('AutorampFlowDetailDto', {
        id: 'x',
        type: 'OFFRAMP',
        fromVirtualAccount: null,
        fromDepositAddress: { id: 1 },
        toBankAccount: null,
        toCryptoAddress: null,
        status: 'ENABLED',
        createTime: 't',
      }).ok,
    );
    // And a real response, broken on purpose, is caught with a readable message.
    const list = await send({ method: 'GET', route: '/customer/list' });
    contract.assertConforms('GET', '/customer/list', 200, list.json);
    list.json.data.list[0].realName = null;
    assert.throws(
      () => contract.assertConforms('GET', '/customer/list', 200, list.json),
      /data\/list\/0\/realName must be string[\s\S]*"realName": null/,
    );
    assert.throws(
      () => contract.assertConforms('GET', '/customer/list', 422, { status: 'NOPE', message: 'x' }),
      /ErrorResponseDto|responses\.422/,
    );
  });

  it('the table covers every implemented contract route with a success and an error case', async () => {
    await ctx.openramp.api.ready();
    const doc = ctx.openramp.api.swagger() as { paths: Record<string, Record<string, unknown>> };
    const missing: string[] = [];
    for (const [route, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        if (!contract.hasOperation(method, route)) continue; // extensions (ours): no contract schema
        const key = `${method.toUpperCase()} ${route}`;
        const cases = CASES.filter((c) => c.method === method.toUpperCase() && c.route === route);
        if (!cases.some((c) => c.expect === 200)) missing.push(`${key}: no success case`);
        if (!cases.some((c) => c.expect !== 200) && !(key in NO_ERROR_CASE)) missing.push(`${key}: no error case`);
      }
    }
    assert.deepEqual(missing, [], `add a line to CASES in test/conformance.test.ts for:\n${missing.join('\n')}`);
    for (const c of CASES) assert.ok(contract.hasOperation(c.method, c.route), `${c.method} ${c.route} is not in the contract`);
  });

  for (const c of CASES) {
    const title = `${c.method} ${c.route} — ${c.name} → ${c.expect === 200 ? 200 : `${c.expect.http} ${c.expect.status}`}`;
    it(title, async () => {
      const r = await send({
        method: c.method,
        route: c.route,
        ...(c.unsigned ? { unsigned: true } : {}),
        ...(c.as ? { as: c.as } : {}),
        ...(c.query ? { query: c.query(f) } : {}),
        ...(c.body ? { body: c.body(f) } : {}),
      });
      const expectedHttp = c.expect === 200 ? 200 : c.expect.http;
      assert.equal(r.status, expectedHttp, `expected HTTP ${expectedHttp}, got ${r.status}: ${r.body}`);
      assert.notEqual(r.json, null, `response is not JSON: ${r.body}`);
      if (c.expect === 200) {
        assert.equal(r.json.status, 'SUCCESS', r.body);
        if (contract.hasSuccessSchema(c.method, c.route)) {
          contract.assertConforms(c.method, c.route, r.status, r.json);
        } else {
          // The contract documents a 200 without a schema (trade-preview): the envelope only.
          assert.ok('data' in r.json && r.json.data !== null && r.json.data !== undefined, `no data in ${r.body}`);
        }
        if (c.nonEmptyList) {
          assert.ok(
            Array.isArray(r.json.data?.list) && r.json.data.list.length > 0,
            `data.list should be non-empty so the item schema is exercised: ${r.body}`,
          );
          assert.equal(typeof r.json.data.total, 'number');
        }
      } else {
        assert.equal(r.json.status, c.expect.status, r.body);
        assert.deepEqual(Object.keys(r.json).sort(), ['message', 'status'], `error body must be exactly {status, message}: ${r.body}`);
        assert.ok(r.json.message.length > 0);
        contract.assertConforms(c.method, c.route, r.status, r.json);
      }
      c.extra?.(r.json, f);
    });
  }
});
