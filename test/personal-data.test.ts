import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { call, createTestContext, type TestContext } from './helpers/harness.ts';
import { depositAndConfirm, openOfframpFlow, runPipeline } from './helpers/pipeline.ts';
import { createAdjustableClock, systemClock } from '../src/infra/lib/clock.ts';
import { createFieldSealer, SEALED_COLUMNS, SEALED_PREFIX } from '../src/infra/db/sealed-columns.ts';

/**
 * Personal data at rest (docs/security.md): what no query needs is sealed in the tables and in
 * stored event payloads, every API read and webhook still shows it in clear (the contract's
 * customer events carry the detail), and bank-account events carry masked identifiers only.
 */

const PERSON = {
  name: 'Ingrid Sealed',
  email: 'ingrid.sealed@example.com',
  dateOfBirth: '1984-07-19',
  city: 'Wuppertal',
  address: 'Hofkamp 12, 42103 Wuppertal',
};
const ACCOUNT = {
  currency: 'EUR',
  bankName: 'Deutsche Bank',
  accountNo: '0532013000',
  iban: 'DE89370400440532013000',
  swift: 'DEUTDEFF',
  accountName: 'Ingrid Sealed',
  bankAddress: 'Taunusanlage 12, Frankfurt',
  beneficiaryAddress: 'Hofkamp 12, Wuppertal',
};
/** Values that must never appear in a table in clear (the customer's name is queried, so it is not here). */
const SECRETS = [PERSON.dateOfBirth, PERSON.city, 'Hofkamp 12', ACCOUNT.iban, ACCOUNT.accountNo, 'Taunusanlage'];

describe('personal data at rest', () => {
  let ctx: TestContext;
  let customerId: string;
  let bankAccountId: string;

  /** Every row of a table as text, read without the sealed-columns plugin: what is on disk. */
  async function rawText(table: string): Promise<string> {
    const r = await sql<{ t: string }>`select coalesce(string_agg(x::text, '|'), '') as t from ${sql.table(table)} x`.execute(
      ctx.database.db,
    );
    return r.rows[0]!.t;
  }

  before(async () => {
    ctx = await createTestContext({
      clock: createAdjustableClock({ now: () => new Date('2026-06-03T09:00:00Z') }),
      authClock: systemClock,
    });
    await ctx.openramp.services.payouts.fundTreasury('EUR', 100_000_000n);
    // With an Idempotency-Key, so the stored first response (the customer's detail) is checked too.
    const c = await call(ctx, { method: 'POST', url: '/customer/create', body: PERSON, headers: { 'idempotency-key': 'pd-1' } });
    assert.equal(c.status, 200, c.body);
    customerId = c.json.customerId;
    const b = await call(ctx, { method: 'POST', url: '/bank-account/add', body: { customerId, ...ACCOUNT } });
    assert.equal(b.status, 200, b.body);
    bankAccountId = b.json.bankAccountId;
    // A deposit all the way to a payment file, so the rails read the sealed account too.
    const flow = await openOfframpFlow(ctx, { customerId, bankAccountId });
    await depositAndConfirm(ctx, { to: flow.depositAddress, amount: '100.00' });
    await runPipeline(ctx, 3);
  });
  after(() => ctx?.close());

  it('the tables hold ciphertext for every sealed column, and no personal value in clear', async () => {
    const raw = ctx.database.db;
    const customer = await raw.selectFrom('customers').selectAll().where('id', '=', customerId).executeTakeFirstOrThrow();
    for (const col of SEALED_COLUMNS.customers)
      assert.ok(String(customer[col]).startsWith(SEALED_PREFIX), `customers.${col}: ${customer[col]}`);
    assert.equal(customer.name, PERSON.name, 'the name is queried, so it stays plain');
    const account = await raw.selectFrom('bank_accounts').selectAll().where('id', '=', bankAccountId).executeTakeFirstOrThrow();
    for (const col of SEALED_COLUMNS.bank_accounts) {
      if (col === 'inter_bank_account_no') assert.equal(account[col], null);
      else assert.ok(String(account[col]).startsWith(SEALED_PREFIX), `bank_accounts.${col}: ${account[col]}`);
    }
    const stored = await raw
      .selectFrom('idempotency_keys')
      .select('response_body')
      .where('idempotency_key', '=', 'pd-1')
      .executeTakeFirstOrThrow();
    assert.ok(stored.response_body!.startsWith(SEALED_PREFIX), 'the stored idempotent response is sealed');
    for (const table of [
      'customers',
      'bank_accounts',
      'events',
      'jobs',
      'payouts',
      'payout_batches',
      'trades',
      'flows',
      'idempotency_keys',
    ]) {
      const text = await rawText(table);
      for (const s of SECRETS) assert.ok(!text.includes(s), `${table} holds "${s}" in clear`);
    }
  });

  it('every read through the API shows the data in clear', async () => {
    const c = await call(ctx, { method: 'GET', url: `/customer/detail?id=${customerId}` });
    assert.equal(c.status, 200, c.body);
    assert.equal(c.json.data.city, PERSON.city);
    assert.equal(c.json.data.address, PERSON.address);
    assert.equal(c.json.data.dob ?? c.json.data.dateOfBirth, PERSON.dateOfBirth);
    const b = await call(ctx, { method: 'GET', url: `/bank-account/detail?id=${bankAccountId}` });
    assert.equal(b.json.data.iban, ACCOUNT.iban);
    assert.equal(b.json.data.accountNo, ACCOUNT.accountNo);
    assert.equal(b.json.data.beneficiaryAddress, ACCOUNT.beneficiaryAddress);
    const list = await call(ctx, { method: 'GET', url: `/bank-account/list?customerId=${customerId}` });
    assert.equal(list.json.data.list[0].iban, ACCOUNT.iban);
  });

  it('the payment file pays the real IBAN and holder name', async () => {
    const batches = await ctx.openramp.services.db.selectFrom('payout_batches').selectAll().execute();
    assert.equal(batches.length, 1, 'one batch');
    const file = await ctx.openramp.services.payoutBatches.file(batches[0]!.id);
    assert.match(file.content, new RegExp(ACCOUNT.iban));
    assert.match(file.content, /Ingrid Sealed/);
  });

  it('customer events are delivered complete; bank-account events carry masked identifiers only', async () => {
    const r = await call(ctx, { method: 'GET', url: '/event/list?limit=100' });
    assert.equal(r.status, 200, r.body);
    const approved = r.json.data.list.find((e: any) => e.event === 'CUSTOMER_APPROVED');
    assert.ok(approved, 'CUSTOMER_APPROVED is listed');
    assert.equal(approved.payload.address, PERSON.address, 'the contract: a customer event carries the customer detail');
    assert.equal(approved.payload.city, PERSON.city);
    const verified = r.json.data.list.find((e: any) => e.event === 'BANK_ACCOUNT_VERIFIED');
    assert.ok(verified, 'BANK_ACCOUNT_VERIFIED is listed');
    assert.equal(verified.payload.id, bankAccountId);
    assert.equal(verified.payload.iban, '••••3000');
    assert.equal(verified.payload.accountNo, '••••3000');
    for (const k of ['accountName', 'bankAddress', 'beneficiaryAddress']) assert.ok(!(k in verified.payload), `${k} is not in the event`);
  });

  it('a row written before sealing existed is read as it is', async () => {
    const now = new Date();
    const id = `cus_legacy${randomBytes(4).toString('hex')}`;
    await ctx.database.db
      .insertInto('customers')
      .values({
        id,
        partner_id: ctx.partner.partnerId,
        external_id: null,
        name: 'Old Row',
        email: `${id}@example.com`,
        type: 'DEPOSITOR',
        is_individual: true,
        dob: '1970-01-02',
        country: null,
        nationality: null,
        city: 'Plain City',
        address: null,
        status: 'CONFIRMED',
        remark: null,
        version: 1,
        created_at: now,
        updated_at: now,
      })
      .execute();
    const c = await call(ctx, { method: 'GET', url: `/customer/detail?id=${id}` });
    assert.equal(c.status, 200, c.body);
    assert.equal(c.json.data.city, 'Plain City');
  });

  it('a sealed value opens only under its master key, and never under the secrets key', () => {
    const key = randomBytes(32);
    const sealer = createFieldSealer(key);
    const sealed = sealer.seal('DE89370400440532013000');
    assert.ok(sealed.startsWith(SEALED_PREFIX));
    assert.notEqual(sealer.seal('x'), sealer.seal('x'), 'a fresh IV each time');
    assert.equal(sealer.open(sealed), 'DE89370400440532013000');
    assert.throws(() => createFieldSealer(randomBytes(32)).open(sealed), /OPENRAMP_MASTER_KEY/);
    // Flip one bit of the ciphertext itself: editing the last base64 character can land on
    // padding bits that decode to the same bytes.
    const [iv, tag, ct] = sealed.slice(SEALED_PREFIX.length).split('.') as [string, string, string];
    const flipped = Buffer.from(ct, 'base64url');
    flipped[0] = (flipped[0] as number) ^ 0x01;
    const tampered = `${SEALED_PREFIX}${iv}.${tag}.${flipped.toString('base64url')}`;
    assert.throws(() => sealer.open(tampered), /does not open/);
    assert.equal(sealer.open('plain'), 'plain');
    assert.deepEqual(
      sealer.sealPayload({ id: 'x', amount: '1.00', iban: '' }),
      { id: 'x', amount: '1.00', iban: '' },
      'empty and non-personal fields stay',
    );
  });
});
