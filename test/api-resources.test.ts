import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, createTestContext, onboard, signedHeaders, type TestContext } from './helpers/harness.ts';
import { createAdjustableClock, systemClock } from '../src/infra/lib/clock.ts';

const GOOD_BANKS: Record<string, Record<string, string>> = {
  USD: { bankName: 'Chase', accountNo: '123456789', aba: '021000021' },
  EUR: { bankName: 'Deutsche Bank', iban: 'DE89 3704 0044 0532 0130 00', swift: 'deutdeff' },
  GBP: { bankName: 'Barclays', accountNo: '41011166', sortCode: '20-09-15', swift: 'BARCGB22' },
  CAD: { bankName: 'RBC', accountNo: '1234567', institutionNumber: '003', transit: '12345' },
  AUD: { bankName: 'CBA', accountNo: '12345678', bsb: '062-000' },
  SGD: { bankName: 'DBS', accountNo: '0123456789', swift: 'DBSSSGSG' },
};

function multipart(fields: Record<string, string>, file?: { name: string; filename: string; content: string }) {
  const boundary = '----openramp-test-boundary';
  let body = '';
  for (const [k, v] of Object.entries(fields)) body += `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
  if (file)
    body += `--${boundary}\r\nContent-Disposition: form-data; name="${file.name}"; filename="${file.filename}"\r\nContent-Type: application/pdf\r\n\r\n${file.content}\r\n`;
  body += `--${boundary}--\r\n`;
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

describe('bank accounts, lists and previews through the API', () => {
  let ctx: TestContext;
  let customerId: string;
  before(async () => {
    ctx = await createTestContext();
    const r = await call(ctx, { method: 'POST', url: '/customer/create', body: { name: 'Maria Garcia', email: 'maria@example.com' } });
    customerId = r.json.customerId;
  });
  after(() => ctx.close());

  it('adds a verified account for each of the six currencies (JSON)', async () => {
    for (const [currency, fields] of Object.entries(GOOD_BANKS)) {
      const r = await call(ctx, {
        method: 'POST',
        url: '/bank-account/add',
        body: { customerId, currency, accountName: 'Maria Garcia', ...fields },
      });
      assert.equal(r.status, 200, `${currency}: ${r.body}`);
      assert.match(r.json.bankAccountId, /^ba_/);
      assert.equal(r.json.data.verificationStatus, 'VERIFIED');
      assert.equal(r.json.data.currency, currency);
    }
    const eur = await call(ctx, { method: 'GET', url: `/bank-account/list?customerId=${customerId}&currency=EUR` });
    assert.equal(eur.json.data.total, 1);
    assert.equal(eur.json.data.list[0].iban, 'DE89370400440532013000', 'IBAN stored in electronic format');
    assert.equal(eur.json.data.list[0].swift, 'DEUTDEFF');
  });

  it('names the field and rule on bad bank details, and writes nothing', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ currency: 'EUR', bankName: 'X', iban: 'DE89370400440532013001', swift: 'DEUTDEFF' }, /^iban: .*checksum/],
      [{ currency: 'EUR', bankName: 'X', iban: 'DE89370400440532013000' }, /^swift: /],
      [{ currency: 'USD', bankName: 'X', accountNo: '123456789', aba: '021000022' }, /^aba: /],
      [{ currency: 'AUD', bankName: 'X', accountNo: '12345678', bsb: '12345' }, /^bsb: /],
      [{ currency: 'CAD', bankName: 'X', accountNo: '1234567', institutionNumber: '3', transit: '12345' }, /^institutionNumber: /],
      [
        { currency: 'GBP', bankName: 'X', accountNo: '66374959', sortCode: '089999', swift: 'BARCGB22' },
        /^(accountNo|sortCode): .*modulus/i,
      ],
      [{ currency: 'JPY', bankName: 'X', accountNo: '1' }, /^currency: must be one of/],
      [
        { currency: 'EUR', bankName: 'X', iban: 'DE89370400440532013000', swift: 'DEUTDEFF', accountName: 'A', beneficiaryName: 'B' },
        /^beneficiaryName: /,
      ],
      [{ currency: 'EUR', bankName: 42, iban: 'DE89370400440532013000', swift: 'DEUTDEFF' }, /^bankName: /],
    ];
    const before = await ctx.openramp.services.db
      .selectFrom('bank_accounts')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    for (const [body, re] of cases) {
      const r = await call(ctx, { method: 'POST', url: '/bank-account/add', body: { customerId, ...body } });
      assert.equal(r.status, 422, JSON.stringify(body));
      assert.equal(r.json.status, 'INVALID_PARAMETERS');
      assert.match(r.json.message, re, r.json.message);
    }
    const unknown = await call(ctx, {
      method: 'POST',
      url: '/bank-account/add',
      body: { customerId: 'cus_nope', currency: 'EUR', bankName: 'X', iban: 'DE89370400440532013000', swift: 'DEUTDEFF' },
    });
    assert.equal(unknown.status, 422);
    assert.equal(unknown.json.status, 'FAILED');
    assert.match(unknown.json.message, /customer not found/);
    const afterCount = await ctx.openramp.services.db
      .selectFrom('bank_accounts')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(afterCount.n, before.n);
  });

  it('accepts multipart/form-data with the guide’s accountName alias and a statement file', async () => {
    const { body, contentType } = multipart(
      { customerId, currency: 'AUD', bankName: 'Westpac', accountNo: '987654321', bsb: '032000', accountName: 'MARIA GARCIA' },
      { name: 'statementFile', filename: 'statement.pdf', content: '%PDF-1.4 test' },
    );
    const headers = signedHeaders({ method: 'POST', url: '/bank-account/add', rawBody: '' }, ctx.partner);
    const res = await ctx.openramp.api.inject({
      method: 'POST',
      url: '/bank-account/add',
      headers: { ...headers, 'content-type': contentType },
      payload: body,
    });
    assert.equal(res.statusCode, 200, res.body);
    const json = res.json();
    assert.equal(json.data.bsb, '032000');
    assert.equal(json.data.accountName, 'MARIA GARCIA');
    assert.equal(json.data.verificationStatus, 'VERIFIED');
    const row = await ctx.openramp.services.db
      .selectFrom('bank_accounts')
      .selectAll()
      .where('id', '=', json.bankAccountId)
      .executeTakeFirstOrThrow();
    assert.equal(row.statement_file_name, 'statement.pdf');
  });

  it('paginates lists with the contract shape and bounds', async () => {
    for (let i = 0; i < 3; i++)
      await call(ctx, { method: 'POST', url: '/customer/create', body: { name: `Page Person ${i}`, email: `page${i}@example.com` } });
    const p1 = await call(ctx, { method: 'GET', url: '/customer/list?pageNum=1&pageSize=2' });
    assert.equal(p1.status, 200);
    assert.equal(p1.json.data.pageNum, 1);
    assert.equal(p1.json.data.pageSize, 2);
    assert.equal(p1.json.data.list.length, 2);
    assert.ok(p1.json.data.total >= 4);
    const p2 = await call(ctx, { method: 'GET', url: '/customer/list?pageNum=2&pageSize=2' });
    const ids = new Set([...p1.json.data.list, ...p2.json.data.list].map((c: any) => c.id));
    assert.equal(ids.size, 4, 'pages do not overlap');
    const filtered = await call(ctx, { method: 'GET', url: '/customer/list?realName=page%20person%201' });
    assert.equal(filtered.json.data.total, 1);
    for (const bad of ['pageSize=101', 'pageNum=0', 'pageNum=abc', 'status=NOPE']) {
      const r = await call(ctx, { method: 'GET', url: `/customer/list?${bad}` });
      assert.equal(r.status, 422, bad);
      assert.equal(r.json.status, 'INVALID_PARAMETERS');
      assert.match(r.json.message, new RegExp(`^${bad.split('=')[0]}: `));
    }
  });

  it('trade preview uses exact decimal math', async () => {
    const r = await call(ctx, { method: 'GET', url: '/autoramp-flow/trade-preview?fromCurrency=USDT&toCurrency=EUR&amount=1000.123456' });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.data.rate, '0.92');
    assert.equal(r.json.data.toAmount, '920.11'); // 1000.123456 × 0.92 = 920.11357952 → rounded down
    const bad = await call(ctx, { method: 'GET', url: '/autoramp-flow/trade-preview?fromCurrency=USDT&toCurrency=EUR&amount=1e3' });
    assert.equal(bad.status, 422);
    assert.match(bad.json.message, /^amount: /);
    const onramp = await call(ctx, { method: 'GET', url: '/autoramp-flow/trade-preview?fromCurrency=EUR&toCurrency=USDT&amount=10' });
    assert.equal(onramp.status, 422);
  });

  it('deposit-address/create is idempotent per customer, network and token', async () => {
    const a = await call(ctx, { method: 'POST', url: '/deposit-address/create', body: { customerId, currency: 'USDC', network: 'MATIC' } });
    const b = await call(ctx, { method: 'POST', url: '/deposit-address/create', body: { customerId, currency: 'USDC', network: 'MATIC' } });
    assert.equal(a.status, 200, a.body);
    assert.equal(a.json.data.id, b.json.data.id);
    const events = await ctx.openramp.services.db
      .selectFrom('events')
      .selectAll()
      .where('type', '=', 'DEPOSIT_ADDRESS_APPROVED')
      .where('object_id', '=', a.json.data.id)
      .execute();
    assert.equal(events.length, 1);
  });

  it('rejects malformed JSON, unsupported content types and oversized bodies with the envelope', async () => {
    const bad = await call(ctx, { method: 'POST', url: '/customer/create', rawBody: '{"name": "x",' });
    assert.equal(bad.status, 422);
    assert.deepEqual(bad.json, { status: 'INVALID_PARAMETERS', message: 'body: malformed JSON' });
    const form = await call(ctx, {
      method: 'POST',
      url: '/customer/create',
      rawBody: 'name=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(form.status, 422);
    assert.match(form.json.message, /Content-Type/);
    const huge = await call(ctx, { method: 'POST', url: '/customer/create', body: { name: 'x'.repeat(2_000_000), email: 'a@b.co' } });
    assert.equal(huge.status, 413);
    assert.equal(huge.json.status, 'INVALID_PARAMETERS');
    const nf = await call(ctx, { method: 'GET', url: '/no/such/route' });
    assert.equal(nf.status, 404);
    assert.equal(nf.json.status, 'FAILED');
  });
});

describe('sandbox KYC with a delay', () => {
  it('stays PENDING, then the job approves it; /sandbox/customer/decide decides at once', async () => {
    const clock = createAdjustableClock();
    const ctx = await createTestContext({ env: { OPENRAMP_SANDBOX_KYC_DELAY_MS: '5000' }, clock });
    try {
      const a = await call(ctx, { method: 'POST', url: '/customer/create', body: { name: 'Delayed Dan', email: 'dan@example.com' } });
      assert.equal(a.json.data.status, 'PENDING');
      assert.equal(await ctx.openramp.services.jobs.runDue(), 0, 'not due yet');
      clock.advance(5001);
      assert.equal(await ctx.openramp.services.jobs.runDue(), 1);
      const d = await call(ctx, { method: 'GET', url: `/customer/detail?id=${a.json.customerId}` });
      assert.equal(d.json.data.status, 'CONFIRMED');

      const b = await call(ctx, { method: 'POST', url: '/customer/create', body: { name: 'Manual Mo', email: 'mo@example.com' } });
      const decided = await call(ctx, {
        method: 'POST',
        url: '/sandbox/customer/decide',
        body: { customerId: b.json.customerId, decision: 'REJECT' },
      });
      assert.equal(decided.status, 200, decided.body);
      assert.equal(decided.json.data.status, 'REJECTED');
      const again = await call(ctx, {
        method: 'POST',
        url: '/sandbox/customer/decide',
        body: { customerId: b.json.customerId, decision: 'APPROVE' },
      });
      assert.equal(again.status, 422);
      clock.advance(5001);
      await ctx.openramp.services.jobs.runDue(); // the scheduled job finds it decided and does nothing
      const still = await call(ctx, { method: 'GET', url: `/customer/detail?id=${b.json.customerId}` });
      assert.equal(still.json.data.status, 'REJECTED');
      const events = await ctx.openramp.services.db
        .selectFrom('events')
        .select('type')
        .where('object_id', '=', b.json.customerId)
        .execute();
      assert.deepEqual(
        events.map((e) => e.type),
        ['CUSTOMER_REJECTED'],
      );
    } finally {
      await ctx.close();
    }
  });

  it('sandbox endpoints are refused in production mode', async () => {
    const ctx = await createTestContext({
      env: {
        OPENRAMP_MODE: 'production',
        DATABASE_URL: 'postgres://unused/x',
        OPENRAMP_MASTER_KEY: 'a'.repeat(64),
        OPENRAMP_OPERATOR_TOKEN: 'opt_k3J9xQ2mZ7vB4nR8tY1wL6pS0dF5gH2c', // production checks its strength
        OPENRAMP_XPUB_EVM: 'x',
        OPENRAMP_XPUB_TRON: 'y',
        OPENRAMP_RPC_URL_ETH: 'http://127.0.0.1:9/eth',
        OPENRAMP_RPC_URL_MATIC: 'http://127.0.0.1:9/matic',
        OPENRAMP_RPC_URL_TRX: 'http://127.0.0.1:9/jsonrpc',
      },
    });
    try {
      const { customerId } = await onboard(ctx);
      const r = await call(ctx, { method: 'POST', url: '/sandbox/customer/decide', body: { customerId, decision: 'APPROVE' } });
      assert.equal(r.status, 422);
      assert.match(r.json.message, /disabled in production/);
    } finally {
      await ctx.close();
    }
  });
});

describe('customer input checks', () => {
  it('names the field, writes nothing, and judges a birth date on business time', async () => {
    const clock = createAdjustableClock();
    // Requests are signed on wall time; only business time moves.
    const ctx = await createTestContext({ clock, authClock: systemClock });
    try {
      const day = 86_400_000;
      const inTwoDays = new Date(clock.now().getTime() + 2 * day).toISOString().slice(0, 10);
      const create = (body: Record<string, unknown>) =>
        call(ctx, { method: 'POST', url: '/customer/create', body: { name: 'Ines Ortiz', email: 'ines@example.com', ...body } });
      const cases: [Record<string, unknown>, string][] = [
        [{ dateOfBirth: '2001-02-30' }, 'dateOfBirth: not a real calendar date'],
        [{ dateOfBirth: inTwoDays }, 'dateOfBirth: is in the future'],
        [{ country: 'XX' }, 'country: unknown ISO 3166-1 alpha-2 country code "XX"'],
        [{ nationality: 'QQ' }, 'nationality: unknown ISO 3166-1 alpha-2 country code "QQ"'],
        [{ name: 'Ines\u0007Ortiz' }, 'name: must not contain control characters (U+0007)'],
      ];
      for (const [body, message] of cases) {
        const r = await create(body);
        assert.equal(r.status, 422, r.body);
        assert.equal(r.json.message, message);
      }
      const none = await call(ctx, { method: 'GET', url: '/customer/list' });
      assert.equal(none.json.data.total, 0, 'a refused create writes nothing');

      // Sandbox time moved past the date: the same birth date is now in the past.
      clock.advance(3 * day);
      const ok = await create({ dateOfBirth: inTwoDays, name: '  Ines Ortiz  ' });
      assert.equal(ok.status, 200, ok.body);
      const d = await call(ctx, { method: 'GET', url: `/customer/detail?id=${ok.json.customerId}` });
      assert.equal(d.json.data.dob, inTwoDays);
      assert.equal(d.json.data.realName, 'Ines Ortiz', 'name trimmed');
    } finally {
      await ctx.close();
    }
  });
});
