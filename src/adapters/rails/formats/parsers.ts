/**
 * Independent readers for the payment files OpenRamp writes (src/adapters/rails/formats/). They are
 * written from the published layouts, not from the generators (nothing is imported from them),
 * and they check as they read: every record's length, the record sequence, counts, control
 * totals and hash totals. Any violation throws a FormatViolation naming the record; a file that
 * parses is structurally sound, and the entries returned can be compared with the input.
 */

export class FormatViolation extends Error {
  constructor(format: string, message: string) {
    super(`${format}: ${message}`);
    this.name = 'FormatViolation';
  }
}

function check(cond: boolean, format: string, message: string): asserts cond {
  if (!cond) throw new FormatViolation(format, message);
}

/** Field by 1-based inclusive positions, as the published layouts number them. */
const at = (rec: string, from: number, to: number): string => rec.slice(from - 1, to);

function digits(format: string, what: string, s: string): bigint {
  check(/^[0-9]+$/.test(s), format, `${what} must be digits, got ${JSON.stringify(s)}`);
  return BigInt(s);
}

function splitLines(format: string, content: string, eol: '\n' | '\r\n'): string[] {
  check(content.endsWith(eol), format, `file must end with ${JSON.stringify(eol)}`);
  const lines = content.slice(0, -eol.length).split(eol);
  for (const [i, l] of lines.entries()) {
    check(!/[\r\n]/.test(l), format, `record ${i + 1} contains a stray line break`);
    check(/^[\x20-\x7E]*$/.test(l), format, `record ${i + 1} contains a character outside printable ASCII`);
  }
  return lines;
}

/** ABA routing number checksum: 3-7-1 weights, sum divisible by 10. */
function routingChecksumOk(nine: string): boolean {
  if (!/^[0-9]{9}$/.test(nine)) return false;
  const w = [3, 7, 1, 3, 7, 1, 3, 7, 1];
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(nine[i]) * (w[i] ?? 0);
  return sum % 10 === 0;
}

function validYymmdd(s: string): boolean {
  if (!/^[0-9]{6}$/.test(s)) return false;
  const m = Number(s.slice(2, 4));
  const d = Number(s.slice(4, 6));
  return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

// ===========================================================================
// NACHA
// ===========================================================================

export interface NachaEntry {
  transactionCode: string;
  rdfiRouting: string; // 9 digits, check digit included
  accountNo: string;
  amountMinor: bigint;
  identification: string;
  name: string;
  traceNumber: string;
  addenda: string | null;
}

export interface NachaBatch {
  serviceClass: string;
  companyName: string;
  companyId: string;
  secCode: string;
  entryDescription: string;
  effectiveDate: string;
  odfi: string;
  batchNumber: string;
  entries: NachaEntry[];
  entryAddendaCount: number;
  entryHash: bigint;
  totalDebitMinor: bigint;
  totalCreditMinor: bigint;
}

export interface NachaFile {
  immediateDestination: string;
  immediateOrigin: string;
  creationDate: string;
  creationTime: string;
  fileIdModifier: string;
  batches: NachaBatch[];
  blockCount: number;
  recordCount: number;
  paddingRecords: number;
  entryAddendaCount: number;
  entryHash: bigint;
  totalDebitMinor: bigint;
  totalCreditMinor: bigint;
}

const NACHA_CREDIT_CODES = new Set(['22', '23', '24', '32', '33', '34', '42', '43', '44', '52', '53', '54']);
const NACHA_DEBIT_CODES = new Set(['27', '28', '29', '37', '38', '39', '47', '48', '49', '55']);

export function parseNacha(content: string): NachaFile {
  const F = 'NACHA';
  const lines = splitLines(F, content, '\n');
  lines.forEach((l, i) => void check(l.length === 94, F, `record ${i + 1} is ${l.length} characters, not 94`));
  lines.forEach((l, i) => void check(l === l.toUpperCase(), F, `record ${i + 1} has lower-case letters`));
  check(lines.length % 10 === 0, F, `${lines.length} records is not a whole number of 10-record blocks`);

  let i = 0;
  const next = (): string => {
    const l = lines[i++];
    check(l !== undefined, F, 'file ends early');
    return l;
  };
  const peekType = (): string | undefined => lines[i]?.[0];

  const h = next();
  check(h[0] === '1', F, 'first record must be the file header (1)');
  check(at(h, 2, 3) === '01', F, 'priority code must be 01');
  const dest = at(h, 4, 13);
  check(
    /^ [0-9]{9}$/.test(dest) && routingChecksumOk(dest.slice(1)),
    F,
    `immediate destination ${JSON.stringify(dest)} must be a blank and a valid routing number`,
  );
  const origin = at(h, 14, 23);
  check(/^( [0-9]{9}|[A-Z0-9]{10})$/.test(origin), F, `immediate origin ${JSON.stringify(origin)} is malformed`);
  check(validYymmdd(at(h, 24, 29)), F, 'file creation date must be YYMMDD');
  check(/^([01][0-9]|2[0-3])[0-5][0-9]$/.test(at(h, 30, 33)), F, 'file creation time must be HHMM');
  check(/^[A-Z0-9]$/.test(at(h, 34, 34)), F, 'file id modifier must be A-Z or 0-9');
  check(at(h, 35, 37) === '094', F, 'record size must be 094');
  check(at(h, 38, 39) === '10', F, 'blocking factor must be 10');
  check(at(h, 40, 40) === '1', F, 'format code must be 1');

  const batches: NachaBatch[] = [];
  while (peekType() === '5') {
    const bh = next();
    const serviceClass = at(bh, 2, 4);
    check(['200', '220', '225'].includes(serviceClass), F, `service class ${serviceClass} unknown`);
    const secCode = at(bh, 51, 53);
    check(/^[A-Z]{3}$/.test(secCode), F, 'SEC code must be 3 letters');
    check(at(bh, 54, 63).trim() !== '', F, 'company entry description is required');
    check(validYymmdd(at(bh, 70, 75)), F, 'effective entry date must be YYMMDD');
    check(at(bh, 76, 78) === '   ', F, 'settlement date must be left blank for the ACH operator');
    check(at(bh, 79, 79) === '1', F, 'originator status code must be 1');
    const odfi = at(bh, 80, 87);
    digits(F, 'ODFI identification', odfi);
    const batchNumber = at(bh, 88, 94);
    digits(F, 'batch number', batchNumber);
    check(Number(batchNumber) === batches.length + 1, F, `batch number ${batchNumber} out of sequence`);

    const entries: NachaEntry[] = [];
    let records = 0;
    let hash = 0n;
    let debit = 0n;
    let credit = 0n;
    let lastSeq = 0n;
    while (peekType() === '6') {
      const e = next();
      records++;
      const code = at(e, 2, 3);
      const routing = at(e, 4, 12);
      check(routingChecksumOk(routing), F, `entry ${entries.length + 1}: RDFI routing ${routing} fails its check digit`);
      const account = at(e, 13, 29);
      check(
        account.trim() !== '' && /^[A-Z0-9]+ *$/.test(account),
        F,
        `entry ${entries.length + 1}: account number must be left-justified`,
      );
      const amount = digits(F, 'entry amount', at(e, 30, 39));
      const trace = at(e, 80, 94);
      digits(F, 'trace number', trace);
      check(trace.slice(0, 8) === odfi, F, `entry ${entries.length + 1}: trace number must start with the ODFI routing`);
      const seq = BigInt(trace.slice(8));
      check(seq > lastSeq, F, `entry ${entries.length + 1}: trace numbers must ascend`);
      lastSeq = seq;
      const indicator = at(e, 79, 79);
      check(indicator === '0' || indicator === '1', F, 'addenda record indicator must be 0 or 1');
      if (NACHA_CREDIT_CODES.has(code)) credit += amount;
      else if (NACHA_DEBIT_CODES.has(code)) debit += amount;
      else check(false, F, `entry ${entries.length + 1}: transaction code ${code} unknown`);
      check(serviceClass !== '220' || NACHA_CREDIT_CODES.has(code), F, 'a credits-only batch (220) holds a debit');
      hash += BigInt(routing.slice(0, 8));
      let addenda: string | null = null;
      if (indicator === '1') {
        const a = next();
        records++;
        check(a[0] === '7', F, `entry ${entries.length + 1} announces an addenda record that is missing`);
        check(at(a, 2, 3) === '05', F, 'addenda type must be 05');
        check(at(a, 84, 87) === '0001', F, 'addenda sequence number must be 0001');
        check(at(a, 88, 94) === trace.slice(8), F, 'addenda entry detail sequence number must match the trace number');
        addenda = at(a, 4, 83).trimEnd();
      }
      check(peekType() !== '7', F, 'an addenda record the entry does not announce');
      entries.push({
        transactionCode: code,
        rdfiRouting: routing,
        accountNo: account.trimEnd(),
        amountMinor: amount,
        identification: at(e, 40, 54).trimEnd(),
        name: at(e, 55, 76).trimEnd(),
        traceNumber: trace,
        addenda,
      });
    }
    check(entries.length > 0, F, `batch ${batchNumber} has no entries`);
    const bc = next();
    check(bc[0] === '8', F, `batch ${batchNumber} must end with a batch control record (8)`);
    check(at(bc, 2, 4) === serviceClass, F, 'batch control service class differs from the header');
    check(
      Number(digits(F, 'entry/addenda count', at(bc, 5, 10))) === records,
      F,
      `batch entry/addenda count ${at(bc, 5, 10)} ≠ ${records}`,
    );
    const entryHash = hash % 10_000_000_000n;
    check(digits(F, 'entry hash', at(bc, 11, 20)) === entryHash, F, `batch entry hash ${at(bc, 11, 20)} ≠ ${entryHash}`);
    check(digits(F, 'total debits', at(bc, 21, 32)) === debit, F, 'batch total debits do not add up');
    check(digits(F, 'total credits', at(bc, 33, 44)) === credit, F, 'batch total credits do not add up');
    check(at(bc, 45, 54) === at(bh, 41, 50), F, 'batch control company id differs from the header');
    check(at(bc, 80, 87) === odfi && at(bc, 88, 94) === batchNumber, F, 'batch control ODFI/batch number differ from the header');
    batches.push({
      serviceClass,
      companyName: at(bh, 5, 20).trimEnd(),
      companyId: at(bh, 41, 50).trimEnd(),
      secCode,
      entryDescription: at(bh, 54, 63).trimEnd(),
      effectiveDate: at(bh, 70, 75),
      odfi,
      batchNumber,
      entries,
      entryAddendaCount: records,
      entryHash,
      totalDebitMinor: debit,
      totalCreditMinor: credit,
    });
  }
  check(batches.length > 0, F, 'file has no batches');

  const fc = next();
  check(fc[0] === '9' && fc !== '9'.repeat(94), F, 'batches must be followed by the file control record (9)');
  const recordCount = i;
  const padding = lines.length - recordCount;
  check(padding < 10, F, `${padding} padding records: more than needed to fill the block`);
  for (let p = recordCount; p < lines.length; p++)
    check(lines[p] === '9'.repeat(94), F, `record ${p + 1} after the file control must be all 9s`);
  const sum = (f: (b: NachaBatch) => bigint): bigint => batches.reduce((s, b) => s + f(b), 0n);
  check(Number(digits(F, 'batch count', at(fc, 2, 7))) === batches.length, F, 'file batch count is wrong');
  const blockCount = Number(digits(F, 'block count', at(fc, 8, 13)));
  check(
    blockCount === lines.length / 10 && blockCount === Math.ceil(recordCount / 10),
    F,
    `block count ${blockCount} ≠ ${lines.length / 10}`,
  );
  const entryAddendaCount = batches.reduce((s, b) => s + b.entryAddendaCount, 0);
  check(Number(digits(F, 'entry/addenda count', at(fc, 14, 21))) === entryAddendaCount, F, 'file entry/addenda count is wrong');
  const fileHash = sum((b) => b.entryHash) % 10_000_000_000n;
  check(digits(F, 'entry hash', at(fc, 22, 31)) === fileHash, F, `file entry hash ${at(fc, 22, 31)} ≠ ${fileHash}`);
  const totalDebitMinor = sum((b) => b.totalDebitMinor);
  const totalCreditMinor = sum((b) => b.totalCreditMinor);
  check(digits(F, 'total debits', at(fc, 32, 43)) === totalDebitMinor, F, 'file total debits do not add up');
  check(digits(F, 'total credits', at(fc, 44, 55)) === totalCreditMinor, F, 'file total credits do not add up');
  check(at(fc, 56, 94).trim() === '', F, 'file control reserved field must be blank');

  return {
    immediateDestination: dest.trim(),
    immediateOrigin: origin,
    creationDate: at(h, 24, 29),
    creationTime: at(h, 30, 33),
    fileIdModifier: at(h, 34, 34),
    batches,
    blockCount,
    recordCount,
    paddingRecords: padding,
    entryAddendaCount,
    entryHash: fileHash,
    totalDebitMinor,
    totalCreditMinor,
  };
}

// ===========================================================================
// CPA-005 (1464)
// ===========================================================================

export interface CpaTransaction {
  recordType: 'C' | 'D';
  transactionType: string;
  amountMinor: bigint;
  dueDate: string; // 0YYDDD
  institutionId: string; // 0IIITTTTT
  accountNo: string;
  originatorShortName: string;
  payeeName: string;
  originatorLongName: string;
  originatorId: string;
  crossReference: string;
  returnsInstitutionId: string;
  returnsAccountNo: string;
  sundry: string;
}

export interface CpaFile {
  originatorId: string;
  fileCreationNumber: string;
  creationDate: string;
  destinationDataCentre: string;
  currency: string;
  records: number;
  transactions: CpaTransaction[];
  totalCreditMinor: bigint;
  creditCount: number;
  totalDebitMinor: bigint;
  debitCount: number;
}

function validJulian(s: string): boolean {
  if (!/^0[0-9]{5}$/.test(s)) return false;
  const yy = 2000 + Number(s.slice(1, 3));
  const ddd = Number(s.slice(3));
  const leap = (yy % 4 === 0 && yy % 100 !== 0) || yy % 400 === 0;
  return ddd >= 1 && ddd <= (leap ? 366 : 365);
}

export function parseCpa005(content: string): CpaFile {
  const F = 'CPA-005';
  const lines = splitLines(F, content, '\r\n');
  lines.forEach((l, i) => void check(l.length === 1464, F, `record ${i + 1} is ${l.length} characters, not 1464`));
  check(lines.length >= 3, F, 'a file needs a header, at least one detail record and a trailer');
  lines.forEach(
    (l, i) =>
      void check(
        at(l, 2, 10) === String(i + 1).padStart(9, '0'),
        F,
        `record ${i + 1}: logical record count ${at(l, 2, 10)} out of sequence`,
      ),
  );

  const a = lines[0] ?? '';
  check(a[0] === 'A', F, 'first record must be the header (A)');
  const control = at(a, 11, 24);
  check(
    /^[A-Z0-9 ]{10}[0-9]{4}$/.test(control) && at(a, 11, 20).trim() !== '',
    F,
    'origination control data must be an originator id and a 4-digit file creation number',
  );
  check(at(a, 21, 24) !== '0000', F, 'file creation number must not be 0000');
  check(validJulian(at(a, 25, 30)), F, 'creation date must be 0YYDDD');
  digits(F, 'destination data centre', at(a, 31, 35));
  check(at(a, 36, 55).trim() === '', F, 'reserved communication area must be blank');
  const currency = at(a, 56, 58);
  check(currency === 'CAD' || currency === 'USD', F, `currency ${currency} must be CAD or USD`);
  check(at(a, 59, 1464).trim() === '', F, 'header filler must be blank');

  const transactions: CpaTransaction[] = [];
  let credit = 0n;
  let debit = 0n;
  let creditCount = 0;
  let debitCount = 0;
  for (let r = 1; r < lines.length - 1; r++) {
    const rec = lines[r] ?? '';
    const type = rec[0];
    check(type === 'C' || type === 'D', F, `record ${r + 1}: type ${type} (only C and D records between A and Z)`);
    check(at(rec, 11, 24) === control, F, `record ${r + 1}: origination control data differs from the header`);
    let blankSeen = false;
    let used = 0;
    for (let s = 0; s < 6; s++) {
      const seg = rec.slice(24 + s * 240, 24 + (s + 1) * 240);
      if (seg.trim() === '') {
        blankSeen = true;
        continue;
      }
      check(!blankSeen, F, `record ${r + 1}: segment ${s + 1} follows a blank segment`);
      used++;
      const f = (from: number, to: number): string => seg.slice(from - 1, to);
      const where = `record ${r + 1} segment ${s + 1}`;
      check(/^[0-9]{3}$/.test(f(1, 3)), F, `${where}: transaction type must be 3 digits`);
      const amount = digits(F, `${where} amount`, f(4, 13));
      check(amount > 0n, F, `${where}: amount must be positive`);
      check(validJulian(f(14, 19)), F, `${where}: due date must be 0YYDDD`);
      check(/^0[0-9]{8}$/.test(f(20, 28)), F, `${where}: institution id must be 0IIITTTTT`);
      check(/^[0-9]+ *$/.test(f(29, 40)), F, `${where}: account number must be left-justified digits`);
      check(f(41, 62) === '0'.repeat(22) && f(63, 65) === '000', F, `${where}: item trace / stored transaction type must be zeros`);
      check(f(81, 110).trim() !== '', F, `${where}: payee name is required`);
      check(f(141, 150) === at(a, 11, 20), F, `${where}: originator's user id must be the originator id`);
      check(/^0[0-9]{8}$/.test(f(170, 178)), F, `${where}: returns institution id must be 0IIITTTTT`);
      check(f(206, 229).trim() === '', F, `${where}: filler and settlement code must be blank`);
      check(f(230, 240) === '0'.repeat(11), F, `${where}: invalid data element id must be zeros`);
      if (type === 'C') {
        credit += amount;
        creditCount++;
      } else {
        debit += amount;
        debitCount++;
      }
      transactions.push({
        recordType: type,
        transactionType: f(1, 3),
        amountMinor: amount,
        dueDate: f(14, 19),
        institutionId: f(20, 28),
        accountNo: f(29, 40).trimEnd(),
        originatorShortName: f(66, 80).trimEnd(),
        payeeName: f(81, 110).trimEnd(),
        originatorLongName: f(111, 140).trimEnd(),
        originatorId: f(141, 150).trimEnd(),
        crossReference: f(151, 169).trimEnd(),
        returnsInstitutionId: f(170, 178),
        returnsAccountNo: f(179, 190).trimEnd(),
        sundry: f(191, 205).trimEnd(),
      });
    }
    check(used > 0, F, `record ${r + 1} holds no transaction`);
  }

  const z = lines[lines.length - 1] ?? '';
  check(z[0] === 'Z', F, 'last record must be the trailer (Z)');
  check(at(z, 11, 24) === control, F, 'trailer origination control data differs from the header');
  check(digits(F, 'total debit value', at(z, 25, 38)) === debit, F, `trailer debit total ${at(z, 25, 38)} ≠ ${debit}`);
  check(Number(digits(F, 'debit count', at(z, 39, 46))) === debitCount, F, 'trailer debit count is wrong');
  check(digits(F, 'total credit value', at(z, 47, 60)) === credit, F, `trailer credit total ${at(z, 47, 60)} ≠ ${credit}`);
  check(Number(digits(F, 'credit count', at(z, 61, 68))) === creditCount, F, `trailer credit count ${at(z, 61, 68)} ≠ ${creditCount}`);
  check(at(z, 69, 112) === '0'.repeat(44), F, 'error correction totals must be zero (no E/F records)');
  check(at(z, 113, 1464).trim() === '', F, 'trailer filler must be blank');

  return {
    originatorId: at(a, 11, 20).trimEnd(),
    fileCreationNumber: at(a, 21, 24),
    creationDate: at(a, 25, 30),
    destinationDataCentre: at(a, 31, 35),
    currency,
    records: lines.length,
    transactions,
    totalCreditMinor: credit,
    creditCount,
    totalDebitMinor: debit,
    debitCount,
  };
}

// ===========================================================================
// ABA (Cemtex)
// ===========================================================================

export interface AbaDetail {
  bsb: string;
  accountNo: string;
  indicator: string;
  transactionCode: string;
  amountMinor: bigint;
  accountTitle: string;
  lodgementReference: string;
  traceBsb: string;
  traceAccountNo: string;
  remitterName: string;
  withholdingTaxMinor: bigint;
}

export interface AbaFile {
  financialInstitution: string;
  userName: string;
  apcaNumber: string;
  description: string;
  processingDate: string;
  details: AbaDetail[];
  netTotalMinor: bigint;
  creditTotalMinor: bigint;
  debitTotalMinor: bigint;
  count: number;
}

const ABA_DEBIT_CODES = new Set(['13']);
const ABA_CREDIT_CODES = new Set(['50', '51', '52', '53', '54', '55', '56', '57']);

export function parseAba(content: string): AbaFile {
  const F = 'ABA';
  const lines = splitLines(F, content, '\r\n');
  lines.forEach((l, i) => void check(l.length === 120, F, `record ${i + 1} is ${l.length} characters, not 120`));
  check(lines.length >= 3, F, 'a file needs a descriptive record, a detail record and a file total record');

  const h = lines[0] ?? '';
  check(h[0] === '0', F, 'first record must be the descriptive record (0)');
  check(
    at(h, 2, 18).trim() === '' && at(h, 24, 30).trim() === '' && at(h, 81, 120).trim() === '',
    F,
    'descriptive record blank fields must be blank',
  );
  check(at(h, 19, 20) === '01', F, 'reel sequence number must be 01');
  check(/^[A-Z]{3}$/.test(at(h, 21, 23)), F, 'financial institution must be a 3-letter abbreviation');
  check(at(h, 31, 56).trim() !== '', F, 'user name is required');
  check(/^[0-9]{6}$/.test(at(h, 57, 62)), F, 'APCA user number must be 6 digits');
  const date = at(h, 75, 80);
  check(
    /^[0-9]{6}$/.test(date) &&
      Number(date.slice(0, 2)) >= 1 &&
      Number(date.slice(0, 2)) <= 31 &&
      Number(date.slice(2, 4)) >= 1 &&
      Number(date.slice(2, 4)) <= 12,
    F,
    'processing date must be DDMMYY',
  );

  const details: AbaDetail[] = [];
  let credit = 0n;
  let debit = 0n;
  for (let r = 1; r < lines.length - 1; r++) {
    const d = lines[r] ?? '';
    const where = `record ${r + 1}`;
    check(d[0] === '1', F, `${where}: only detail records (1) between the descriptive and file total records`);
    check(/^[0-9]{3}-[0-9]{3}$/.test(at(d, 2, 8)), F, `${where}: BSB must be XXX-XXX`);
    check(
      /^ *[0-9A-Za-z-]+$/.test(at(d, 9, 17)) && !/^[ 0]+$/.test(at(d, 9, 17)),
      F,
      `${where}: account number must be right-justified, not blank or zeros`,
    );
    check([' ', 'N', 'W', 'X', 'Y'].includes(at(d, 18, 18)), F, `${where}: indicator must be blank, N, W, X or Y`);
    const code = at(d, 19, 20);
    const amount = digits(F, `${where} amount`, at(d, 21, 30));
    if (ABA_CREDIT_CODES.has(code)) credit += amount;
    else if (ABA_DEBIT_CODES.has(code)) debit += amount;
    else check(false, F, `${where}: transaction code ${code} unknown`);
    check(at(d, 31, 62).trim() !== '', F, `${where}: title of account is required`);
    check(at(d, 63, 80).trim() !== '', F, `${where}: lodgement reference is required`);
    check(/^[0-9]{3}-[0-9]{3}$/.test(at(d, 81, 87)), F, `${where}: trace BSB must be XXX-XXX`);
    check(/^ *[0-9A-Za-z-]+$/.test(at(d, 88, 96)), F, `${where}: trace account must be right-justified`);
    check(at(d, 97, 112).trim() !== '', F, `${where}: remitter name is required`);
    details.push({
      bsb: at(d, 2, 8),
      accountNo: at(d, 9, 17).trim(),
      indicator: at(d, 18, 18),
      transactionCode: code,
      amountMinor: amount,
      accountTitle: at(d, 31, 62).trimEnd(),
      lodgementReference: at(d, 63, 80).trimEnd(),
      traceBsb: at(d, 81, 87),
      traceAccountNo: at(d, 88, 96).trim(),
      remitterName: at(d, 97, 112).trimEnd(),
      withholdingTaxMinor: digits(F, `${where} withholding tax`, at(d, 113, 120)),
    });
  }

  const t = lines[lines.length - 1] ?? '';
  check(t[0] === '7', F, 'last record must be the file total record (7)');
  check(at(t, 2, 8) === '999-999', F, 'file total BSB filler must be 999-999');
  check(
    at(t, 9, 20).trim() === '' && at(t, 51, 74).trim() === '' && at(t, 81, 120).trim() === '',
    F,
    'file total blank fields must be blank',
  );
  const net = credit >= debit ? credit - debit : debit - credit;
  check(digits(F, 'net total', at(t, 21, 30)) === net, F, `net total ${at(t, 21, 30)} ≠ ${net}`);
  check(digits(F, 'credit total', at(t, 31, 40)) === credit, F, `credit total ${at(t, 31, 40)} ≠ ${credit}`);
  check(digits(F, 'debit total', at(t, 41, 50)) === debit, F, `debit total ${at(t, 41, 50)} ≠ ${debit}`);
  check(
    Number(digits(F, 'record count', at(t, 75, 80))) === details.length,
    F,
    `count ${at(t, 75, 80)} ≠ ${details.length} detail records`,
  );

  return {
    financialInstitution: at(h, 21, 23),
    userName: at(h, 31, 56).trimEnd(),
    apcaNumber: at(h, 57, 62),
    description: at(h, 63, 74).trimEnd(),
    processingDate: date,
    details,
    netTotalMinor: net,
    creditTotalMinor: credit,
    debitTotalMinor: debit,
    count: details.length,
  };
}

// ===========================================================================
// pain.001 (a small, strict XML reader; enough for well-formed generated files)
// ===========================================================================

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    const v = ENTITIES[e];
    if (v === undefined) throw new FormatViolation('XML', `unknown entity ${m}`);
    return v;
  });
}

export function parseXml(xml: string): XmlElement {
  const F = 'XML';
  let pos = 0;
  const skipMisc = (): void => {
    for (;;) {
      const ws = /^\s*/.exec(xml.slice(pos));
      pos += ws?.[0].length ?? 0;
      if (xml.startsWith('<?', pos)) {
        const end = xml.indexOf('?>', pos);
        check(end >= 0, F, 'unterminated processing instruction');
        pos = end + 2;
      } else if (xml.startsWith('<!--', pos)) {
        const end = xml.indexOf('-->', pos);
        check(end >= 0, F, 'unterminated comment');
        pos = end + 3;
      } else return;
    }
  };
  const element = (): XmlElement => {
    const m = /^<([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/.exec(xml.slice(pos));
    check(m !== null, F, `expected a start tag at offset ${pos}`);
    pos += m[0].length;
    const name = m[1] ?? '';
    const attrs: Record<string, string> = {};
    for (const am of (m[2] ?? '').matchAll(/([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
      const key = am[1] ?? '';
      check(!(key in attrs), F, `duplicate attribute ${key} on <${name}>`);
      attrs[key] = decodeEntities(am[2] ?? am[3] ?? '');
    }
    const el: XmlElement = { name, attrs, children: [], text: '' };
    if (m[3] === '/') return el;
    let text = '';
    for (;;) {
      const lt = xml.indexOf('<', pos);
      check(lt >= 0, F, `<${name}> is not closed`);
      text += xml.slice(pos, lt);
      pos = lt;
      if (xml.startsWith('</', pos)) {
        const close = /^<\/([A-Za-z_][\w.-]*)\s*>/.exec(xml.slice(pos));
        check(close !== null && close[1] === name, F, `</${close?.[1] ?? '?'}> closes <${name}>`);
        pos += close[0].length;
        break;
      }
      if (xml.startsWith('<!--', pos)) {
        skipMisc();
        continue;
      }
      el.children.push(element());
    }
    check(!/[<>]/.test(text) && !/&(?!(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);)/.test(text), F, `<${name}> holds unescaped markup characters`);
    el.text = decodeEntities(text);
    check(el.children.length === 0 || el.text.trim() === '', F, `<${name}> mixes text and elements`);
    return el;
  };
  skipMisc();
  const root = element();
  skipMisc();
  check(pos === xml.length, F, 'content after the root element');
  return root;
}

const kids = (el: XmlElement, name: string): XmlElement[] => el.children.filter((c) => c.name === name);

function one(el: XmlElement, path: string): XmlElement {
  let cur = el;
  for (const name of path.split('/')) {
    const found = kids(cur, name);
    check(found.length === 1, 'pain.001', `<${cur.name}> must hold exactly one <${name}> (has ${found.length})`);
    cur = found[0] as XmlElement;
  }
  return cur;
}

function opt(el: XmlElement, path: string): XmlElement | null {
  let cur: XmlElement | undefined = el;
  for (const name of path.split('/')) {
    cur = kids(cur, name)[0];
    if (cur === undefined) return null;
  }
  return cur;
}

/** Amount with exactly two decimals → minor units. */
function amount2(what: string, s: string): bigint {
  check(/^(0|[1-9][0-9]*)\.[0-9]{2}$/.test(s), 'pain.001', `${what} ${JSON.stringify(s)} must have exactly 2 decimals`);
  return BigInt(s.replace('.', ''));
}

export interface PainTransaction {
  instrId: string | null;
  endToEndId: string;
  amountMinor: bigint;
  currency: string;
  creditorBic: string | null;
  creditorName: string;
  creditorCountry: string | null;
  creditorAddressLines: string[];
  creditorIban: string | null;
  creditorOtherId: string | null;
  remittance: string | null;
}

export interface PainPaymentInfo {
  pmtInfId: string;
  nbOfTxs: number;
  ctrlSumMinor: bigint;
  serviceLevel: string | null;
  localInstrument: string | null;
  categoryPurpose: string | null;
  executionDate: string;
  debtorName: string;
  debtorIban: string | null;
  debtorOtherId: string | null;
  debtorBic: string | null;
  transactions: PainTransaction[];
}

export interface PainFile {
  msgId: string;
  creDtTm: string;
  nbOfTxs: number;
  ctrlSumMinor: bigint;
  initiatingPartyName: string | null;
  paymentInfos: PainPaymentInfo[];
}

/** EPC SEPA basic Latin set (what every text node must be restricted to). */
const EPC_TEXT = /^[A-Za-z0-9/\-?:().,'+ ]*$/;

function epcIdOk(s: string): boolean {
  return (
    s.length >= 1 && s.length <= 35 && /^[A-Za-z0-9/\-?:().,'+]+$/.test(s) && !s.startsWith('/') && !s.endsWith('/') && !s.includes('//')
  );
}

export function parsePain001(xml: string): PainFile {
  const F = 'pain.001';
  check(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>'), F, 'must start with the UTF-8 XML declaration');
  const doc = parseXml(xml);
  check(doc.name === 'Document', F, 'root element must be <Document>');
  check(doc.attrs.xmlns === 'urn:iso:std:iso:20022:tech:xsd:pain.001.001.09', F, 'namespace must be pain.001.001.09');
  const walk = (el: XmlElement): void => {
    if (el.children.length === 0)
      check(EPC_TEXT.test(el.text), F, `<${el.name}> text ${JSON.stringify(el.text)} leaves the EPC character set`);
    el.children.forEach(walk);
  };
  walk(doc);

  const root = one(doc, 'CstmrCdtTrfInitn');
  const gh = one(root, 'GrpHdr');
  const msgId = one(gh, 'MsgId').text;
  check(epcIdOk(msgId), F, `MsgId ${JSON.stringify(msgId)} breaks the EPC identifier rules`);
  const creDtTm = one(gh, 'CreDtTm').text;
  check(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/.test(creDtTm), F, 'CreDtTm must be an ISO date-time');
  const nbOfTxs = Number(one(gh, 'NbOfTxs').text);
  const ctrlSumMinor = amount2('GrpHdr/CtrlSum', one(gh, 'CtrlSum').text);

  const e2e = new Set<string>();
  const paymentInfos = kids(root, 'PmtInf').map((pi): PainPaymentInfo => {
    check(one(pi, 'PmtMtd').text === 'TRF', F, 'PmtMtd must be TRF');
    const transactions = kids(pi, 'CdtTrfTxInf').map((tx): PainTransaction => {
      const endToEndId = one(tx, 'PmtId/EndToEndId').text;
      check(epcIdOk(endToEndId), F, `EndToEndId ${JSON.stringify(endToEndId)} breaks the EPC identifier rules`);
      check(!e2e.has(endToEndId), F, `EndToEndId ${endToEndId} is not unique`);
      e2e.add(endToEndId);
      const instd = one(tx, 'Amt/InstdAmt');
      const currency = instd.attrs.Ccy ?? '';
      check(/^[A-Z]{3}$/.test(currency), F, 'InstdAmt needs a Ccy');
      const amountMinor = amount2('InstdAmt', instd.text);
      check(amountMinor > 0n, F, 'InstdAmt must be positive');
      const name = one(tx, 'Cdtr/Nm').text;
      check(name.length >= 1 && name.length <= 70, F, `Cdtr/Nm must be 1-70 characters (${name.length})`);
      const ustrd = opt(tx, 'RmtInf/Ustrd')?.text ?? null;
      check(ustrd === null || (ustrd.length >= 1 && ustrd.length <= 140), F, 'Ustrd must be 1-140 characters');
      const adr = opt(tx, 'Cdtr/PstlAdr');
      const lines = adr === null ? [] : kids(adr, 'AdrLine').map((l) => l.text);
      check(lines.length <= 2 && lines.every((l) => l.length >= 1 && l.length <= 70), F, 'at most 2 AdrLine of 1-70 characters');
      return {
        instrId: opt(tx, 'PmtId/InstrId')?.text ?? null,
        endToEndId,
        amountMinor,
        currency,
        creditorBic: opt(tx, 'CdtrAgt/FinInstnId/BICFI')?.text ?? null,
        creditorName: name,
        creditorCountry: opt(tx, 'Cdtr/PstlAdr/Ctry')?.text ?? null,
        creditorAddressLines: lines,
        creditorIban: opt(tx, 'CdtrAcct/Id/IBAN')?.text ?? null,
        creditorOtherId: opt(tx, 'CdtrAcct/Id/Othr/Id')?.text ?? null,
        remittance: ustrd,
      };
    });
    check(transactions.length > 0, F, 'a PmtInf needs at least one CdtTrfTxInf');
    const pmtInfNb = Number(one(pi, 'NbOfTxs').text);
    check(pmtInfNb === transactions.length, F, `PmtInf/NbOfTxs ${pmtInfNb} ≠ ${transactions.length}`);
    const pmtInfSum = amount2('PmtInf/CtrlSum', one(pi, 'CtrlSum').text);
    const sum = transactions.reduce((s, t) => s + t.amountMinor, 0n);
    check(pmtInfSum === sum, F, `PmtInf/CtrlSum ${pmtInfSum} ≠ ${sum}`);
    const debtorName = one(pi, 'Dbtr/Nm').text;
    check(debtorName.length >= 1 && debtorName.length <= 70, F, 'Dbtr/Nm must be 1-70 characters');
    return {
      pmtInfId: one(pi, 'PmtInfId').text,
      nbOfTxs: pmtInfNb,
      ctrlSumMinor: pmtInfSum,
      serviceLevel: opt(pi, 'PmtTpInf/SvcLvl/Cd')?.text ?? null,
      localInstrument: opt(pi, 'PmtTpInf/LclInstrm/Cd')?.text ?? null,
      categoryPurpose: opt(pi, 'PmtTpInf/CtgyPurp/Cd')?.text ?? null,
      executionDate: one(pi, 'ReqdExctnDt/Dt').text,
      debtorName,
      debtorIban: opt(pi, 'DbtrAcct/Id/IBAN')?.text ?? null,
      debtorOtherId: opt(pi, 'DbtrAcct/Id/Othr/Id')?.text ?? null,
      debtorBic: opt(pi, 'DbtrAgt/FinInstnId/BICFI')?.text ?? null,
      transactions,
    };
  });
  check(paymentInfos.length > 0, F, 'at least one PmtInf');
  const all = paymentInfos.flatMap((p) => p.transactions);
  check(nbOfTxs === all.length, F, `GrpHdr/NbOfTxs ${nbOfTxs} ≠ ${all.length}`);
  const total = all.reduce((s, t) => s + t.amountMinor, 0n);
  check(ctrlSumMinor === total, F, `GrpHdr/CtrlSum ${ctrlSumMinor} ≠ ${total}`);
  return { msgId, creDtTm, nbOfTxs, ctrlSumMinor, initiatingPartyName: opt(gh, 'InitgPty/Nm')?.text ?? null, paymentInfos };
}
