/**
 * Reader for NACHA ACH files (94-character records, blocks of 10): record sequence, routing check
 * digits, trace numbers, batch and file controls, entry hashes and padding.
 */
import { at, check, digits, splitRecords, validSixDigitDate } from './checks.ts';

/** ABA routing number checksum: 3-7-1 weights, sum divisible by 10. */
function routingChecksumOk(nine: string): boolean {
  if (!/^[0-9]{9}$/.test(nine)) return false;
  const w = [3, 7, 1, 3, 7, 1, 3, 7, 1];
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(nine[i]) * (w[i] ?? 0);
  return sum % 10 === 0;
}

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
  const lines = splitRecords(F, content, '\n', 94);
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
  check(validSixDigitDate(at(h, 24, 29), 'YYMMDD'), F, 'file creation date must be YYMMDD');
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
    check(validSixDigitDate(at(bh, 70, 75), 'YYMMDD'), F, 'effective entry date must be YYMMDD');
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
