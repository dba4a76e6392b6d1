import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, createTestContext, onboard, type TestContext } from './helpers/harness.ts';
import { deriveAddress, SANDBOX_XPUBS } from '../src/adapters/chains/addresses.ts';
import { AppError, type ErrorCode } from '../src/infra/lib/errors.ts';

/** Partners see the message; the code is what tells the cases apart. */
const withCode = (code: ErrorCode) => (e: unknown) => e instanceof AppError && e.code === code && e.httpStatus === 422;

describe('offramp set-up journey (guide steps 1–4)', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestContext();
  });
  after(() => ctx.close());

  it('creates a customer, approves it (sandbox KYC) and returns the guide’s fields', async () => {
    const r = await call(ctx, {
      method: 'POST',
      url: '/customer/create',
      body: { name: 'Jane Roe', email: 'jane@example.com', type: 'DEPOSITOR', isIndividual: true, externalId: 'u-1' },
    });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.status, 'SUCCESS');
    assert.match(r.json.customerId, /^cus_/);
    assert.equal(r.json.data.customerId, r.json.customerId);
    assert.equal(r.json.data.id, r.json.customerId);
    assert.equal(r.json.data.status, 'CONFIRMED');
    const again = await call(ctx, {
      method: 'POST',
      url: '/customer/create',
      body: { name: 'Jane Roe', email: 'jane@example.com', externalId: 'u-1' },
    });
    assert.equal(again.json.customerId, r.json.customerId, 'repeat create with same externalId returns the existing customer');
    const byExt = await call(ctx, { method: 'GET', url: '/customer/detail?externalId=u-1' });
    assert.equal(byExt.json.data.id, r.json.customerId);
    assert.equal(byExt.json.data.status, 'CONFIRMED');
    const dupEmail = await call(ctx, { method: 'POST', url: '/customer/create', body: { name: 'Other', email: 'JANE@example.com' } });
    assert.equal(dupEmail.status, 422);
    assert.equal(dupEmail.json.status, 'FAILED');
    assert.match(dupEmail.json.message, /email/);
    const events = await ctx.openramp.services.db.selectFrom('events').selectAll().where('object_id', '=', r.json.customerId).execute();
    assert.deepEqual(
      events.map((e) => e.type),
      ['CUSTOMER_APPROVED'],
    );
  });

  it('rejects names containing "reject" and refuses flows for them', async () => {
    const r = await call(ctx, { method: 'POST', url: '/customer/create', body: { name: 'Please Reject Me', email: 'rej@example.com' } });
    assert.equal(r.json.data.status, 'REJECTED');
    const b = await call(ctx, {
      method: 'POST',
      url: '/bank-account/add',
      body: { customerId: r.json.customerId, currency: 'EUR', bankName: 'X', iban: 'DE89370400440532013000', swift: 'DEUTDEFF' },
    });
    assert.equal(b.status, 422);
    assert.match(b.json.message, /REJECTED/);
    await assert.rejects(
      ctx.openramp.services.flows.createOfframp(ctx.partner.partnerId, {
        customerId: r.json.customerId,
        network: 'TRX',
        currency: 'USDT',
        bankAccountId: 'bnk_any',
      }),
      withCode('CUSTOMER_NOT_CONFIRMED'),
    );
  });

  it('creates flows on ETH, MATIC and TRX with the right derived addresses', async () => {
    const { customerId, bankAccountId } = await onboard(ctx, { name: 'John Doe' });
    const flows: Record<string, any> = {};
    for (const network of ['ETH', 'MATIC', 'TRX']) {
      const r = await call(ctx, {
        method: 'POST',
        url: '/autoramp-flow/offramp',
        body: { from: { customerId, currency: 'USDT', network }, to: bankAccountId },
      });
      assert.equal(r.status, 200, r.body);
      assert.match(r.json.flowId, /^flw_/);
      assert.equal(r.json.data.flowId, r.json.flowId);
      assert.equal(r.json.data.data.network, network);
      assert.equal(r.json.data.data.depositAddress, r.json.data.depositAddress);
      flows[network] = r.json;
    }
    assert.equal(flows.ETH.data.depositAddress, flows.MATIC.data.depositAddress, 'ETH and MATIC share the EVM address');
    const idx = await ctx.openramp.services.db
      .selectFrom('customer_derivations')
      .selectAll()
      .where('customer_id', '=', customerId)
      .execute();
    const evm = idx.find((d) => d.family === 'EVM')!;
    const tron = idx.find((d) => d.family === 'TRON')!;
    assert.equal(flows.ETH.data.depositAddress, deriveAddress(SANDBOX_XPUBS.EVM, 'EVM', evm.derivation_index));
    assert.equal(flows.TRX.data.depositAddress, deriveAddress(SANDBOX_XPUBS.TRON, 'TRON', tron.derivation_index));
    assert.match(flows.TRX.data.depositAddress, /^T/);

    const d = await call(ctx, { method: 'GET', url: `/deposit-address/detail?id=${flows.TRX.data.depositAddressId}` });
    assert.equal(d.json.data.address, flows.TRX.data.depositAddress);
    assert.equal(d.json.data.status, 'VERIFIED');
    assert.equal(d.json.data.network, 'TRX');

    const same = await call(ctx, {
      method: 'POST',
      url: '/autoramp-flow/offramp',
      body: { from: { customerId, currency: 'USDT', network: 'ETH' }, to: bankAccountId },
    });
    assert.equal(same.json.flowId, flows.ETH.flowId, 'same route and bank account returns the existing flow');

    const usdcTron = await call(ctx, {
      method: 'POST',
      url: '/autoramp-flow/offramp',
      body: { from: { customerId, currency: 'USDC', network: 'TRX' }, to: bankAccountId },
    });
    assert.equal(usdcTron.status, 422);
    assert.match(usdcTron.json.message, /USDC on TRX/);

    const detail = await call(ctx, { method: 'GET', url: `/autoramp-flow/detail?id=${flows.ETH.flowId}` });
    assert.equal(detail.json.data.fromDepositAddress.address, flows.ETH.data.depositAddress);
    assert.equal(detail.json.data.toBankAccount.id, bankAccountId);

    const del = await call(ctx, { method: 'POST', url: '/autoramp-flow/delete', body: { id: flows.ETH.flowId } });
    assert.equal(del.status, 200, del.body);
    const list = await call(ctx, { method: 'GET', url: '/autoramp-flow/list?pageSize=100' });
    assert.ok(!list.json.data.list.some((f: any) => f.id === flows.ETH.flowId));
    const recreate = await call(ctx, {
      method: 'POST',
      url: '/autoramp-flow/offramp',
      body: { from: { customerId, currency: 'USDT', network: 'ETH' }, to: bankAccountId },
    });
    assert.notEqual(recreate.json.flowId, flows.ETH.flowId);
    assert.equal(recreate.json.data.depositAddress, flows.ETH.data.depositAddress, 'a second flow reuses the address');
  });

  it('enforces flow prerequisites', async () => {
    const a = await onboard(ctx, { name: 'Alice Smith' });
    const b = await onboard(ctx, { name: 'Bob Brown' });
    const foreign = await call(ctx, {
      method: 'POST',
      url: '/autoramp-flow/offramp',
      body: { from: { customerId: a.customerId, currency: 'USDT', network: 'ETH' }, to: b.bankAccountId },
    });
    assert.equal(foreign.status, 422);
    assert.equal(foreign.json.status, 'FAILED');
    const flows = ctx.openramp.services.flows;
    const input = { customerId: a.customerId, network: 'ETH', currency: 'USDT' } as const;
    await assert.rejects(
      flows.createOfframp(ctx.partner.partnerId, { ...input, bankAccountId: b.bankAccountId }),
      withCode('BANK_ACCOUNT_OF_ANOTHER_CUSTOMER'),
    );
    const mismatch = await call(ctx, {
      method: 'POST',
      url: '/bank-account/add',
      body: {
        customerId: a.customerId,
        currency: 'EUR',
        bankName: 'X',
        iban: 'DE89370400440532013000',
        swift: 'DEUTDEFF',
        accountName: 'Mallory Evil',
      },
    });
    assert.equal(mismatch.status, 200);
    assert.equal(mismatch.json.data.verificationStatus, 'REJECTED');
    const unverified = await call(ctx, {
      method: 'POST',
      url: '/autoramp-flow/offramp',
      body: { from: { customerId: a.customerId, currency: 'USDT', network: 'ETH' }, to: mismatch.json.bankAccountId },
    });
    assert.equal(unverified.status, 422);
    assert.equal(unverified.json.status, 'FAILED');
    await assert.rejects(
      flows.createOfframp(ctx.partner.partnerId, { ...input, bankAccountId: mismatch.json.bankAccountId }),
      withCode('BANK_ACCOUNT_NOT_VERIFIED'),
    );
  });
});
