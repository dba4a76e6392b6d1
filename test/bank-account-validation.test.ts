import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BLANK_NAMES } from './helpers/banks.ts';
import {
  FIAT_CURRENCIES,
  checkUkModulus,
  isValidAbaRouting,
  isValidBic,
  isValidIban,
  normalizeBsb,
  normalizeSortCode,
  validateBankAccountInput,
  type BankAccountInput,
  type BankAccountValidation,
  type NormalizedBankAccount,
} from '../src/domain/bank-accounts/validation/index.ts';

function expectOk(input: BankAccountInput): NormalizedBankAccount {
  const r = validateBankAccountInput(input);
  if (!r.ok) assert.fail(`expected ok, got ${r.field}: ${r.message}`);
  return r.value;
}

function expectErr(input: BankAccountInput, field: string, message?: string | RegExp): Extract<BankAccountValidation, { ok: false }> {
  const r = validateBankAccountInput(input);
  if (r.ok) assert.fail(`expected an error on ${field}, got ok: ${JSON.stringify(r.value)}`);
  assert.equal(r.field, field, `wrong field; message was: ${r.message}`);
  assert.ok(r.message.startsWith(`${field}`), `message should name the field: ${r.message}`);
  if (typeof message === 'string') assert.equal(r.message, message);
  else if (message instanceof RegExp) assert.match(r.message, message);
  return r;
}

/** One known-good body per currency. */
const GOOD: Record<(typeof FIAT_CURRENCIES)[number], BankAccountInput> = {
  USD: { currency: 'USD', bankName: 'JPMorgan Chase', accountNo: '123456789', aba: '021000021', accountName: 'Jane Roe' },
  EUR: {
    customerId: 'cust_abc123',
    currency: 'EUR',
    bankName: 'Deutsche Bank',
    accountNo: '0532013000',
    iban: 'DE89370400440532013000',
    swift: 'DEUTDEFF',
    accountName: 'John Doe',
  },
  GBP: { currency: 'GBP', bankName: 'NatWest', accountNo: '66374958', sortCode: '08-99-99', swift: 'NWBKGB2L' },
  CAD: { currency: 'CAD', bankName: 'RBC', accountNo: '1234567', institutionNumber: '003', transit: '12345' },
  AUD: { currency: 'AUD', bankName: 'Commonwealth Bank', accountNo: '12345678', bsb: '062-000' },
  SGD: { currency: 'SGD', bankName: 'DBS Bank', accountNo: '0123456789', swift: 'DBSSSGSG' },
};

describe('IBAN', () => {
  test('known good IBANs', () => {
    for (const iban of [
      'DE89370400440532013000',
      'GB82WEST12345698765432',
      'FR1420041010050500013M02606',
      'NO9386011117947',
      'de89 3704 0044 0532 0130 00',
      'GB82-WEST-1234-5698-7654-32',
    ]) {
      assert.equal(isValidIban(iban), true, iban);
    }
  });

  test('known bad IBANs', () => {
    for (const iban of [
      'DE89370400440532013001', // checksum
      'DE8937040044053201300', // 21 chars, DE needs 22
      'DE893704004405320130000', // 23 chars
      'GB82WEST1234569876543', // too short for GB
      'XX89370400440532013000', // no such country
      'US89370400440532013000', // country without IBAN
      'DE89370400440532013Ä00',
      '',
      'DE',
    ]) {
      assert.equal(isValidIban(iban), false, iban);
    }
  });

  test('messages name the rule', () => {
    const base = { ...GOOD.EUR };
    expectErr({ ...base, iban: 'DE89370400440532013001' }, 'iban', 'iban: invalid IBAN checksum (mod-97)');
    expectErr({ ...base, iban: 'DE8937040044053201300' }, 'iban', /wrong length for a DE IBAN \(expected 22 characters, got 21\)/);
    expectErr({ ...base, iban: 'XX89370400440532013000' }, 'iban', /unknown country code "XX"/);
    expectErr({ ...base, iban: 'US89370400440532013000' }, 'iban', /country US does not use IBANs/);
    expectErr({ ...base, iban: 'DE89-3704-0044-0532-0130-0!' }, 'iban', /only letters and digits/);
  });

  test('normalised to electronic form', () => {
    const v = expectOk({ ...GOOD.EUR, iban: ' de89 3704 0044 0532 0130 00 ' });
    assert.equal(v.iban, 'DE89370400440532013000');
  });

  test('EUR requires a SEPA IBAN', () => {
    const { accountNo: _drop, ...noAccount } = GOOD.EUR;
    expectOk({ ...noAccount, iban: 'FR1420041010050500013M02606', swift: 'BNPAFRPP' });
    expectErr({ ...noAccount, iban: 'TR330006100519786457841326', swift: 'TGBATRIS' }, 'iban', /country TR is not a SEPA country/);
    // The same rule when the IBAN comes as accountNo.
    const { iban: _iban, ...neither } = noAccount;
    expectErr({ ...neither, accountNo: 'TR330006100519786457841326', swift: 'TGBATRIS' }, 'accountNo', /country TR is not a SEPA country/);
  });

  test('GBP requires a GB IBAN', () => {
    expectOk({ currency: 'GBP', bankName: 'Westminster', iban: 'GB82WEST12345698765432', swift: 'NWBKGB2L' });
    expectErr(
      { currency: 'GBP', bankName: 'Deutsche Bank', iban: 'DE89370400440532013000', swift: 'DEUTDEFF' },
      'iban',
      'iban: GBP payouts need a GB IBAN (got a DE IBAN)',
    );
  });

  test('accountNo is derived from the IBAN when missing', () => {
    const { accountNo: _drop, ...noAccount } = GOOD.EUR;
    const v = expectOk({ ...noAccount, iban: 'DE89 3704 0044 0532 0130 00' });
    assert.equal(v.accountNo, 'DE89370400440532013000');
    assert.equal(v.iban, 'DE89370400440532013000');
  });

  test('an IBAN-shaped accountNo must be a valid IBAN, and is then the IBAN', () => {
    const { iban: _drop, ...noIban } = GOOD.EUR;
    const v = expectOk({ ...noIban, accountNo: 'de89 3704 0044 0532 0130 00' });
    assert.equal(v.accountNo, 'DE89370400440532013000');
    assert.equal(v.iban, 'DE89370400440532013000');
    expectErr({ ...noIban, accountNo: 'DE89370400440532013001' }, 'accountNo', /looks like an IBAN.*mod-97/);
    expectErr(
      { ...noIban, accountNo: 'DE89370400440532013000', swift: 'BNPAFRPP' },
      'swift',
      /BIC country FR does not match IBAN country DE/,
    );
    // GBP without a sort code: a local account number that merely starts with letters is fine.
    expectOk({ currency: 'GBP', bankName: 'NatWest', swift: 'NWBKGB2L', accountNo: 'AB12345' });
  });
});

describe('EUR needs an IBAN', () => {
  const { iban: _drop, ...noIban } = GOOD.EUR;

  test('a domestic account number alone is refused on iban, naming SEPA', () => {
    expectErr(noIban, 'iban', 'iban: required for EUR accounts (SEPA); accountNo "0532013000" is not an IBAN');
    expectErr({ ...noIban, accountNo: 'AB12345' }, 'iban', /^iban: required for EUR accounts \(SEPA\)/);
  });

  test('neither given', () => {
    const { accountNo: _a, ...neither } = noIban;
    expectErr(neither, 'iban', 'iban: required for EUR accounts (SEPA)');
  });

  test('the required order holds: bankName before iban, iban before swift', () => {
    expectErr({ currency: 'EUR', accountNo: '0532013000' }, 'bankName', 'bankName: required for EUR');
    expectErr({ currency: 'EUR', bankName: 'X', accountNo: '0532013000' }, 'iban', /^iban: required for EUR/);
  });
});

describe('accountNo beside an IBAN names the same account', () => {
  const eur = (accountNo: string) => ({ ...GOOD.EUR, accountNo });

  test('the IBAN (any formatting), its BBAN, its account part with or without leading zeros', () => {
    for (const [given, stored] of [
      ['DE89 3704 0044 0532 0130 00', 'DE89370400440532013000'],
      ['370400440532013000', '370400440532013000'],
      ['0532013000', '0532013000'],
      ['532013000', '532013000'],
      ['0532-0130-00', '0532013000'],
    ] as const) {
      assert.equal(expectOk(eur(given)).accountNo, stored, given);
    }
  });

  test('another local number is kept as given (the IBAN is paid); a second, different IBAN is refused', () => {
    // The contract's own example pairs this IBAN with 1234567890.
    assert.equal(expectOk(eur('1234567890')).accountNo, '1234567890');
    assert.equal(expectOk(eur('1234567890')).iban, 'DE89370400440532013000');
    expectErr(
      eur('FR1420041010050500013M02606'),
      'accountNo',
      'accountNo: is the IBAN FR1420041010050500013M02606, but iban is DE89370400440532013000: send one account (leave accountNo out, or send the same IBAN)',
    );
    expectErr(eur('DE89370400440532013001'), 'accountNo', /^accountNo: looks like an IBAN but is not a valid one/);
    for (const bad of ['hello world!', 'x'.repeat(35), '0532_0130'])
      expectErr(eur(bad), 'accountNo', /^accountNo: EUR account numbers must be 1-34 letters or digits/);
  });

  test('GBP beside a GB IBAN: the format rule, and with a sort code the UK pair must agree', () => {
    const gb = { currency: 'GBP', bankName: 'NatWest', swift: 'NWBKGB2L', iban: 'GB70NWBK08999966374958' };
    expectOk({ ...gb, accountNo: '66374958' });
    expectOk({ ...gb, accountNo: 'NWBK08999966374958' });
    expectErr(
      { ...gb, accountNo: 'GB29NWBK60161331926819' },
      'accountNo',
      /is the IBAN GB29NWBK60161331926819, but iban is GB70NWBK08999966374958/,
    );
    expectErr({ ...gb, sortCode: '08-99-99', accountNo: '12345678' }, 'accountNo', /does not match the account number in the IBAN/);
  });

  test('non-IBAN currencies keep their own account-number format beside an IBAN', () => {
    expectErr({ ...GOOD.USD, iban: 'DE89370400440532013000', accountNo: 'DE89370400440532013000' }, 'accountNo', /US \(ACH\)/);
    expectOk({ ...GOOD.USD, iban: 'DE89370400440532013000', swift: 'DEUTDEFF' });
  });
});

describe('BIC / SWIFT', () => {
  test('known good BICs', () => {
    for (const bic of ['DEUTDEFF', 'DEUTDEFF500', 'deutdeff', 'NWBKGB2L', 'BNPAFRPPXXX', 'DEUT DE FF']) {
      assert.equal(isValidBic(bic), true, bic);
    }
  });

  test('known bad BICs', () => {
    for (const bic of ['DEUT1EFF', 'DEUTXXFF', 'DEUTDEF', 'DEUTDEFF50', 'DEUTDEFF5000', '1EUTDEFF', 'DEUTDEF_', '']) {
      assert.equal(isValidBic(bic), false, bic);
    }
  });

  test('messages', () => {
    expectErr({ ...GOOD.EUR, swift: 'DEUT1EFF' }, 'swift', /invalid BIC format/);
    expectErr({ ...GOOD.EUR, swift: 'DEUTXXFF' }, 'swift', 'swift: unknown country code "XX" in BIC');
    expectErr({ ...GOOD.EUR, swift: 'DEUTDEF' }, 'swift', 'swift: must be 8 or 11 characters (got 7)');
  });

  test('normalised to upper case without spaces', () => {
    assert.equal(expectOk({ ...GOOD.EUR, swift: 'deut de ff 500' }).swift, 'DEUTDEFF500');
  });

  test('BIC country must match IBAN country', () => {
    expectErr({ ...GOOD.EUR, swift: 'BNPAFRPP' }, 'swift', 'swift: BIC country FR does not match IBAN country DE');
    // Crown dependencies use GB IBANs.
    expectOk({ currency: 'GBP', bankName: 'Jersey bank', iban: 'GB82WEST12345698765432', swift: 'ABCDJESH' });
    expectOk({ currency: 'GBP', bankName: 'IoM bank', iban: 'GB82WEST12345698765432', swift: 'ABCDIMD1' });
  });

  test('interBankBic is checked too', () => {
    expectOk({ ...GOOD.USD, interBankName: 'Citibank', interBankBic: 'CITIUS33' });
    expectErr({ ...GOOD.USD, interBankBic: 'CITIXX33' }, 'interBankBic', /unknown country code "XX"/);
  });
});

describe('ABA routing number', () => {
  test('known good', () => {
    for (const aba of ['021000021', '011000015', '026009593', '122000247', '322271627']) {
      assert.equal(isValidAbaRouting(aba), true, aba);
    }
  });

  test('known bad', () => {
    for (const aba of ['021000022', '991000021', '131000021', '02100002', '0210000210', '02100002a', '']) {
      assert.equal(isValidAbaRouting(aba), false, aba);
    }
  });

  test('messages', () => {
    expectErr({ ...GOOD.USD, aba: '021000022' }, 'aba', 'aba: routing number checksum failed');
    expectErr({ ...GOOD.USD, aba: '991000021' }, 'aba', /prefix 99 is not a Federal Reserve routing symbol/);
    expectErr({ ...GOOD.USD, aba: '02100002' }, 'aba', 'aba: routing number must be exactly 9 digits');
  });

  test('property: for a valid prefix exactly one check digit is accepted', () => {
    const prefixes = [
      ...Array.from({ length: 13 }, (_, i) => i),
      ...Array.from({ length: 12 }, (_, i) => 21 + i),
      ...Array.from({ length: 12 }, (_, i) => 61 + i),
      80,
    ];
    fc.assert(
      fc.property(fc.constantFrom(...prefixes), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 6, maxLength: 6 }), (p, rest) => {
        const body = String(p).padStart(2, '0') + rest.join('');
        const accepted = [...'0123456789'].filter((c) => isValidAbaRouting(body + c));
        // Independent reference: weights 3 7 1 3 7 1 3 7 1.
        const w = [3, 7, 1, 3, 7, 1, 3, 7];
        const s = [...body].reduce((acc, ch, i) => acc + Number(ch) * (w[i] ?? 0), 0);
        const expected = String((10 - (s % 10)) % 10);
        assert.deepEqual(accepted, [expected]);
      }),
      { numRuns: 200 },
    );
  });
});

describe('UK sort code', () => {
  test('normalizeSortCode', () => {
    assert.equal(normalizeSortCode('12-34-56'), '123456');
    assert.equal(normalizeSortCode('12 34 56'), '123456');
    assert.equal(normalizeSortCode('123456'), '123456');
    assert.equal(normalizeSortCode(' 08-99-99 '), '089999');
    for (const bad of ['12-34 56', '1234567', '12345', 'ab-cd-ef', '12--34-56', '12.34.56', '']) {
      assert.equal(normalizeSortCode(bad), null, bad);
    }
  });

  test('sortCode field is normalised / rejected', () => {
    assert.equal(expectOk({ ...GOOD.GBP, sortCode: '08 99 99' }).sortCode, '089999');
    assert.equal(expectOk({ ...GOOD.GBP, sortCode: '089999' }).sortCode, '089999');
    expectErr({ ...GOOD.GBP, sortCode: '08-999' }, 'sortCode', /must be 6 digits/);
  });
});

describe('UK modulus checking (VocaLink / Pay.UK published test cases)', () => {
  // [sort code, account number, expected, what the spec says the case exercises]
  const vectors: [string, string, 'valid' | 'invalid', string][] = [
    ['089999', '66374958', 'valid', '1: modulus 10 pass'],
    ['107999', '88837491', 'valid', '2: modulus 11 pass'],
    ['202959', '63748472', 'valid', '3: modulus 11 and double alternate pass'],
    ['871427', '46238510', 'valid', '4: exceptions 10 & 11, first passes, second fails'],
    ['872427', '46238510', 'valid', '5: exceptions 10 & 11, first fails, second passes'],
    ['871427', '09123496', 'valid', '6: exception 10, ab=09 and g=9'],
    ['871427', '99123496', 'valid', '7: exception 10, ab=99 and g=9'],
    ['820000', '73688637', 'valid', '8: exception 3, start of range, c=6 skips second check'],
    ['827999', '73988638', 'valid', '9: exception 3, end of range, c=9 skips second check'],
    ['827101', '28748352', 'valid', '10: exception 3, both checks performed'],
    ['134020', '63849203', 'valid', '11: exception 4, remainder equals check digits gh'],
    ['118765', '64371389', 'valid', '12: exception 1, +27 then double alternate pass'],
    ['200915', '41011166', 'valid', '13: exception 6, foreign currency account'],
    ['938611', '07806039', 'valid', '14: exception 5, pass'],
    ['938600', '42368003', 'valid', '15: exception 5, pass with sort code substitution'],
    ['938063', '55065200', 'valid', '16: exception 5, both remainders 0'],
    ['772798', '99345694', 'valid', '17: exception 7, g=9'],
    ['086090', '06774744', 'valid', '18: exception 8'],
    ['309070', '02355688', 'valid', '19: exceptions 2 & 9, first passes'],
    ['309070', '12345668', 'valid', '20: exceptions 2 & 9, first fails, second passes with substitution'],
    ['309070', '12345677', 'valid', '21: exceptions 2 & 9, a≠0, g≠9'],
    ['309070', '99345694', 'valid', '22: exceptions 2 & 9, a≠0, g=9'],
    ['938063', '15764273', 'invalid', '23: exception 5, first check digit right, second wrong'],
    ['938063', '15764264', 'invalid', '24: exception 5, first check digit wrong, second right'],
    ['938063', '15763217', 'invalid', '25: exception 5, first check remainder 1'],
    ['118765', '64371388', 'invalid', '26: exception 1, double alternate fails'],
    ['203099', '66831036', 'invalid', '27: modulus 11 passes, double alternate fails'],
    ['203099', '58716970', 'invalid', '28: modulus 11 fails, double alternate passes'],
    ['089999', '66374959', 'invalid', '29: modulus 10 fails'],
    ['107999', '88837493', 'invalid', '30: modulus 11 fails'],
    ['074456', '12345112', 'valid', '31: exceptions 12 & 13, modulus 11 passes'],
    ['070116', '34012583', 'valid', '32: exceptions 12 & 13, modulus 11 passes'],
    ['074456', '11104102', 'valid', '33: exceptions 12 & 13, modulus 11 fails, modulus 10 passes'],
    ['180002', '00000190', 'valid', '34: exception 14, first check fails, shifted recheck passes'],
    // Not from the spec's list, but computed by hand against the table rows:
    ['938063', '15764275', 'invalid', 'exception 5, MOD11 check digit wrong'],
    ['086086', '34660000', 'invalid', 'plain MOD11 with a -1 weight: 157 mod 11 = 3'],
  ];

  for (const [sc, acct, expected, what] of vectors) {
    test(`${sc} ${acct} → ${expected} (${what})`, () => {
      assert.equal(checkUkModulus(sc, acct), expected);
    });
  }

  test('separators in the sort code are accepted', () => {
    assert.equal(checkUkModulus('08-99-99', '66374958'), 'valid');
    assert.equal(checkUkModulus('08 99 99', '66374959'), 'invalid');
  });

  test('sort codes outside the weight table cannot be checked', () => {
    assert.equal(checkUkModulus('000000', '12345678'), 'unchecked');
    assert.equal(checkUkModulus('123456', '98765432'), 'unchecked');
  });

  test('6 and 7 digit account numbers are zero-padded; 9/10 digit forms are unchecked', () => {
    assert.equal(checkUkModulus('180002', '000190'), 'valid');
    assert.equal(checkUkModulus('180002', '0000190'), 'valid');
    assert.equal(checkUkModulus('089999', '663749580'), 'unchecked');
    assert.equal(checkUkModulus('089999', '6637495800'), 'unchecked');
  });

  test('malformed input is invalid', () => {
    assert.equal(checkUkModulus('08999', '66374958'), 'invalid');
    assert.equal(checkUkModulus('089999', '6637495x'), 'invalid');
    assert.equal(checkUkModulus('089999', '12345'), 'invalid');
    assert.equal(checkUkModulus('089999', '12345678901'), 'invalid');
  });

  test('a single-digit change is caught for a modulus-10 range', () => {
    // 089999 uses MOD10 with weights 7 1 3 7 1 3 7 1 on the account digits:
    // changing only the last digit (weight 1) always breaks the check.
    for (let d = 0; d <= 9; d++) {
      const acct = `6637495${d}`;
      assert.equal(checkUkModulus('089999', acct), d === 8 ? 'valid' : 'invalid', acct);
    }
  });
});

describe('GBP bodies', () => {
  test('modulus failure is reported on accountNo', () => {
    expectErr({ ...GOOD.GBP, accountNo: '66374959' }, 'accountNo', 'accountNo: fails the UK modulus check for sort code 089999');
  });

  test('unknown sort code range is accepted (no check possible)', () => {
    expectOk({ ...GOOD.GBP, sortCode: '12-34-56', accountNo: '12345678' });
  });

  test('UK account numbers: 8 digits, 6-7 digits padded, others rejected when a sort code is given', () => {
    assert.equal(expectOk({ ...GOOD.GBP, sortCode: '180002', accountNo: '000190' }).accountNo, '00000190');
    assert.equal(expectOk({ ...GOOD.GBP, accountNo: '6637 4958' }).accountNo, '66374958');
    expectErr({ ...GOOD.GBP, accountNo: '663749580' }, 'accountNo', /UK account numbers must be 8 digits/);
    expectErr({ ...GOOD.GBP, accountNo: '12345' }, 'accountNo', /UK account numbers must be 8 digits/);
    expectErr({ ...GOOD.GBP, accountNo: '6637495A' }, 'accountNo', /UK account numbers must be 8 digits/);
  });

  test('sort code and account must agree with a GB IBAN', () => {
    const body = { currency: 'GBP', bankName: 'NatWest', swift: 'NWBKGB2L', iban: 'GB70NWBK08999966374958' };
    expectOk(body);
    expectOk({ ...body, sortCode: '08-99-99', accountNo: '66374958' });
    expectErr({ ...body, sortCode: '08-99-98' }, 'sortCode', 'sortCode: does not match the sort code in the IBAN (089999)');
    expectErr({ ...body, sortCode: '08-99-99', accountNo: '12345678' }, 'accountNo', /does not match the account number in the IBAN/);
  });

  test('a GB IBAN whose embedded sort code/account fail the modulus check is rejected', () => {
    // Valid mod-97, but 089999 / 66374959 fails the UK modulus check.
    expectErr(
      { currency: 'GBP', bankName: 'NatWest', swift: 'NWBKGB2L', iban: 'GB43NWBK08999966374959' },
      'iban',
      /fail the UK modulus check/,
    );
  });
});

describe('BSB (Australia)', () => {
  test('normalizeBsb', () => {
    assert.equal(normalizeBsb('123-456'), '123456');
    assert.equal(normalizeBsb('123456'), '123456');
    for (const bad of ['12-3456', '1234567', '12345', '123-45a', '123--456', '']) {
      assert.equal(normalizeBsb(bad), null, bad);
    }
  });

  test('AUD body', () => {
    const v = expectOk(GOOD.AUD);
    assert.equal(v.bsb, '062000');
    expectErr({ ...GOOD.AUD, bsb: '06-2000' }, 'bsb', /BSB must be 6 digits/);
    expectOk({ ...GOOD.AUD, accountNo: '12345' });
    expectOk({ ...GOOD.AUD, accountNo: '123456789' });
    expectErr({ ...GOOD.AUD, accountNo: '1234' }, 'accountNo', 'accountNo: Australian account numbers must be 5-9 digits');
    expectErr({ ...GOOD.AUD, accountNo: '1234567890' }, 'accountNo', /5-9 digits/);
  });
});

describe('Canada', () => {
  test('institution number, transit and account lengths', () => {
    expectOk({ ...GOOD.CAD, accountNo: '123456789012' });
    expectErr({ ...GOOD.CAD, institutionNumber: '03' }, 'institutionNumber', /exactly 3 digits/);
    expectErr({ ...GOOD.CAD, institutionNumber: '0031' }, 'institutionNumber', /exactly 3 digits/);
    expectErr({ ...GOOD.CAD, institutionNumber: 'abc' }, 'institutionNumber', /exactly 3 digits/);
    expectErr({ ...GOOD.CAD, transit: '1234' }, 'transit', /exactly 5 digits/);
    expectErr({ ...GOOD.CAD, transit: '123456' }, 'transit', /exactly 5 digits/);
    expectErr({ ...GOOD.CAD, accountNo: '123456' }, 'accountNo', 'accountNo: Canadian account numbers must be 7-12 digits');
    expectErr({ ...GOOD.CAD, accountNo: '1234567890123' }, 'accountNo', /7-12 digits/);
  });
});

describe('USD / SGD account numbers', () => {
  test('USD: 4-17 digits', () => {
    expectOk({ ...GOOD.USD, accountNo: '1234' });
    expectOk({ ...GOOD.USD, accountNo: '12345678901234567' });
    expectErr({ ...GOOD.USD, accountNo: '123' }, 'accountNo', 'accountNo: US (ACH) account numbers must be 4-17 digits');
    expectErr({ ...GOOD.USD, accountNo: '123456789012345678' }, 'accountNo', /4-17 digits/);
    expectErr({ ...GOOD.USD, accountNo: '12345X' }, 'accountNo', /4-17 digits/);
  });

  test('SGD: 6-17 digits', () => {
    expectOk({ ...GOOD.SGD, accountNo: '123456' });
    expectErr({ ...GOOD.SGD, accountNo: '12345' }, 'accountNo', 'accountNo: SGD account numbers must be 6-17 digits');
  });

  test('spaces and hyphens in digit account numbers are removed', () => {
    assert.equal(expectOk({ ...GOOD.USD, accountNo: '1234-5678 90' }).accountNo, '1234567890');
  });
});

describe('per-currency required fields', () => {
  test('one good body per currency', () => {
    for (const c of FIAT_CURRENCIES) {
      const v = expectOk(GOOD[c]);
      assert.equal(v.currency, c);
    }
  });

  test("the integration guide's EUR example is accepted as it is", () => {
    const guide = {
      customerId: 'cust_abc123',
      currency: 'EUR',
      bankName: 'Deutsche Bank',
      accountNo: '1234567890',
      iban: 'DE89370400440532013000',
      swift: 'DEUTDEFF',
      accountName: 'John Doe',
    };
    const v = expectOk(guide);
    assert.deepEqual(v, {
      currency: 'EUR',
      bankName: 'Deutsche Bank',
      accountNo: '1234567890',
      accountName: 'John Doe',
      swift: 'DEUTDEFF',
      iban: 'DE89370400440532013000',
      aba: null,
      sortCode: null,
      bsb: null,
      institutionNumber: null,
      transit: null,
      bankCountry: null,
      bankAddress: null,
      beneficiaryAddress: null,
      label: null,
      interBankName: null,
      interBankBic: null,
      interBankAccountNo: null,
    });
  });

  const without = (body: BankAccountInput, ...fields: string[]): BankAccountInput =>
    Object.fromEntries(Object.entries(body).filter(([k]) => !fields.includes(k)));

  test('USD', () => {
    expectErr(without(GOOD.USD, 'bankName'), 'bankName', 'bankName: required for USD');
    expectErr(without(GOOD.USD, 'accountNo'), 'accountNo', 'accountNo: required for USD');
    expectErr(without(GOOD.USD, 'aba'), 'aba', 'aba or swift: one is required for USD');
    expectOk({ ...without(GOOD.USD, 'aba'), swift: 'CHASUS33' });
  });

  test('EUR', () => {
    expectErr(without(GOOD.EUR, 'bankName'), 'bankName', 'bankName: required for EUR');
    expectErr(without(GOOD.EUR, 'accountNo', 'iban'), 'iban', 'iban: required for EUR accounts (SEPA)');
    expectErr(without(GOOD.EUR, 'swift'), 'swift', 'swift: required for EUR');
    expectErr(without(GOOD.EUR, 'iban'), 'iban', /^iban: required for EUR accounts \(SEPA\)/);
    expectOk(without(GOOD.EUR, 'accountNo'));
  });

  test('GBP', () => {
    expectErr(without(GOOD.GBP, 'bankName'), 'bankName', 'bankName: required for GBP');
    expectErr(without(GOOD.GBP, 'accountNo'), 'accountNo', 'accountNo or iban: one is required for GBP');
    expectErr(without(GOOD.GBP, 'swift'), 'swift', 'swift: required for GBP');
    // sortCode is optional.
    expectOk(without(GOOD.GBP, 'sortCode'));
  });

  test('CAD', () => {
    expectErr(without(GOOD.CAD, 'bankName'), 'bankName', 'bankName: required for CAD');
    expectErr(without(GOOD.CAD, 'accountNo'), 'accountNo', 'accountNo: required for CAD');
    expectErr(without(GOOD.CAD, 'institutionNumber'), 'institutionNumber', 'institutionNumber: required for CAD');
    expectErr(without(GOOD.CAD, 'transit'), 'transit', 'transit: required for CAD');
  });

  test('AUD', () => {
    expectErr(without(GOOD.AUD, 'bankName'), 'bankName', 'bankName: required for AUD');
    expectErr(without(GOOD.AUD, 'accountNo'), 'accountNo', 'accountNo: required for AUD');
    expectErr(without(GOOD.AUD, 'bsb'), 'bsb', 'bsb: required for AUD');
  });

  test('SGD', () => {
    expectErr(without(GOOD.SGD, 'bankName'), 'bankName', 'bankName: required for SGD');
    expectErr(without(GOOD.SGD, 'accountNo'), 'accountNo', 'accountNo: required for SGD');
    expectErr(without(GOOD.SGD, 'swift'), 'aba', 'aba or swift: one is required for SGD');
    expectOk({ ...without(GOOD.SGD, 'swift'), aba: '026009593' });
  });

  test('required fields are reported in table order, before format errors', () => {
    expectErr({ currency: 'USD' }, 'bankName', 'bankName: required for USD');
    expectErr({ currency: 'CAD', bankName: 'RBC', transit: 'bad' }, 'accountNo', 'accountNo: required for CAD');
    expectErr({ currency: 'EUR', iban: 'DE89370400440532013001', swift: 'DEUTDEFF' }, 'bankName', /required/);
    expectErr({ ...GOOD.EUR, iban: 'DE89370400440532013001', swift: undefined }, 'swift', 'swift: required for EUR');
  });

  test('empty or blank strings count as missing', () => {
    expectErr({ ...GOOD.USD, bankName: '   ' }, 'bankName', 'bankName: required for USD');
    expectErr({ ...GOOD.EUR, accountNo: '', iban: ' ' }, 'iban', 'iban: required for EUR accounts (SEPA)');
    expectErr({ ...GOOD.USD, bankName: '\u00a0\u200b' }, 'bankName', 'bankName: required for USD');
  });
});

describe('currency', () => {
  test('missing / unsupported / case', () => {
    expectErr({ bankName: 'x', accountNo: '1234' }, 'currency', 'currency: required');
    expectErr({ ...GOOD.USD, currency: 'JPY' }, 'currency', /unsupported currency "JPY" \(expected one of USD, EUR, GBP, CAD, AUD, SGD\)/);
    assert.equal(expectOk({ ...GOOD.USD, currency: ' usd ' }).currency, 'USD');
  });
});

describe('types, trimming and free text', () => {
  test('non-string values are an invalid type', () => {
    expectErr({ ...GOOD.USD, bankName: 123 }, 'bankName', 'bankName: must be a string (got number)');
    expectErr({ ...GOOD.USD, currency: ['USD'] }, 'currency', 'currency: must be a string (got array)');
    expectErr({ ...GOOD.USD, label: { a: 1 } }, 'label', 'label: must be a string (got object)');
    expectErr({ ...GOOD.USD, swift: true }, 'swift', 'swift: must be a string (got boolean)');
    expectErr({ ...GOOD.USD, aba: 21000021 }, 'aba', 'aba: must be a string (got number)');
  });

  test('null and undefined count as missing', () => {
    const v = expectOk({ ...GOOD.USD, label: null, bankAddress: undefined, swift: null });
    assert.equal(v.label, null);
    assert.equal(v.bankAddress, null);
    expectErr({ ...GOOD.USD, bankName: null }, 'bankName', 'bankName: required for USD');
  });

  test('customerId is not validated here', () => {
    expectOk({ ...GOOD.USD, customerId: 42 });
    expectOk({ ...GOOD.USD, customerId: undefined });
  });

  test('strings are trimmed', () => {
    const v = expectOk({ ...GOOD.USD, bankName: '  JPMorgan Chase  ', accountName: '\tJane Roe \n', label: ' main ' });
    assert.equal(v.bankName, 'JPMorgan Chase');
    assert.equal(v.accountName, 'Jane Roe');
    assert.equal(v.label, 'main');
  });

  test('non-object bodies', () => {
    for (const body of [null, [], 'x', 5]) {
      expectErr(body as unknown as BankAccountInput, 'body', 'body: must be a JSON object');
    }
  });

  test('bankName / accountName: 1-140 chars, no control characters', () => {
    expectOk({ ...GOOD.USD, bankName: 'B'.repeat(140), accountName: 'N'.repeat(140) });
    expectErr({ ...GOOD.USD, bankName: 'B'.repeat(141) }, 'bankName', 'bankName: must be at most 140 characters (got 141)');
    expectErr({ ...GOOD.USD, accountName: 'N'.repeat(141) }, 'accountName', /at most 140 characters/);
    expectErr({ ...GOOD.USD, accountName: 'Jane\u0000Roe' }, 'accountName', 'accountName: must not contain control characters (U+0000)');
    expectErr({ ...GOOD.USD, accountName: 'Jane\nRoe' }, 'accountName', /control characters/);
    expectErr({ ...GOOD.USD, accountName: 'Jane\u202ERoe' }, 'accountName', /control characters/);
    expectErr({ ...GOOD.USD, bankName: 'Bank\u0007' }, 'bankName', /control characters/);
    // Non-ASCII letters are fine; length is counted in code points, not UTF-16 units.
    expectOk({ ...GOOD.USD, accountName: 'Zoë Łukasz-Müller 王小明' });
    expectOk({ ...GOOD.USD, accountName: '😀'.repeat(140) });
    expectErr({ ...GOOD.USD, accountName: '😀'.repeat(141) }, 'accountName', /at most 140 characters \(got 141\)/);
  });

  test('addresses up to 300 chars and may span lines; other text up to 140', () => {
    expectOk({ ...GOOD.USD, bankAddress: 'A'.repeat(300), beneficiaryAddress: '1 Main St\nSpringfield' });
    expectErr({ ...GOOD.USD, bankAddress: 'A'.repeat(301) }, 'bankAddress', /at most 300 characters/);
    expectErr({ ...GOOD.USD, beneficiaryAddress: 'A'.repeat(301) }, 'beneficiaryAddress', /at most 300 characters/);
    expectErr({ ...GOOD.USD, beneficiaryAddress: '1 Main St\u0000' }, 'beneficiaryAddress', /control characters/);
    for (const f of ['label', 'interBankName', 'interBankAccountNo']) {
      expectOk({ ...GOOD.USD, [f]: 'x'.repeat(140) });
      expectErr({ ...GOOD.USD, [f]: 'x'.repeat(141) }, f, /at most 140 characters/);
    }
  });
});

describe('accountName / beneficiaryName alias', () => {
  test('beneficiaryName alone fills accountName', () => {
    const { accountName: _drop, ...rest } = GOOD.USD;
    assert.equal(expectOk({ ...rest, beneficiaryName: 'Jane Roe' }).accountName, 'Jane Roe');
  });

  test('both given and equal is fine', () => {
    assert.equal(expectOk({ ...GOOD.USD, accountName: 'Jane Roe', beneficiaryName: ' Jane Roe ' }).accountName, 'Jane Roe');
  });

  test('both given and different is an error', () => {
    expectErr({ ...GOOD.USD, accountName: 'Jane Roe', beneficiaryName: 'John Doe' }, 'beneficiaryName', /conflicts with accountName/);
  });

  test('accountName is optional', () => {
    const { accountName: _drop, ...rest } = GOOD.USD;
    assert.equal(expectOk(rest).accountName, null);
  });

  test('control characters in beneficiaryName are reported on beneficiaryName', () => {
    const { accountName: _drop, ...rest } = GOOD.USD;
    expectErr({ ...rest, beneficiaryName: 'Jane\u0001' }, 'beneficiaryName', /control characters/);
  });
});

describe('fields present but not required are still checked', () => {
  test('examples', () => {
    expectErr({ ...GOOD.USD, bsb: '12' }, 'bsb', /BSB/);
    expectErr({ ...GOOD.EUR, aba: '021000022' }, 'aba', /checksum/);
    expectErr({ ...GOOD.AUD, iban: 'DE89370400440532013001' }, 'iban', /mod-97/);
    const v = expectOk({ ...GOOD.USD, swift: 'CHASUS33', sortCode: '12-34-56' });
    assert.equal(v.swift, 'CHASUS33');
    assert.equal(v.sortCode, '123456');
  });
});

describe('names: account holder, bank, intermediary bank', () => {
  const { accountName: _drop, ...noName } = GOOD.USD;

  test('a blank or invisible-only holder name is refused, not taken as the customer name', () => {
    for (const blank of BLANK_NAMES) {
      expectErr({ ...noName, accountName: blank }, 'accountName', 'accountName: must not be blank (it has no visible characters)');
      expectErr({ ...noName, beneficiaryName: blank }, 'beneficiaryName', /must not be blank/);
      expectErr({ ...GOOD.USD, interBankName: blank }, 'interBankName', /must not be blank/);
    }
  });

  test('whitespace and invisible characters are trimmed at both ends', () => {
    const v = expectOk({ ...GOOD.USD, accountName: '\u200b\u00a0Jane Roe\ufeff\u2060 ', bankName: '\u202aChase\u00ad' });
    assert.equal(v.accountName, 'Jane Roe');
    assert.equal(v.bankName, 'Chase');
  });

  test('an invisible or control character inside a name is refused, naming the code point', () => {
    for (const [ch, kind] of [
      ['\u200b', 'invisible'],
      ['\u200c', 'invisible'],
      ['\u200d', 'invisible'],
      ['\u2060', 'invisible'],
      ['\ufeff', 'invisible'],
      ['\u00ad', 'invisible'],
      ['\u202b', 'control'],
      ['\u2067', 'control'],
      ['\u0085', 'control'],
      ['\u2028', 'control'],
    ] as const) {
      const label = `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
      for (const f of ['accountName', 'bankName', 'interBankName']) {
        expectErr({ ...GOOD.USD, [f]: `Jane${ch}Roe` }, f, `${f}: must not contain ${kind} characters (${label})`);
      }
    }
  });

  test('an unpaired surrogate is refused in names and in free text', () => {
    expectErr({ ...GOOD.USD, accountName: 'Jane\ud800' }, 'accountName', /valid Unicode text/);
    expectErr({ ...GOOD.USD, bankAddress: '1 Main St \udc00' }, 'bankAddress', /valid Unicode text/);
    expectErr({ ...GOOD.USD, label: '\ud83d' }, 'label', /valid Unicode text/);
  });

  test('real names pass unchanged', () => {
    for (const name of [
      "O'Brien",
      'Anne-Marie Dupont',
      'José Müller',
      'Zoë Łukasz',
      '王小明',
      '山田\u3000太郎',
      'Nguyễn Thị Minh Khai',
      'Ахмед Ибрагимов',
      'محمد علي',
      'Smith & Sons Ltd.',
      'Müller GmbH & Co. KG',
      'AT&T',
      '葛\u{E0100}飾 花子', // ideographic variation selector
    ]) {
      assert.equal(expectOk({ ...GOOD.USD, accountName: name }).accountName, name, name);
      assert.equal(expectOk({ ...GOOD.USD, bankName: name }).bankName, name, name);
    }
  });

  test('property: a name wrapped in whitespace and invisible characters comes back bare', () => {
    const pad = fc.array(fc.constantFrom(' ', '\u00a0', '\u200b', '\ufeff', '\u2060', '\u3000', '\t', '\u00ad', '\u202c'), {
      maxLength: 4,
    });
    const letters = fc.array(fc.constantFrom('a', 'Z', 'é', '王', "'", '-', '&', '.', ' '), { minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(pad, letters, pad, (before, middle, after) => {
        const core = middle.join('').trim();
        fc.pre(core !== '');
        const v = validateBankAccountInput({ ...GOOD.USD, accountName: before.join('') + core + after.join('') });
        assert.ok(v.ok, JSON.stringify(v));
        assert.equal(v.value.accountName, core);
      }),
      { numRuns: 200 },
    );
  });
});

describe('bankCountry', () => {
  test('an ISO 3166-1 alpha-2 code, upper-cased', () => {
    assert.equal(expectOk({ ...GOOD.USD, bankCountry: 'us' }).bankCountry, 'US');
    assert.equal(expectOk({ ...GOOD.EUR, bankCountry: ' De ' }).bankCountry, 'DE');
    assert.equal(expectOk({ ...GOOD.USD, bankCountry: 'XK' }).bankCountry, 'XK');
  });

  test('anything else is refused, the value quoted printably', () => {
    for (const bad of ['*', '-1', '$1', '\ud800', '\udfff', 'U', 'USA', 'XX', 'UK', 'EU', 'ZZ', 'ﬁ', '１２', 'D\u200bE']) {
      expectErr({ ...GOOD.USD, bankCountry: bad }, 'bankCountry', /^bankCountry: unknown ISO 3166-1 alpha-2 country code "/);
    }
    const r = expectErr({ ...GOOD.USD, bankCountry: '\ud800' }, 'bankCountry');
    assert.equal(r.message, 'bankCountry: unknown ISO 3166-1 alpha-2 country code "<U+D800>"');
  });
});
