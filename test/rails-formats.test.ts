/**
 * Payment-file generators (docs/rails.md): every file is read back by the independent parsers in
 * src/adapters/rails/formats/readers/ (record lengths, sequence, control and hash totals) and compared with
 * the input in bigint minor units; pain.001 files are validated against the EPC XSD with xmllint
 * (apt-get install libxml2-utils).
 */
import { SANDBOX_DEBTORS } from '../src/domain/payouts/payouts.ts';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { AppError } from '../src/infra/lib/errors.ts';
import {
  buildAba,
  buildCpa005,
  buildNacha,
  buildPain001,
  epcIdentifier,
  gbIbanFromSortCode,
  type Creditor,
  type Debtor,
  type FileBatch,
  type PaymentInstruction,
  type PayoutCurrency,
} from '../src/adapters/rails/formats/index.ts';
import { parseAba, parseCpa005, parseNacha, parsePain001, parseXml } from '../src/adapters/rails/formats/readers/index.ts';
import { REFERENCE, referencePath, skipWithoutReference } from './helpers/reference.ts';
import { creditor } from './helpers/banks.ts';

const EPC_XSD = process.env.OPENRAMP_EPC_XSD ?? referencePath(REFERENCE.epcXsd);
const XMLLINT = spawnSync('xmllint', ['--version'], { encoding: 'utf8' });
const XMLLINT_MISSING =
  XMLLINT.error !== undefined
    ? 'xmllint not installed (apt-get install libxml2-utils); XSD validation skipped'
    : process.env.OPENRAMP_EPC_XSD === undefined && skipWithoutReference('EPC XSD validation', REFERENCE.epcXsd);

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

const AWKWARD = 'José Müller & Søn <Ltd>';
const LONG_NAME = 'Maximilian Alexander Bartholomäus von und zu Grünwald-Schönberg-Östergaard Holding GmbH & Co. KG';
const QUOTES = `O'Brien "Quotes" — Ærøskøbing/Łódź; Straße №5 ☃ 李小龙`;

// The sandbox treasury account the payout stage uses (EUR flavour: IBAN + BIC, and every originator id).
const DEBTOR: Debtor = SANDBOX_DEBTORS.EUR;

function ins(
  i: number,
  currency: PayoutCurrency,
  amountMinor: bigint,
  c: Partial<Creditor>,
  remittance = `OpenRamp payout ${i}`,
): PaymentInstruction {
  return {
    payoutId: `pay_01hx${String(i).padStart(22, '0')}`,
    endToEndId: `pay_01hx${String(i).padStart(22, '0')}`,
    amountMinor,
    currency,
    creditor: creditor(c),
    remittance,
  };
}

function batch(instructions: PaymentInstruction[], over: Partial<FileBatch> = {}): FileBatch {
  return {
    batchId: 'bat_01hx0000000000000000000001',
    createdAt: new Date('2024-12-31T23:30:00Z'),
    executionDate: '2025-01-02',
    debtor: DEBTOR,
    instructions,
    ...over,
  };
}

const sum = (list: PaymentInstruction[]): bigint => list.reduce((s, x) => s + x.amountMinor, 0n);

function refused(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof AppError && e.code === 'PRECONDITION_FAILED' && !e.retryable && re.test(e.message));
}

// ---------------------------------------------------------------------------
// xmllint
// ---------------------------------------------------------------------------

function xmllint(xml: string, xsd: string): { ok: boolean; errors: string[] } {
  const dir = mkdtempSync(path.join(tmpdir(), 'openramp-pain001-'));
  try {
    const file = path.join(dir, 'file.xml');
    writeFileSync(file, xml);
    const r = spawnSync('xmllint', ['--noout', '--schema', xsd, file], { encoding: 'utf8' });
    if (r.error) throw r.error;
    const errors = r.stderr.split('\n').filter((l) => / error : /.test(l));
    return { ok: r.status === 0, errors };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function epcXsd(): string {
  assert.ok(existsSync(EPC_XSD), `EPC XSD not found at ${EPC_XSD} (set OPENRAMP_EPC_XSD)`);
  return EPC_XSD;
}

/**
 * The EPC XSD with exactly its two refusals lifted, as in the ISO 20022 base pain.001.001.09
 * schema: SvcLvl/Cd may also be URGP/NURG, and an account Id may also be Othr
 * (GenericAccountIdentification1). A GBP/SGD file valid against this is valid against the EPC XSD
 * in every other respect.
 */
let widened: { dir: string; file: string } | null = null;
function widenedXsd(): string {
  if (widened !== null) return widened.file;
  let xsd = readFileSync(epcXsd(), 'utf8');
  const insertBefore = (typeName: string, closing: string, text: string): void => {
    const start = xsd.indexOf(`name="${typeName}"`);
    assert.ok(start >= 0, `type ${typeName} not found in the EPC XSD`);
    const end = xsd.indexOf(closing, start);
    assert.ok(end >= 0, `${closing} not found after ${typeName}`);
    xsd = xsd.slice(0, end) + text + xsd.slice(end);
  };
  insertBefore(
    'ExternalServiceLevel1Code_EPC132-08_2023_V1.0_SCT_C2PSP',
    '</xs:restriction>',
    '<xs:enumeration value="URGP"/><xs:enumeration value="NURG"/>',
  );
  const othr = '<xs:element name="Othr" type="GenericAccountIdentification1"/>';
  for (const t of [
    'AccountIdentification4Choice',
    'AccountIdentification4Choice_EPC132-08_2023_V1.0_SCT_C2PSP',
    'AccountIdentification4Choice_EPC132-08_2023_V1.0_SCT_C2PSP_2',
  ]) {
    insertBefore(t, '</xs:choice>', othr);
  }
  assert.ok(!xsd.includes('name="GenericAccountIdentification1"') && !xsd.includes('name="Max34Text"'));
  xsd = xsd.replace(
    '</xs:schema>',
    `<xs:complexType name="GenericAccountIdentification1"><xs:sequence>
  <xs:element name="Id" type="Max34Text"/>
  <xs:element name="SchmeNm" type="AccountSchemeName1Choice" minOccurs="0"/>
  <xs:element name="Issr" type="Max35Text" minOccurs="0"/>
</xs:sequence></xs:complexType>
<xs:complexType name="AccountSchemeName1Choice"><xs:choice>
  <xs:element name="Cd" type="ExternalAccountIdentification1Code"/>
  <xs:element name="Prtry" type="Max35Text"/>
</xs:choice></xs:complexType>
<xs:simpleType name="ExternalAccountIdentification1Code"><xs:restriction base="xs:string"><xs:minLength value="1"/><xs:maxLength value="4"/></xs:restriction></xs:simpleType>
<xs:simpleType name="Max34Text"><xs:restriction base="xs:string"><xs:minLength value="1"/><xs:maxLength value="34"/></xs:restriction></xs:simpleType>
</xs:schema>`,
  );
  const dir = mkdtempSync(path.join(tmpdir(), 'openramp-xsd-'));
  const file = path.join(dir, 'pain.001.001.09-EPC-widened.xsd');
  writeFileSync(file, xsd);
  widened = { dir, file };
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return file;
}

/** Every xmllint error must be one of the expected refusals, and each expected one must occur. */
function assertOnlyRefusals(errors: string[], expected: RegExp[]): void {
  assert.ok(errors.length > 0, 'expected the EPC XSD to refuse the file');
  for (const e of errors)
    assert.ok(
      expected.some((re) => re.test(e)),
      `unexpected XSD error: ${e}`,
    );
  for (const re of expected)
    assert.ok(
      errors.some((e) => re.test(e)),
      `expected an XSD error matching ${re}`,
    );
}
const REFUSED_SERVICE_LEVEL =
  /Element '\{urn:iso:std:iso:20022:tech:xsd:pain\.001\.001\.09\}Cd': \[facet 'enumeration'\] The value '(URGP|NURG)' is not an element of the set \{'SEPA'\}/;
const REFUSED_OTHR =
  /Element '\{urn:iso:std:iso:20022:tech:xsd:pain\.001\.001\.09\}Othr': This element is not expected\. Expected is \( \{urn:iso:std:iso:20022:tech:xsd:pain\.001\.001\.09\}IBAN \)/;

// ---------------------------------------------------------------------------
// pain.001
// ---------------------------------------------------------------------------

function eurInstructions(): PaymentInstruction[] {
  return [
    ins(1, 'EUR', 99_999_999_999n, {
      name: AWKWARD,
      iban: 'FR14 2004 1010 0505 0001 3M02 606',
      bic: 'PSSTFRPPXXX',
      country: 'FR',
      address: '12 rue de la Paix\n75002 Paris',
    }),
    ins(2, 'EUR', 1n, { name: LONG_NAME, iban: 'DE89370400440532013000', bic: null }, 'x'.repeat(140)),
    ins(
      3,
      'EUR',
      123_456n,
      { name: QUOTES, accountNo: 'NL91ABNA0417164300', bic: 'ABNANL2A', address: `${'Long street name '.repeat(12)}end` },
      `Ref <&> "é" ${'y'.repeat(200)}`,
    ),
    ins(
      4,
      'EUR',
      50_000_00n,
      { name: '  Ana   Lúcia\tde Sá  ', iban: 'ES9121000418450200051332', bic: 'CAIXESBBXXX', country: 'Spain' },
      '',
    ),
  ];
}

/** A copy of `o` without key `k` (the debtor a bank profile would lack). */
function without<T extends object, K extends keyof T>(o: T, k: K): Omit<T, K> {
  const { [k]: _dropped, ...rest } = o;
  return rest;
}

describe('pain.001.001.09', () => {
  it('EUR SEPA credit transfer: parses back to the input and validates against the EPC XSD', { skip: XMLLINT_MISSING }, () => {
    const list = eurInstructions();
    const file = buildPain001(batch(list), { serviceLevel: 'SEPA', categoryPurpose: 'SUPP' });
    assert.equal(file.filename, 'bat_01hx0000000000000000000001.xml');
    assert.equal(file.contentType, 'application/xml');
    assert.equal(file.count, 4);
    assert.equal(file.controlSumMinor, sum(list));

    const p = parsePain001(file.content);
    assert.equal(p.msgId, 'bat-01hx0000000000000000000001');
    assert.equal(p.creDtTm, '2024-12-31T23:30:00Z');
    assert.equal(p.nbOfTxs, 4);
    assert.equal(p.ctrlSumMinor, sum(list));
    const pi = p.paymentInfos[0];
    assert.ok(pi);
    assert.equal(pi.serviceLevel, 'SEPA');
    assert.equal(pi.localInstrument, null);
    assert.equal(pi.categoryPurpose, 'SUPP');
    assert.equal(pi.executionDate, '2025-01-02');
    assert.equal(pi.debtorIban, 'DE89370400440532013000');
    assert.deepEqual(
      pi.transactions.map((t) => [t.amountMinor, t.currency]),
      list.map((x) => [x.amountMinor, 'EUR']),
    );
    const [t1, t2, t3, t4] = pi.transactions;
    assert.ok(t1 && t2 && t3 && t4);
    assert.equal(t1.creditorName, 'Jose Muller + Son (Ltd)');
    assert.equal(t1.creditorIban, 'FR1420041010050500013M02606');
    assert.equal(t1.creditorBic, 'PSSTFRPPXXX');
    assert.equal(t1.creditorCountry, 'FR');
    assert.deepEqual(t1.creditorAddressLines, ['12 rue de la Paix, 75002 Paris']);
    assert.equal(t1.endToEndId, 'pay-01hx0000000000000000000001');
    assert.equal(t1.instrId, 'pay-01hx0000000000000000000001');
    assert.equal(t2.creditorName.length, 70);
    assert.ok(t2.creditorName.startsWith('Maximilian Alexander Bartholomaus von und zu Grunwald-Schonberg-Osterg'));
    assert.equal(t2.creditorBic, null, 'no BIC: no CdtrAgt');
    assert.equal(t2.remittance, 'x'.repeat(140));
    assert.equal(t3.creditorIban, 'NL91ABNA0417164300', 'an IBAN given as accountNo is used as the IBAN');
    assert.match(t3.creditorName, /^O'Brien 'Quotes' - AEroskobing\/Lodz, Strasse No5 \? \?\?\?$/);
    assert.equal(t3.remittance?.length, 140);
    assert.ok(t3.remittance?.startsWith("Ref (+) 'e' yyy"));
    assert.equal(t3.creditorAddressLines.length, 2);
    assert.equal(t4.creditorName, 'Ana Lucia de Sa');
    assert.equal(t4.remittance, null, 'empty remittance: no RmtInf');
    assert.equal(t4.creditorCountry, null, 'a country that is not an ISO code is not written');
    assert.deepEqual(
      file.references.map((r) => r.reference),
      pi.transactions.map((t) => t.endToEndId),
    );

    const v = xmllint(file.content, epcXsd());
    assert.deepEqual(v.errors, []);
    assert.ok(v.ok);
  });

  it('EUR SEPA Instant (LclInstrm INST) validates against the EPC XSD', { skip: XMLLINT_MISSING }, () => {
    const list = eurInstructions();
    for (const file of [
      buildPain001(batch(list), { serviceLevel: 'SEPA', localInstrument: 'INST' }),
      buildPain001(batch(list, { instant: true }), { serviceLevel: 'SEPA' }),
    ]) {
      const p = parsePain001(file.content);
      assert.equal(p.paymentInfos[0]?.localInstrument, 'INST');
      assert.equal(p.ctrlSumMinor, sum(list));
      const v = xmllint(file.content, epcXsd());
      assert.deepEqual(v.errors, []);
    }
  });

  it('escapes XML and never lets markup through, whatever the input', () => {
    const evil = '</Nm><IBAN>XX</IBAN>&amp;\u0000\u0007\uFFFE\uD800 ]]> <!-- x -->';
    const file = buildPain001(batch([ins(1, 'EUR', 100n, { name: evil, iban: 'DE89370400440532013000' }, evil)]), { serviceLevel: 'SEPA' });
    const p = parsePain001(file.content);
    const t = p.paymentInfos[0]?.transactions[0];
    assert.ok(t);
    assert.equal(t.creditorIban, 'DE89370400440532013000');
    assert.ok(!t.creditorName.includes('<') && !t.creditorName.includes('&'));
    // An apostrophe is in the EPC set and must round-trip through &apos;.
    const q = buildPain001(batch([ins(1, 'EUR', 100n, { name: "D'Artagnan", iban: 'DE89370400440532013000' })]), { serviceLevel: 'SEPA' });
    assert.match(q.content, /<Nm>D&apos;Artagnan<\/Nm>/);
    assert.equal(parsePain001(q.content).paymentInfos[0]?.transactions[0]?.creditorName, "D'Artagnan");
  });

  it('builds GB IBANs from BIC bank code + sort code + account number', () => {
    assert.equal(gbIbanFromSortCode('NWBKGB2L', '60-16-13', '31926819'), 'GB29NWBK60161331926819');
    assert.equal(gbIbanFromSortCode('WESTGB22', '123456', '98765432'), 'GB82WEST12345698765432');
    assert.equal(gbIbanFromSortCode('BUKBGB22XXX', '20 20 15', '55555555'), 'GB33BUKB20201555555555');
    assert.equal(gbIbanFromSortCode('DEUTDEFF', '202015', '55555555'), null, 'a non-UK BIC cannot name a UK bank');
    assert.equal(gbIbanFromSortCode('NWBKGB2L', '6016', '31926819'), null);
    assert.equal(gbIbanFromSortCode('NWBKGB2L', '601613', '3192681999'), null);
  });

  it('GBP Faster Payments / CHAPS: valid against the EPC XSD except SvcLvl/Cd (only "SEPA" is enumerated)', {
    skip: XMLLINT_MISSING,
  }, () => {
    const list = [
      ins(1, 'GBP', 99_999_999_999n, { name: AWKWARD, bic: 'NWBKGB2L', sortCode: '60-16-13', accountNo: '31926819', country: 'GB' }),
      ins(2, 'GBP', 1n, { name: 'Élodie Brontë', iban: 'GB82 WEST 1234 5698 7654 32', bic: 'WESTGB22' }),
      ins(3, 'GBP', 42_00n, { name: LONG_NAME, accountNo: 'GB33BUKB20201555555555', bic: 'BUKBGB22' }),
    ];
    const debtor: Debtor = { ...DEBTOR, iban: 'GB29NWBK60161331926819', bic: 'NWBKGB2L' };
    for (const serviceLevel of ['NURG', 'URGP'] as const) {
      const file = buildPain001(batch(list, { debtor }), { serviceLevel });
      const p = parsePain001(file.content);
      assert.equal(p.ctrlSumMinor, sum(list));
      assert.equal(p.paymentInfos[0]?.serviceLevel, serviceLevel);
      assert.deepEqual(
        p.paymentInfos[0]?.transactions.map((t) => [t.amountMinor, t.currency, t.creditorIban]),
        [
          [99_999_999_999n, 'GBP', 'GB29NWBK60161331926819'],
          [1n, 'GBP', 'GB82WEST12345698765432'],
          [42_00n, 'GBP', 'GB33BUKB20201555555555'],
        ],
      );
      assertOnlyRefusals(xmllint(file.content, epcXsd()).errors, [REFUSED_SERVICE_LEVEL]);
      assert.deepEqual(xmllint(file.content, widenedXsd()).errors, []);
    }
  });

  it('GBP without a BIC to build an IBAN from: sort code + account in Othr/Id (refused by the EPC XSD, valid otherwise)', {
    skip: XMLLINT_MISSING,
  }, () => {
    const debtor: Debtor = { ...DEBTOR, iban: 'GB29NWBK60161331926819', bic: 'NWBKGB2L' };
    const file = buildPain001(batch([ins(1, 'GBP', 500n, { sortCode: '601613', accountNo: '31926819' })], { debtor }), {
      serviceLevel: 'NURG',
    });
    const t = parsePain001(file.content).paymentInfos[0]?.transactions[0];
    assert.equal(t?.creditorOtherId, '60161331926819');
    assertOnlyRefusals(xmllint(file.content, epcXsd()).errors, [REFUSED_SERVICE_LEVEL, REFUSED_OTHR]);
    assert.deepEqual(xmllint(file.content, widenedXsd()).errors, []);
  });

  it('SGD FAST / MEPS+: refused by the EPC XSD only at SvcLvl/Cd and the non-IBAN account ids', { skip: XMLLINT_MISSING }, () => {
    const list = [
      ins(1, 'SGD', 99_999_999_999n, { name: 'Tan Ah Kow 陈亚九', accountNo: '0123456789', bic: 'DBSSSGSGXXX', country: 'SG' }),
      ins(2, 'SGD', 1n, { name: AWKWARD, accountNo: '987-654-321-0', bic: 'OCBCSGSG' }),
    ];
    const debtor: Debtor = { ...DEBTOR, iban: null, bic: 'DBSSSGSGXXX', accountNo: '0720123456' };
    for (const serviceLevel of ['NURG', 'URGP'] as const) {
      const file = buildPain001(batch(list, { debtor }), { serviceLevel });
      const p = parsePain001(file.content);
      assert.equal(p.ctrlSumMinor, sum(list));
      assert.equal(p.paymentInfos[0]?.debtorOtherId, '0720123456');
      assert.deepEqual(
        p.paymentInfos[0]?.transactions.map((t) => [t.amountMinor, t.creditorOtherId, t.creditorIban]),
        [
          [99_999_999_999n, '0123456789', null],
          [1n, '9876543210', null],
        ],
      );
      const v = xmllint(file.content, epcXsd());
      assertOnlyRefusals(v.errors, [REFUSED_SERVICE_LEVEL, REFUSED_OTHR]);
      assert.equal(v.errors.filter((e) => REFUSED_OTHR.test(e)).length, 3, 'DbtrAcct and both CdtrAcct');
      assert.deepEqual(xmllint(file.content, widenedXsd()).errors, []);
    }
  });

  it('refuses what SEPA or the schema cannot carry', () => {
    const ok = ins(1, 'EUR', 100n, { iban: 'DE89370400440532013000' });
    refused(
      () => buildPain001(batch([ins(1, 'GBP', 100n, { iban: 'GB29NWBK60161331926819' })]), { serviceLevel: 'SEPA' }),
      /SEPA carries EUR only/,
    );
    refused(
      () => buildPain001(batch([ins(1, 'EUR', 100n, { accountNo: '12345678' })]), { serviceLevel: 'SEPA' }),
      /SEPA needs the creditor account as an IBAN/,
    );
    refused(() => buildPain001(batch([ok], { debtor: { ...DEBTOR, iban: null } }), { serviceLevel: 'SEPA' }), /debtor account as an IBAN/);
    refused(
      () => buildPain001(batch([ins(1, 'EUR', 100n, { iban: 'DE00370400440532013000' })]), { serviceLevel: 'SEPA' }),
      /not a valid IBAN/,
    );
    refused(() => buildPain001(batch([{ ...ok, amountMinor: 0n }]), { serviceLevel: 'SEPA' }), /positive/);
    refused(() => buildPain001(batch([{ ...ok, amountMinor: 100_000_000_000n }]), { serviceLevel: 'SEPA' }), /maximum/);
    refused(() => buildPain001(batch([ok, { ...ok, payoutId: 'other' }]), { serviceLevel: 'SEPA' }), /not unique/);
    refused(
      () =>
        buildPain001(
          batch([ok, { ...ins(2, 'EUR', 1n, { iban: 'DE89370400440532013000' }), endToEndId: 'pay-01hx0000000000000000000001' }]),
          { serviceLevel: 'SEPA' },
        ),
      /same once restricted/,
    );
    refused(() => buildPain001(batch([ok, ins(2, 'GBP', 1n, {})]), { serviceLevel: 'NURG' }), /file is in EUR/);
    refused(() => buildPain001(batch([]), { serviceLevel: 'SEPA' }), /at least one instruction/);
    refused(
      () =>
        buildPain001(batch([{ ...ok, creditor: creditor({ name: ' \u0301 ', iban: 'DE89370400440532013000' }) }]), {
          serviceLevel: 'SEPA',
        }),
      /empty/,
    );
    refused(() => buildPain001(batch([ok], { executionDate: '2025-02-29' }), { serviceLevel: 'SEPA' }), /not a calendar date/);
    refused(() => buildPain001(batch([ok], { batchId: 'x'.repeat(36) }), { serviceLevel: 'SEPA' }), /1-35/);
    refused(() => buildPain001(batch([ok]), { serviceLevel: 'SEPA', categoryPurpose: 'TOOLONG' }), /categoryPurpose/);
  });

  it('maps identifiers one-for-one into the EPC rules', () => {
    assert.equal(epcIdentifier('id', 'pay_01hx'), 'pay-01hx');
    assert.equal(epcIdentifier('id', '/a//b/'), '-a/-b-');
    assert.equal(epcIdentifier('id', 'ok-ID:(1).2,+3'), 'ok-ID:(1).2,+3');
  });

  it('is deterministic', () => {
    const list = eurInstructions();
    assert.equal(buildPain001(batch(list), { serviceLevel: 'SEPA' }).content, buildPain001(batch(list), { serviceLevel: 'SEPA' }).content);
  });
});

// ---------------------------------------------------------------------------
// NACHA
// ---------------------------------------------------------------------------

describe('NACHA', () => {
  const usd = (n: number, amountMinor: bigint, c: Partial<Creditor> = {}, rem?: string): PaymentInstruction =>
    ins(n, 'USD', amountMinor, { aba: '011000015', accountNo: `0000${n}`, ...c }, rem);

  it('PPD/CCD credits: records, hashes, totals and blocks reconcile with the input', () => {
    const list = [
      usd(1, 9_999_999_999n, { name: AWKWARD, aba: '011000015', accountNo: '12345678901234567' }),
      usd(2, 1n, { name: LONG_NAME, aba: '021000021' }),
      usd(3, 123_45n, { name: QUOTES, aba: '122105278', accountNo: '9876-5432 10' }, ''),
      usd(4, 5_000_00n, { name: 'plain name', aba: '091000019' }),
    ];
    for (const secCode of ['PPD', 'CCD'] as const) {
      const file = buildNacha(batch(list, { fileIdModifier: 'B' }), { secCode });
      assert.equal(file.filename, 'bat_01hx0000000000000000000001.ach');
      assert.equal(file.controlSumMinor, sum(list));
      assert.equal(file.count, 4);
      const p = parseNacha(file.content);
      assert.equal(p.immediateDestination, '021000021');
      assert.equal(p.immediateOrigin, '1234567890');
      assert.equal(p.creationDate, '241231', 'Eastern Time');
      assert.equal(p.creationTime, '1830');
      assert.equal(p.fileIdModifier, 'B');
      assert.equal(p.batches.length, 1);
      const b = p.batches[0];
      assert.ok(b);
      assert.equal(b.secCode, secCode);
      assert.equal(b.serviceClass, '220');
      assert.equal(b.effectiveDate, '250102');
      assert.equal(b.companyId, '1234567890');
      assert.equal(b.companyName, 'OPENRAMP PAYOUTS');
      assert.equal(b.entryDescription, 'PAYOUT');
      assert.equal(b.totalCreditMinor, sum(list));
      assert.equal(b.totalDebitMinor, 0n);
      assert.equal(p.totalCreditMinor, sum(list));
      assert.equal(b.entryHash, (1100001n + 2100002n + 12210527n + 9100001n) % 10_000_000_000n);
      assert.deepEqual(
        b.entries.map((e) => [e.transactionCode, e.rdfiRouting, e.accountNo, e.amountMinor]),
        [
          ['22', '011000015', '12345678901234567', 9_999_999_999n],
          ['22', '021000021', '00002', 1n],
          ['22', '122105278', '9876543210', 123_45n],
          ['22', '091000019', '00004', 5_000_00n],
        ],
      );
      assert.equal(b.entries[0]?.name, 'JOSE MULLER & SON (LTD');
      assert.equal(b.entries[1]?.name.length, 22);
      assert.equal(b.entries[0]?.addenda, 'OPENRAMP PAYOUT 1');
      assert.equal(b.entries[2]?.addenda, null, 'empty remittance: no addenda');
      assert.equal(b.entries[0]?.identification, '000000000000001', 'tail of the endToEndId');
      assert.deepEqual(
        file.references.map((r) => r.reference),
        ['021000020000001', '021000020000002', '021000020000003', '021000020000004'],
      );
      assert.equal(p.entryAddendaCount, 7);
      // 1 + 1 + 4 entries + 3 addenda + 1 + 1 = 11 records → 2 blocks, 9 padding records.
      assert.equal(p.recordCount, 11);
      assert.equal(p.blockCount, 2);
      assert.equal(p.paddingRecords, 9);
    }
  });

  it('pads to whole blocks only when needed', () => {
    // 4 header/control records + 6 entries = 10 records: exactly one block.
    const list = [1, 2, 3, 4, 5, 6].map((n) => usd(n, BigInt(n)));
    const p = parseNacha(buildNacha(batch(list), { secCode: 'PPD', remittanceAddenda: false }).content);
    assert.equal(p.recordCount, 10);
    assert.equal(p.paddingRecords, 0);
    assert.equal(p.blockCount, 1);
  });

  it('refuses what the file cannot carry', () => {
    refused(() => buildNacha(batch([usd(1, 100n, { aba: '011000016' })]), { secCode: 'PPD' }), /ABA routing/);
    refused(() => buildNacha(batch([usd(1, 10_000_000_000n)]), { secCode: 'PPD' }), /maximum/);
    refused(() => buildNacha(batch([usd(1, 100_000_001n)], { sameDay: true }), { secCode: 'PPD' }), /maximum 100000000/);
    refused(() => buildNacha(batch([usd(1, 100n, { accountNo: 'x'.repeat(18) })]), { secCode: 'PPD' }), /1-17/);
    refused(() => buildNacha(batch([ins(1, 'EUR', 100n, { aba: '011000015' })]), { secCode: 'PPD' }), /cannot carry EUR/);
    refused(
      () => buildNacha(batch([usd(1, 100n)], { debtor: { ...DEBTOR, achOdfiRouting: '021000022' } }), { secCode: 'PPD' }),
      /checksum/,
    );
    refused(() => buildNacha(batch([usd(1, 100n)], { fileIdModifier: 'ab' }), { secCode: 'PPD' }), /fileIdModifier/);
    refused(() => buildNacha(batch([usd(1, 100n)], { debtor: without(DEBTOR, 'achCompanyId') }), { secCode: 'PPD' }), /achCompanyId/);
    // Same tail of endToEndId → same identification number: refused rather than ambiguous.
    refused(
      () => buildNacha(batch([usd(1, 1n), { ...usd(2, 1n), endToEndId: 'other_000000000000000000000001' }]), { secCode: 'PPD' }),
      /share the identification number/,
    );
  });
});

// ---------------------------------------------------------------------------
// CPA-005
// ---------------------------------------------------------------------------

describe('CPA-005', () => {
  const cad = (n: number, amountMinor: bigint, c: Partial<Creditor> = {}): PaymentInstruction =>
    ins(n, 'CAD', amountMinor, { institutionNumber: '003', transit: String(10000 + n), accountNo: `${1000000 + n}`, ...c });

  it('credit records of six segments, trailer totals and counts reconcile with the input', () => {
    const list = Array.from({ length: 13 }, (_, i) => cad(i + 1, BigInt(i * 1_000_00 + 1)));
    list[0] = cad(1, 9_999_999_999n, { name: AWKWARD, accountNo: '123456789012' });
    list[1] = cad(2, 1n, { name: LONG_NAME });
    list[2] = cad(3, 777n, { name: QUOTES });
    const file = buildCpa005(batch(list, { fileIdModifier: '42' }));
    assert.equal(file.filename, 'bat_01hx0000000000000000000001.cpa');
    assert.equal(file.controlSumMinor, sum(list));
    const p = parseCpa005(file.content);
    assert.equal(p.records, 5, 'A + 3 C records (6 + 6 + 1 segments) + Z');
    assert.equal(p.originatorId, '0123456789');
    assert.equal(p.fileCreationNumber, '0042');
    assert.equal(p.creationDate, '024366', '2024-12-31 18:30 in Toronto, day 366 of a leap year');
    assert.equal(p.destinationDataCentre, '00310');
    assert.equal(p.currency, 'CAD');
    assert.equal(p.totalCreditMinor, sum(list));
    assert.equal(p.creditCount, 13);
    assert.equal(p.debitCount, 0);
    assert.deepEqual(
      p.transactions.map((t) => t.amountMinor),
      list.map((x) => x.amountMinor),
    );
    const [t1, t2, t3] = p.transactions;
    assert.ok(t1 && t2 && t3);
    assert.equal(t1.recordType, 'C');
    assert.equal(t1.transactionType, '450');
    assert.equal(t1.dueDate, '025002');
    assert.equal(t1.institutionId, '000310001');
    assert.equal(t1.accountNo, '123456789012');
    assert.equal(t1.payeeName, 'JOSE MULLER & SON (LTD)');
    assert.equal(t1.originatorShortName, 'OPENRAMP PAYOUT');
    assert.equal(t1.originatorLongName, 'OPENRAMP PAYOUTS LTD');
    assert.equal(t1.originatorId, '0123456789');
    assert.equal(t1.crossReference, '0000000000000000001');
    assert.equal(t1.returnsInstitutionId, '000112345');
    assert.equal(t1.returnsAccountNo, '532013000');
    assert.equal(t1.sundry, 'OPENRAMP PAYOUT');
    assert.equal(t2.payeeName.length, 30);
    assert.match(t3.payeeName, /^O'BRIEN 'QUOTES' - AEROSKOBING/);
    assert.deepEqual(
      file.references.map((r) => r.reference),
      p.transactions.map((t) => t.crossReference),
    );
  });

  it('needs a file creation number from the caller, and refuses what it cannot carry', () => {
    refused(() => buildCpa005(batch([cad(1, 1n)])), /file creation number is required/);
    assert.equal(parseCpa005(buildCpa005(batch([cad(1, 1n)]), { fileCreationNumber: 9999 }).content).fileCreationNumber, '9999');
    refused(() => buildCpa005(batch([cad(1, 1n)]), { fileCreationNumber: 10000 }), /1-9999/);
    refused(() => buildCpa005(batch([cad(1, 10_000_000_000n)], { fileIdModifier: '1' })), /maximum/);
    refused(() => buildCpa005(batch([cad(1, 1n, { transit: '123' })], { fileIdModifier: '1' })), /5-digit transit/);
    refused(() => buildCpa005(batch([cad(1, 1n, { accountNo: '1234567890123' })], { fileIdModifier: '1' })), /1-12 digits/);
    refused(() => buildCpa005(batch([cad(1, 1n)], { fileIdModifier: '1', debtor: without(DEBTOR, 'cpaOriginatorId') })), /cpaOriginatorId/);
  });
});

// ---------------------------------------------------------------------------
// ABA
// ---------------------------------------------------------------------------

describe('ABA (Cemtex)', () => {
  const aud = (n: number, amountMinor: bigint, c: Partial<Creditor> = {}): PaymentInstruction =>
    ins(n, 'AUD', amountMinor, { bsb: '032-000', accountNo: `${100000 + n}`, ...c });

  it('detail and file total records reconcile with the input; CRLF line ends', () => {
    // Total exactly 99,999,999.99, the most the 10-digit file total can hold.
    const list = [
      aud(1, 9_999_999_997n, { name: AWKWARD, bsb: '062000', accountNo: '123456789' }),
      aud(2, 1n, { name: LONG_NAME, accountNo: '01234' }),
      aud(3, 1n, { name: QUOTES }),
    ];
    const file = buildAba(batch(list));
    assert.equal(file.filename, 'bat_01hx0000000000000000000001.aba');
    assert.ok(
      file.content
        .split('\r\n')
        .slice(0, -1)
        .every((l) => l.length === 120),
    );
    assert.equal(file.controlSumMinor, 9_999_999_999n);
    const p = parseAba(file.content);
    assert.equal(p.financialInstitution, 'CBA');
    assert.equal(p.userName, 'OpenRamp Pty Ltd');
    assert.equal(p.apcaNumber, '301500');
    assert.equal(p.description, 'PAYOUTS');
    assert.equal(p.processingDate, '020125');
    assert.equal(p.count, 3);
    assert.equal(p.creditTotalMinor, 9_999_999_999n);
    assert.equal(p.netTotalMinor, 9_999_999_999n);
    assert.equal(p.debitTotalMinor, 0n);
    assert.deepEqual(
      p.details.map((d) => [d.bsb, d.accountNo, d.transactionCode, d.amountMinor]),
      [
        ['062-000', '123456789', '50', 9_999_999_997n],
        ['032-000', '01234', '50', 1n],
        ['032-000', '100003', '50', 1n],
      ],
    );
    assert.equal(p.details[0]?.accountTitle, 'Jose Muller & Son (Ltd)');
    assert.equal(p.details[1]?.accountTitle.length, 32);
    assert.equal(p.details[0]?.lodgementReference, '000000000000000001');
    assert.equal(p.details[0]?.traceBsb, '062-000');
    assert.equal(p.details[0]?.traceAccountNo, '532013000');
    assert.equal(p.details[0]?.remitterName, 'OpenRamp Payouts');
    assert.equal(p.details[0]?.withholdingTaxMinor, 0n);
  });

  it('self-balancing files debit the total back: net zero', () => {
    const list = [aud(1, 9_999_999_998n), aud(2, 1n)];
    const file = buildAba(batch(list), { selfBalancing: true, description: 'OpenRamp AUD' });
    const p = parseAba(file.content);
    assert.equal(file.count, 2);
    assert.equal(p.count, 3);
    assert.equal(p.creditTotalMinor, 9_999_999_999n);
    assert.equal(p.debitTotalMinor, 9_999_999_999n);
    assert.equal(p.netTotalMinor, 0n);
    assert.deepEqual(p.details[2] && [p.details[2].transactionCode, p.details[2].bsb, p.details[2].accountNo], [
      '13',
      '062-000',
      '532013000',
    ]);
  });

  it('refuses what the file cannot carry', () => {
    refused(() => buildAba(batch([aud(1, 9_999_999_999n), aud(2, 1n)])), /file total/);
    refused(() => buildAba(batch([aud(1, 1n, { bsb: '12345' })])), /6-digit BSB/);
    refused(() => buildAba(batch([aud(1, 1n, { accountNo: '1234567890' })])), /1-9 digits/);
    refused(() => buildAba(batch([aud(1, 1n)], { debtor: { ...DEBTOR, abaApcaNumber: '12345' } })), /abaApcaNumber/);
  });
});

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

const anyText = fc.string({ unit: 'binary', maxLength: 60 });
const nameArb = fc.tuple(fc.constantFrom('A', 'é', 'Ø', 'z', '9'), anyText).map(([a, b]) => a + b);

function randomBatch(currency: PayoutCurrency, amounts: bigint[], names: string[], remits: string[], salt: string): FileBatch {
  const instructions = amounts.map((amountMinor, i): PaymentInstruction => {
    const id = `po_${salt}_${String(i).padStart(8, '0')}`;
    return {
      payoutId: id,
      endToEndId: id,
      amountMinor,
      currency,
      remittance: remits[i] ?? '',
      creditor: creditor({
        name: names[i] ?? 'X',
        iban: 'DE89370400440532013000',
        aba: ['011000015', '021000021', '122105278', '091000019'][i % 4] ?? null,
        accountNo: String(10_000_000 + i),
        bsb: '032-000',
        institutionNumber: '003',
        transit: '12345',
      }),
    };
  });
  return batch(instructions, { fileIdModifier: '7' });
}

const listArb = (max: bigint) =>
  fc.integer({ min: 1, max: 40 }).chain((n) =>
    fc.record({
      amounts: fc.array(fc.bigInt({ min: 1n, max }), { minLength: n, maxLength: n }),
      names: fc.array(nameArb, { minLength: n, maxLength: n }),
      remits: fc.array(anyText, { minLength: n, maxLength: n }),
      salt: fc.stringMatching(/^[a-z0-9]{6}$/),
    }),
  );

describe('properties: totals always reconcile, every record has its exact length', () => {
  it('NACHA', () => {
    fc.assert(
      fc.property(
        listArb(9_999_999_999n),
        fc.constantFrom('PPD', 'CCD'),
        fc.boolean(),
        ({ amounts, names, remits, salt }, secCode, addenda) => {
          const b = randomBatch('USD', amounts, names, remits, salt);
          const file = buildNacha(b, { secCode: secCode as 'PPD' | 'CCD', remittanceAddenda: addenda });
          const p = parseNacha(file.content); // checks lengths, sequence, hashes, blocks
          const entries = p.batches.flatMap((x) => x.entries);
          assert.deepEqual(
            entries.map((e) => e.amountMinor),
            amounts,
          );
          assert.equal(p.totalCreditMinor, sum(b.instructions));
          assert.equal(file.controlSumMinor, p.totalCreditMinor);
          assert.equal(file.count, entries.length);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('CPA-005', () => {
    fc.assert(
      fc.property(listArb(9_999_999_999n), ({ amounts, names, remits, salt }) => {
        const b = randomBatch('CAD', amounts, names, remits, salt);
        const file = buildCpa005(b);
        const p = parseCpa005(file.content);
        assert.deepEqual(
          p.transactions.map((t) => t.amountMinor),
          amounts,
        );
        assert.equal(p.totalCreditMinor, sum(b.instructions));
        assert.equal(p.creditCount, amounts.length);
        assert.equal(p.records, 2 + Math.ceil(amounts.length / 6));
        assert.equal(file.controlSumMinor, p.totalCreditMinor);
      }),
      { numRuns: 150 },
    );
  });

  it('ABA', () => {
    fc.assert(
      fc.property(listArb(9_999_999_999n / 40n), fc.boolean(), ({ amounts, names, remits, salt }, selfBalancing) => {
        const b = randomBatch('AUD', amounts, names, remits, salt);
        const file = buildAba(b, { selfBalancing });
        const p = parseAba(file.content);
        const credits = p.details.filter((d) => d.transactionCode === '50');
        assert.deepEqual(
          credits.map((d) => d.amountMinor),
          amounts,
        );
        assert.equal(p.creditTotalMinor, sum(b.instructions));
        assert.equal(p.debitTotalMinor, selfBalancing ? p.creditTotalMinor : 0n);
        assert.equal(p.count, amounts.length + (selfBalancing ? 1 : 0));
        assert.equal(file.controlSumMinor, p.creditTotalMinor);
      }),
      { numRuns: 150 },
    );
  });

  it('pain.001 (EUR): parses back, and random names still validate against the EPC XSD', { skip: XMLLINT_MISSING }, () => {
    let runs = 0;
    fc.assert(
      fc.property(listArb(99_999_999_999n), fc.boolean(), ({ amounts, names, remits, salt }, instant) => {
        const b = randomBatch('EUR', amounts, names, remits, salt);
        const file = buildPain001(b, { serviceLevel: 'SEPA', ...(instant ? { localInstrument: 'INST' } : {}) });
        const p = parsePain001(file.content);
        assert.deepEqual(
          p.paymentInfos.flatMap((x) => x.transactions.map((t) => t.amountMinor)),
          amounts,
        );
        assert.equal(p.ctrlSumMinor, sum(b.instructions));
        if (runs++ < 25) assert.deepEqual(xmllint(file.content, epcXsd()).errors, []);
      }),
      { numRuns: 100 },
    );
  });

  it('the parsers catch a tampered file', () => {
    const swap = (content: string, line: number, from: number, ch: string, eol: string): string => {
      const lines = content.split(eol);
      const l = lines[line] ?? '';
      lines[line] = l.slice(0, from - 1) + ch + l.slice(from);
      return lines.join(eol);
    };
    const usd = [1, 2, 3].map((n) => ins(n, 'USD', BigInt(n * 100), { aba: '011000015' }));
    const nacha = buildNacha(batch(usd), { secCode: 'PPD', remittanceAddenda: false }).content;
    assert.equal(parseNacha(nacha).paddingRecords, 3);
    assert.throws(() => parseNacha(swap(nacha, 2, 39, '9', '\n')), /total credits/); // an entry's amount
    assert.throws(() => parseNacha(swap(nacha, 2, 11, '2', '\n')), /check digit/); // an RDFI routing digit
    assert.throws(() => parseNacha(nacha.replace(`${'9'.repeat(94)}\n`, '')), /block/); // one padding record fewer
    assert.throws(() => parseNacha(swap(nacha, 0, 50, ' ', '\n').replace('\n', ' \n')), /94/);
    const cpa = buildCpa005(
      batch(
        [1, 2].map((n) => ins(n, 'CAD', BigInt(n), { institutionNumber: '003', transit: '12345', accountNo: '1234567' })),
        { fileIdModifier: '1' },
      ),
    ).content;
    parseCpa005(cpa);
    assert.throws(() => parseCpa005(swap(cpa, 2, 60, '9', '\r\n')), /credit total/);
    assert.throws(() => parseCpa005(swap(cpa, 1, 10, '7', '\r\n')), /out of sequence/);
    const aba = buildAba(batch([1, 2].map((n) => ins(n, 'AUD', BigInt(n), { bsb: '032000', accountNo: '123456' })))).content;
    parseAba(aba);
    assert.throws(() => parseAba(swap(aba, 1, 30, '9', '\r\n')), /total/);
    assert.throws(() => parseAba(aba.replace(/\r\n/g, '\n')), /must end with/);
    const xml = buildPain001(batch([ins(1, 'EUR', 100n, { iban: 'DE89370400440532013000' })]), { serviceLevel: 'SEPA' }).content;
    assert.throws(() => parsePain001(xml.replace('<CtrlSum>1.00</CtrlSum>', '<CtrlSum>1.01</CtrlSum>')), /CtrlSum/);
    assert.throws(() => parsePain001(xml.replace('>1.00</InstdAmt>', '>1.0</InstdAmt>')), /2 decimals/);
  });

  it('the XML reader used above rejects malformed input', () => {
    assert.throws(() => parseXml('<a><b></a></b>'));
    assert.throws(() => parseXml('<a>x < y</a>'));
    assert.throws(() => parseXml('<a>&bogus;</a>'));
  });
});
