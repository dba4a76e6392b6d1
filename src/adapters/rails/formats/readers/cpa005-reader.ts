/**
 * Reader for CPA-005 (1464-byte) files of Payments Canada: logical record counts, the six
 * 240-byte segments of each C/D record, Julian due dates, and the Z trailer's totals and counts.
 */
import { at, check, digits, splitRecords } from './checks.ts';

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
  const lines = splitRecords(F, content, '\r\n', 1464);
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
