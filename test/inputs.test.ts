import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, countRows, createTestContext, type TestContext } from './helpers/harness.ts';
import { BLANK_NAMES } from './helpers/banks.ts';
import { systemClock, type Clock } from '../src/infra/lib/clock.ts';

/**
 * The input rules of docs/api-contract.md ("Input rules") over the API: each refused input is
 * a 422 INVALID_PARAMETERS naming the field and writes nothing (no customer, no bank account,
 * no event); the names, countries and dates real customers have are still accepted.
 */

/** Business time is fixed so age limits have exact edges; requests are signed on wall time. */
const TODAY = '2026-03-15';
const businessClock: Clock = { now: () => new Date(`${TODAY}T12:00:00Z`) };

const BAD_COUNTRIES = ['*', '-1', '$1', '\ud800', '\udc00', 'XX', 'UK', 'EU', 'ZZ', 'ﬁ', '1'];

let ctx: TestContext;
let seq = 0;

before(async () => {
  ctx = await createTestContext({ clock: businessClock, authClock: systemClock });
});
after(async () => {
  await ctx.close();
});

async function rows(): Promise<{ customers: number; bankAccounts: number; events: number }> {
  return {
    customers: await countRows(ctx, 'customers'),
    bankAccounts: await countRows(ctx, 'bank_accounts'),
    events: await countRows(ctx, 'events'),
  };
}

const createCustomer = (body: Record<string, unknown>) =>
  call(ctx, {
    method: 'POST',
    url: '/customer/create',
    body: { name: 'Ines Ortiz', email: `inputs-${++seq}@example.com`, ...body },
  });

/** A 422 INVALID_PARAMETERS whose message starts with `<field>: `, and nothing written. */
async function refused(send: () => Promise<{ status: number; json: any; body: string }>, field: string, message?: string | RegExp) {
  const before = await rows();
  const r = await send();
  assert.equal(r.status, 422, r.body);
  assert.equal(r.json.status, 'INVALID_PARAMETERS', r.body);
  assert.ok(r.json.message.startsWith(`${field}: `), `message should name ${field}: ${r.json.message}`);
  if (typeof message === 'string') assert.equal(r.json.message, message);
  else if (message instanceof RegExp) assert.match(r.json.message, message);
  assert.deepEqual(await rows(), before, `nothing written for ${r.json.message}`);
  return r;
}

async function customerDetail(id: string) {
  const d = await call(ctx, { method: 'GET', url: `/customer/detail?id=${id}` });
  assert.equal(d.status, 200, d.body);
  return d.json.data;
}

describe('customer names', () => {
  it('a name with nothing visible is refused, not stored empty and confirmed', async () => {
    for (const name of BLANK_NAMES) {
      await refused(() => createCustomer({ name }), 'name', 'name: must not be blank (it has no visible characters)');
      await refused(() => createCustomer({ name, isIndividual: false }), 'name', /must not be blank/);
    }
  });

  it('an invisible or control character inside a name is refused, naming it', async () => {
    for (const [ch, kind] of [
      ['\u200b', 'invisible'],
      ['\u200c', 'invisible'],
      ['\u200d', 'invisible'],
      ['\u2060', 'invisible'],
      ['\ufeff', 'invisible'],
      ['\u00ad', 'invisible'],
      ['\u202e', 'control'],
      ['\u2066', 'control'],
      ['\u0007', 'control'],
      ['\n', 'control'],
      ['\u2028', 'control'],
    ] as const) {
      const label = `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
      await refused(() => createCustomer({ name: `Ines${ch}Ortiz` }), 'name', `name: must not contain ${kind} characters (${label})`);
    }
    await refused(() => createCustomer({ name: 'Ines\ud800' }), 'name', /valid Unicode text/);
  });

  it('city follows the same rules', async () => {
    await refused(() => createCustomer({ city: '\u200b' }), 'city', /must not be blank/);
    await refused(() => createCustomer({ city: 'Ber\u200blin' }), 'city', /invisible characters \(U\+200B\)/);
  });

  it('real names are accepted and stored trimmed of spaces and invisible characters', async () => {
    const names: [string, boolean][] = [
      ["Siobhán O'Brien", true],
      ['Anne-Marie Dupont', true],
      ['王小明', true],
      ['山田\u3000太郎', true],
      ['Nguyễn Thị Minh Khai', true],
      ['محمد علي', true],
      ['José Müller', true],
      ['Smith & Sons Ltd.', false],
      ['Müller GmbH & Co. KG', false],
    ];
    for (const [name, isIndividual] of names) {
      const r = await createCustomer({ name: `\u200b\u00a0${name} \ufeff`, isIndividual });
      assert.equal(r.status, 200, r.body);
      assert.equal((await customerDetail(r.json.customerId)).realName, name);
    }
  });
});

describe('customer countries', () => {
  it('country and nationality must be ISO 3166-1 alpha-2 codes', async () => {
    for (const field of ['country', 'nationality']) {
      for (const bad of BAD_COUNTRIES) {
        await refused(() => createCustomer({ [field]: bad }), field, /^(country|nationality): unknown ISO 3166-1 alpha-2 country code "/);
      }
      // Alpha-3 ("DEU") is longer than the schema allows.
      await refused(() => createCustomer({ [field]: 'DEU' }), field);
    }
  });

  it('a lone surrogate is quoted as its code point, not echoed', async () => {
    const r = await refused(() => createCustomer({ country: '\ud800' }), 'country');
    assert.equal(r.json.message, 'country: unknown ISO 3166-1 alpha-2 country code "<U+D800>"');
  });

  it('any case is accepted and stored upper-case', async () => {
    const r = await createCustomer({ country: 'de', nationality: 'Fr' });
    assert.equal(r.status, 200, r.body);
    const d = await customerDetail(r.json.customerId);
    assert.equal(d.country, 'DE');
    assert.equal(d.countryName, 'Germany');
    assert.equal(d.nationality, 'FR');
    assert.equal(d.nationalityName, 'France');
  });
});

describe('customer date of birth', () => {
  it('a date that does not exist is refused', async () => {
    for (const dob of ['2001-02-29', '1990-13-01', '1990-00-10', '1990-04-31']) {
      await refused(() => createCustomer({ dateOfBirth: dob }), 'dateOfBirth', 'dateOfBirth: not a real calendar date');
    }
    await refused(() => createCustomer({ dateOfBirth: '1990-1-1' }), 'dateOfBirth');
  });

  it('after today on the business clock is refused', async () => {
    await refused(() => createCustomer({ dateOfBirth: '2026-03-16' }), 'dateOfBirth', 'dateOfBirth: is in the future');
    await refused(() => createCustomer({ dateOfBirth: '9999-12-31' }), 'dateOfBirth', 'dateOfBirth: is in the future');
  });

  it('more than 130 years back is refused, year 0000 included', async () => {
    await refused(
      () => createCustomer({ dateOfBirth: '0000-01-01' }),
      'dateOfBirth',
      'dateOfBirth: gives an age of 2026 years; at most 130 is accepted',
    );
    await refused(() => createCustomer({ dateOfBirth: '1895-03-15' }), 'dateOfBirth', /age of 131 years/);
  });

  it('ages 0 to 130 are accepted, to the day', async () => {
    for (const dob of ['2026-03-15', '2000-02-29', '1895-03-16', '1896-03-15']) {
      const r = await createCustomer({ dateOfBirth: dob });
      assert.equal(r.status, 200, `${dob}: ${r.body}`);
      assert.equal((await customerDetail(r.json.customerId)).dob, dob);
    }
  });
});

describe('bank accounts', () => {
  let customerId: string;
  const EUR = { currency: 'EUR', bankName: 'Deutsche Bank', iban: 'DE89370400440532013000', swift: 'DEUTDEFF' };
  const add = (body: Record<string, unknown>) =>
    call(ctx, { method: 'POST', url: '/bank-account/add', body: { customerId, ...EUR, ...body } });

  before(async () => {
    const c = await createCustomer({ name: 'Anne-Marie O’Brien' });
    assert.equal(c.status, 200, c.body);
    customerId = c.json.customerId;
  });

  it('a blank holder or bank name is refused', async () => {
    for (const name of BLANK_NAMES) {
      await refused(() => add({ accountName: name }), 'accountName', 'accountName: must not be blank (it has no visible characters)');
      await refused(() => add({ beneficiaryName: name }), 'beneficiaryName', /must not be blank/);
      await refused(() => add({ bankName: name }), 'bankName', 'bankName: required for EUR');
    }
    await refused(() => add({ accountName: 'Anne\u200bMarie' }), 'accountName', /invisible characters \(U\+200B\)/);
    await refused(() => add({ bankName: 'Deutsche\u202eBank' }), 'bankName', /control characters \(U\+202E\)/);
  });

  it('bankCountry must be an ISO 3166-1 alpha-2 code', async () => {
    for (const bad of BAD_COUNTRIES) await refused(() => add({ bankCountry: bad }), 'bankCountry', /unknown ISO 3166-1 alpha-2/);
  });

  it('an accountNo beside an IBAN is held to the currency format and may not be a second IBAN', async () => {
    for (const accountNo of ['hello world!', '$1', 'x'.repeat(35)])
      await refused(() => add({ accountNo }), 'accountNo', /^accountNo: EUR account numbers must be 1-34 letters or digits/);
    await refused(() => add({ accountNo: 'FR1420041010050500013M02606' }), 'accountNo', /^accountNo: is the IBAN FR14/);
  });

  it('EUR without an IBAN is refused on iban before the payment-file check', async () => {
    const { iban: _drop, ...noIban } = EUR;
    for (const body of [{ accountNo: '0532013000' }, {}]) {
      await refused(
        () => call(ctx, { method: 'POST', url: '/bank-account/add', body: { customerId, ...noIban, ...body } }),
        'iban',
        /^iban: required for EUR accounts \(SEPA\)/,
      );
    }
  });

  it('valid accounts are accepted: names as written, country upper-cased, accountNo as the IBAN names it', async () => {
    const cases: [Record<string, unknown>, Record<string, unknown>][] = [
      [
        { accountName: ' Anne-Marie O’Brien\u200b', bankCountry: 'de', accountNo: '0532013000' },
        { accountName: 'Anne-Marie O’Brien', bankCountry: 'DE', accountNo: '0532013000', verificationStatus: 'VERIFIED' },
      ],
      [
        { accountNo: '532013000', bankName: 'Smith & Sons Bank' },
        { accountNo: '532013000', bankName: 'Smith & Sons Bank' },
      ],
      [{ accountNo: 'DE89 3704 0044 0532 0130 00' }, { accountNo: 'DE89370400440532013000' }],
      [
        { iban: undefined, accountNo: 'de89370400440532013000' },
        { accountNo: 'DE89370400440532013000', iban: 'DE89370400440532013000' },
      ],
      [{ accountName: '王小明' }, { accountName: '王小明', accountNo: 'DE89370400440532013000' }],
    ];
    for (const [body, expected] of cases) {
      const before = await rows();
      const r = await add(body);
      assert.equal(r.status, 200, r.body);
      for (const [k, v] of Object.entries(expected)) assert.equal(r.json.data[k], v, `${k} for ${JSON.stringify(body)}`);
      assert.equal((await rows()).bankAccounts, before.bankAccounts + 1);
    }
  });
});
