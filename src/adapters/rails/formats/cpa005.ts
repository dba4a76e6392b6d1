/**
 * Payments Canada CPA Standard 005 (AFT, 1464-byte format) for CAD payouts (docs/rails.md): credit
 * ("C") records only. Logical records of 1464 characters, each ended by "\r\n". Numeric fields
 * right-justified and zero-filled, alphanumeric fields left-justified and blank-filled, upper-case
 * ASCII. Positions are 1-based and inclusive.
 *
 * Header "A" record
 *     1     1  Logical record type id "A"
 *     2- 10 9  Logical record count "000000001"
 *    11- 20 10 Originator's id (assigned by the direct clearer)
 *    21- 24 4  File creation number (must change from file to file)
 *    25- 30 6  Creation date 0YYDDD (Toronto time, from createdAt)
 *    31- 35 5  Destination data centre
 *    36- 55 20 Reserved customer-direct clearer communication area (blank)
 *    56- 58 3  Currency code identifier "CAD"
 *    59-1464   Filler (blank)
 *
 * Credit "C" record: segment 0 (positions 1-24) then six 240-character transaction segments at
 * 25, 265, 505, 745, 985 and 1225. A record holds up to six payouts; segments after the last
 * payout of the file are blank (spaces), and no blank segment precedes a used one.
 *     1     1  Logical record type id "C"
 *     2- 10 9  Logical record count (sequential from the header's 1)
 *    11- 20 10 Originator's id      } origination control data,
 *    21- 24 4  File creation number } same as the header
 *   Segment (offsets within it, 1-based; record positions for segment 1 in brackets)
 *     1-  3 3  Transaction type, e.g. 450 miscellaneous payments                 [25-27]
 *     4- 13 10 Amount in cents                                                     [28-37]
 *    14- 19 6  Date funds to be available 0YYDDD (executionDate)                   [38-43]
 *    20- 28 9  Institutional identification number 0IIITTTTT (payee's bank)       [44-52]
 *    29- 40 12 Payee account number                                                [53-64]
 *    41- 62 22 Item trace number (zeros; assigned by the direct clearer)           [65-86]
 *    63- 65 3  Stored transaction type (zeros)                                     [87-89]
 *    66- 80 15 Originator's short name                                             [90-104]
 *    81-110 30 Payee name                                                          [105-134]
 *   111-140 30 Originator's long name                                              [135-164]
 *   141-150 10 Originating direct clearer's user's id (the originator's id)        [165-174]
 *   151-169 19 Originator's cross reference number (tail of the endToEndId)        [175-193]
 *   170-178 9  Institutional id number for returns 0IIITTTTT                       [194-202]
 *   179-190 12 Account number for returns                                          [203-214]
 *   191-205 15 Originator's sundry information (remittance, truncated)             [215-229]
 *   206-227 22 Filler (blank)                                                      [230-251]
 *   228-229 2  Originator-direct clearer settlement code (blank)                   [252-253]
 *   230-240 11 Invalid data element id (zeros)                                     [254-264]
 *
 * Trailer "Z" record
 *     1     1  Logical record type id "Z"
 *     2- 10 9  Logical record count
 *    11- 24 14 Origination control data (originator's id + file creation number)
 *    25- 38 14 Total value of debit transactions ("D")
 *    39- 46 8  Total number of debit transactions
 *    47- 60 14 Total value of credit transactions ("C")
 *    61- 68 8  Total number of credit transactions (payouts, i.e. used segments)
 *    69- 82 14 Total value of error corrections "E"
 *    83- 90 8  Total number of error corrections "E"
 *    91-104 14 Total value of error corrections "F"
 *   105-112 8  Total number of error corrections "F"
 *   113-1464   Filler (blank)
 *
 * The file creation number is a per-file sequence the bank checks for duplicates, so it must come
 * from the caller: `opts.fileCreationNumber`, or `batch.fileIdModifier` when that is 1-4 digits.
 */
import {
  alpha,
  assertRecordLengths,
  checkBatch,
  dayOfYear,
  fileName,
  formatError,
  numeric,
  parseIsoDate,
  requiredText,
  restrictText,
  tailReferences,
  UPPER_ASCII,
  zonedDateTime,
  type CalendarDate,
} from './common.ts';
import type { FileBatch, PaymentFile, PayoutCurrency } from './types.ts';

const FORMAT = 'CPA-005';
export const CPA005_RECORD_LENGTH = 1464;
const SEGMENT_LENGTH = 240;
const SEGMENTS_PER_RECORD = 6;

/** Amount field is 10 digits of cents. */
export const CPA005_MAX_AMOUNT_MINOR = 9_999_999_999n;

export interface Cpa005Options {
  /** 1-9999; defaults to `batch.fileIdModifier` read as a number. */
  fileCreationNumber?: number;
  /** CPA transaction type code (3 digits); default 450, miscellaneous payments. */
  transactionType?: string;
}

export function buildCpa005<C extends PayoutCurrency>(batch: FileBatch<C>, opts: Cpa005Options = {}): PaymentFile<C> {
  const { totalMinor } = checkBatch(FORMAT, batch, {
    currencies: ['CAD'],
    maxAmountMinor: CPA005_MAX_AMOUNT_MINOR,
    maxCount: 99_999_999, // 8-digit count of credit transactions
  });
  const d = batch.debtor;

  const originatorId = (d.cpaOriginatorId ?? '').trim().toUpperCase();
  if (!/^[A-Z0-9]{1,10}$/.test(originatorId)) throw formatError(FORMAT, 'debtor cpaOriginatorId must be 1-10 letters or digits');
  const dataCentre = d.cpaDestinationDataCentre ?? '';
  if (!/^[0-9]{1,5}$/.test(dataCentre)) throw formatError(FORMAT, 'debtor cpaDestinationDataCentre must be 1-5 digits');
  const fcn = fileCreationNumber(batch, opts);
  const transactionType = opts.transactionType ?? '450';
  if (!/^[0-9]{3}$/.test(transactionType)) throw formatError(FORMAT, `transactionType must be 3 digits (got "${transactionType}")`);
  const returnsInstitution = institutionTransit('debtor cpaInstitution/cpaTransit', d.cpaInstitution ?? null, d.cpaTransit ?? null);
  const returnsAccount = accountNumber('debtor accountNo', d.accountNo);

  const created = zonedDateTime(FORMAT, batch.createdAt, 'America/Toronto');
  const due = parseIsoDate(FORMAT, 'executionDate', batch.executionDate);
  const originatorLong = requiredText(FORMAT, 'debtor name', d.name, UPPER_ASCII, 30);
  const originatorShort = alpha(originatorLong, 15).trimEnd();
  const crossRefs = tailReferences(FORMAT, 'cross reference number', batch, UPPER_ASCII, 19);
  const control = alpha(originatorId, 10) + fcn;

  const records: string[] = [];
  const pushRecord = (r: string): void => {
    records.push(r.padEnd(CPA005_RECORD_LENGTH, ' '));
  };
  const recordCount = (): string => numeric(FORMAT, 'logical record count', records.length + 1, 9);

  pushRecord(
    `A${recordCount()}${control}${julian(created)}${numeric(FORMAT, 'destination data centre', dataCentre, 5)}${alpha('', 20)}CAD`,
  );

  const segments = batch.instructions.map((ins, i) => {
    const where = `instruction ${i + 1} (${ins.payoutId})`;
    const c = ins.creditor;
    const segment =
      transactionType +
      numeric(FORMAT, `${where} amount`, ins.amountMinor, 10) +
      julian(due) +
      institutionTransit(`${where} creditor institutionNumber/transit`, c.institutionNumber, c.transit) +
      alpha(accountNumber(`${where} creditor accountNo`, c.accountNo), 12) +
      '0'.repeat(22) +
      '000' +
      alpha(originatorShort, 15) +
      alpha(requiredText(FORMAT, `${where} creditor name`, c.name, UPPER_ASCII, 30), 30) +
      alpha(originatorLong, 30) +
      alpha(originatorId, 10) +
      alpha(crossRefs[i] ?? '', 19) +
      returnsInstitution +
      alpha(returnsAccount, 12) +
      alpha(restrictText(ins.remittance, UPPER_ASCII, 15), 15) +
      alpha('', 22) +
      alpha('', 2) +
      '0'.repeat(11);
    if (segment.length !== SEGMENT_LENGTH) throw new Error(`${FORMAT}: internal error, segment is ${segment.length} characters`);
    return segment;
  });
  for (let i = 0; i < segments.length; i += SEGMENTS_PER_RECORD) {
    pushRecord(`C${recordCount()}${control}${segments.slice(i, i + SEGMENTS_PER_RECORD).join('')}`);
  }

  const zeros14 = numeric(FORMAT, 'total', 0, 14);
  const zeros8 = numeric(FORMAT, 'count', 0, 8);
  pushRecord(
    'Z' +
      recordCount() +
      control +
      zeros14 +
      zeros8 +
      numeric(FORMAT, 'total value of credits', totalMinor, 14) +
      numeric(FORMAT, 'total number of credits', segments.length, 8) +
      zeros14 +
      zeros8 +
      zeros14 +
      zeros8,
  );

  assertRecordLengths(FORMAT, records, CPA005_RECORD_LENGTH);
  return {
    filename: fileName(batch.batchId, 'cpa'),
    contentType: 'text/plain; charset=us-ascii',
    content: records.map((r) => `${r}\r\n`).join(''),
    controlSumMinor: totalMinor,
    count: batch.instructions.length,
    references: batch.instructions.map((ins, i) => ({ payoutId: ins.payoutId, endToEndId: ins.endToEndId, reference: crossRefs[i] ?? '' })),
  };
}

function fileCreationNumber(batch: FileBatch, opts: Cpa005Options): string {
  const n =
    opts.fileCreationNumber ??
    (batch.fileIdModifier !== undefined && /^[0-9]{1,4}$/.test(batch.fileIdModifier) ? Number(batch.fileIdModifier) : undefined);
  if (n === undefined) {
    throw formatError(FORMAT, 'a file creation number is required (opts.fileCreationNumber, or batch.fileIdModifier as 1-4 digits)');
  }
  if (!Number.isInteger(n) || n < 1 || n > 9999) throw formatError(FORMAT, `file creation number must be 1-9999 (got ${n})`);
  return numeric(FORMAT, 'file creation number', n, 4);
}

/** 0YYDDD: the leading 0 is the century digit for 2000-2099. */
function julian(date: CalendarDate): string {
  if (date.y < 2000 || date.y > 2099) throw formatError(FORMAT, `year ${date.y} cannot be written as 0YYDDD`);
  return `0${String(date.y % 100).padStart(2, '0')}${String(dayOfYear(date)).padStart(3, '0')}`;
}

/** 0IIITTTTT: "0", the 3-digit institution number, the 5-digit transit (branch) number. */
function institutionTransit(what: string, institution: string | null, transit: string | null): string {
  const i = institution?.trim() ?? '';
  const t = transit?.trim() ?? '';
  if (!/^[0-9]{3}$/.test(i) || !/^[0-9]{5}$/.test(t)) {
    throw formatError(FORMAT, `${what} must be a 3-digit institution and a 5-digit transit number (got "${i}"/"${t}")`);
  }
  return `0${i}${t}`;
}

function accountNumber(what: string, accountNo: string): string {
  const a = accountNo.replace(/[\s-]/g, '');
  if (!/^[0-9]{1,12}$/.test(a)) throw formatError(FORMAT, `${what} must be 1-12 digits (got "${accountNo}")`);
  return a;
}
