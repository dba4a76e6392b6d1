/**
 * Reader for ABA (Cemtex / BECS direct entry) files of Australian banks: 120-character records, a
 * descriptive record, detail records and the file total record with its net, credit and debit totals.
 */
import { at, check, digits, splitRecords, validSixDigitDate } from './checks.ts';

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
  const lines = splitRecords(F, content, '\r\n', 120);
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
  check(validSixDigitDate(date, 'DDMMYY'), F, 'processing date must be DDMMYY');

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
