/**
 * NACHA ACH file for USD payouts (docs/rails.md): one batch of credits (service class 220), SEC code PPD
 * (consumer accounts) or CCD (business accounts). 94-character records separated by "\n" (the
 * file ends with one), upper-case ASCII.
 *
 *   1 File Header      1 type "1" | 2-3 priority "01" | 4-13 immediate destination (" " + routing)
 *                      | 14-23 immediate origin | 24-29 creation date YYMMDD | 30-33 time HHMM
 *                      | 34 file id modifier | 35-37 record size "094" | 38-39 blocking factor "10"
 *                      | 40 format code "1" | 41-63 destination name | 64-86 origin name | 87-94 reference
 *   5 Batch Header     1 "5" | 2-4 service class "220" | 5-20 company name | 21-40 discretionary data
 *                      | 41-50 company id | 51-53 SEC code | 54-63 entry description
 *                      | 64-69 descriptive date | 70-75 effective entry date YYMMDD
 *                      | 76-78 settlement date (blank: the ACH operator fills it) | 79 originator status "1"
 *                      | 80-87 ODFI routing (8) | 88-94 batch number
 *   6 Entry Detail     1 "6" | 2-3 transaction code "22" (checking credit) | 4-11 RDFI routing (8)
 *                      | 12 check digit | 13-29 account number | 30-39 amount in cents
 *                      | 40-54 identification number | 55-76 individual / receiving company name
 *                      | 77-78 discretionary data | 79 addenda indicator | 80-94 trace number (ODFI 8 + seq 7)
 *   7 Addenda (05)     1 "7" | 2-3 "05" | 4-83 payment related information | 84-87 addenda sequence "0001"
 *                      | 88-94 entry detail sequence number (last 7 of the trace number)
 *   8 Batch Control    1 "8" | 2-4 service class | 5-10 entry/addenda count | 11-20 entry hash
 *                      | 21-32 total debits | 33-44 total credits | 45-54 company id | 55-73 MAC (blank)
 *                      | 74-79 reserved | 80-87 ODFI routing | 88-94 batch number
 *   9 File Control     1 "9" | 2-7 batch count | 8-13 block count | 14-21 entry/addenda count
 *                      | 22-31 entry hash | 32-43 total debits | 44-55 total credits | 56-94 reserved
 *   then records of 94 "9"s until the record count is a multiple of the blocking factor (10).
 *
 * Entry hash: the sum of the 8-digit RDFI routing numbers, rightmost 10 digits.
 * Dates and times of the file header are Eastern Time (the ACH network's clock), from createdAt.
 * Same-day ACH is requested by the effective entry date (the caller passes today's date before the
 * window closes); same-day entries are capped at $1,000,000 each by NACHA rules.
 */
import { isValidAbaRouting } from '../../../domain/bank-accounts/validation/index.ts';
import {
  alpha,
  assertRecordLengths,
  checkBatch,
  fileName,
  formatError,
  hhmm,
  numeric,
  parseIsoDate,
  requiredText,
  restrictText,
  tailReferences,
  UPPER_ASCII,
  yymmdd,
  zonedDateTime,
} from './common.ts';
import type { FileBatch, PaymentFile, PayoutCurrency } from './types.ts';

const FORMAT = 'NACHA';
const RECORD_LENGTH = 94;
const BLOCKING_FACTOR = 10;

/** Amount field is 10 digits of cents. */
export const NACHA_MAX_AMOUNT_MINOR = 9_999_999_999n;
/** NACHA's per-entry limit for Same Day ACH ($1,000,000.00). */
export const NACHA_SAME_DAY_MAX_AMOUNT_MINOR = 100_000_000n;

export type SecCode = 'PPD' | 'CCD';

export interface NachaOptions {
  secCode: SecCode;
  /** Company Entry Description (10), shown to the receiver; default "PAYOUT". */
  entryDescription?: string;
  /** Write the remittance in a type-05 addenda record per entry (default true when non-empty). */
  remittanceAddenda?: boolean;
}

export function buildNacha<C extends PayoutCurrency>(batch: FileBatch<C>, opts: NachaOptions): PaymentFile<C> {
  if (opts.secCode !== 'PPD' && opts.secCode !== 'CCD') throw formatError(FORMAT, `unsupported SEC code "${opts.secCode}"`);
  const { totalMinor } = checkBatch(FORMAT, batch, {
    currencies: ['USD'],
    maxAmountMinor: batch.sameDay === true ? NACHA_SAME_DAY_MAX_AMOUNT_MINOR : NACHA_MAX_AMOUNT_MINOR,
    // Trace sequence numbers are 7 digits; the batch's entry/addenda count is 6.
    maxCount: opts.remittanceAddenda === false ? 999_999 : 499_999,
  });
  const d = batch.debtor;

  const odfi = routing8('debtor achOdfiRouting', d.achOdfiRouting);
  const destination = tenCharRouting('debtor achImmediateDestination', d.achImmediateDestination ?? d.achOdfiRouting);
  const origin = immediateOrigin(d.achImmediateOrigin ?? d.achCompanyId);
  const companyId = d.achCompanyId;
  if (companyId === undefined || !/^[A-Za-z0-9 ]{1,10}$/.test(companyId)) {
    throw formatError(FORMAT, 'debtor achCompanyId (Company Identification) must be 1-10 letters or digits');
  }
  const modifier = batch.fileIdModifier ?? 'A';
  if (!/^[A-Z0-9]$/.test(modifier)) throw formatError(FORMAT, `fileIdModifier must be one of A-Z, 0-9 (got "${modifier}")`);

  const effective = parseIsoDate(FORMAT, 'executionDate', batch.executionDate);
  const created = zonedDateTime(FORMAT, batch.createdAt, 'America/New_York');
  const debtorName = requiredText(FORMAT, 'debtor name', d.name, UPPER_ASCII, 23);
  const description = requiredText(FORMAT, 'entryDescription', opts.entryDescription ?? 'PAYOUT', UPPER_ASCII, 10);
  const ids = tailReferences(FORMAT, 'identification number', batch, UPPER_ASCII, 15);

  const records: string[] = [];
  records.push(
    '1' +
      '01' +
      destination +
      origin +
      yymmdd(created) +
      hhmm(created) +
      modifier +
      '094' +
      numeric(FORMAT, 'blocking factor', BLOCKING_FACTOR, 2) +
      '1' +
      alpha(restrictText(d.achImmediateDestinationName ?? '', UPPER_ASCII, 23), 23) +
      alpha(debtorName, 23) +
      alpha('', 8),
  );

  const serviceClass = '220';
  const batchNumber = numeric(FORMAT, 'batch number', 1, 7);
  records.push(
    '5' +
      serviceClass +
      alpha(debtorName, 16) +
      alpha('', 20) +
      alpha(companyId, 10) +
      opts.secCode +
      alpha(description, 10) +
      alpha('', 6) +
      yymmdd(effective) +
      alpha('', 3) +
      '1' +
      odfi +
      batchNumber,
  );

  let entryHash = 0n;
  let entryAddendaCount = 0;
  const references = batch.instructions.map((ins, i) => {
    const where = `instruction ${i + 1} (${ins.payoutId})`;
    const c = ins.creditor;
    const aba = c.aba?.replace(/[\s-]/g, '') ?? '';
    if (!isValidAbaRouting(aba))
      throw formatError(FORMAT, `${where}: creditor needs a valid 9-digit ABA routing number (got "${c.aba ?? ''}")`);
    const account = c.accountNo.replace(/[\s-]/g, '').toUpperCase();
    if (!/^[A-Z0-9]{1,17}$/.test(account)) throw formatError(FORMAT, `${where}: account number must be 1-17 letters or digits`);
    const name = requiredText(FORMAT, `${where} creditor name`, c.name, UPPER_ASCII, 22);
    const remittance = restrictText(ins.remittance, UPPER_ASCII, 80);
    const withAddenda = opts.remittanceAddenda !== false && remittance !== '';
    const sequence = numeric(FORMAT, 'trace sequence', i + 1, 7);
    const trace = odfi + sequence;

    records.push(
      '6' +
        '22' +
        aba.slice(0, 8) +
        aba.slice(8) +
        alpha(account, 17) +
        numeric(FORMAT, `${where} amount`, ins.amountMinor, 10) +
        alpha(ids[i] ?? '', 15) +
        alpha(name, 22) +
        alpha('', 2) +
        (withAddenda ? '1' : '0') +
        trace,
    );
    entryAddendaCount++;
    entryHash += BigInt(aba.slice(0, 8));
    if (withAddenda) {
      records.push(`705${alpha(remittance, 80)}0001${sequence}`);
      entryAddendaCount++;
    }
    return { payoutId: ins.payoutId, endToEndId: ins.endToEndId, reference: trace };
  });

  const hash = numeric(FORMAT, 'entry hash', entryHash % 10_000_000_000n, 10);
  const totalCredits = numeric(FORMAT, 'total credits', totalMinor, 12);
  const totalDebits = numeric(FORMAT, 'total debits', 0, 12);
  records.push(
    '8' +
      serviceClass +
      numeric(FORMAT, 'batch entry/addenda count', entryAddendaCount, 6) +
      hash +
      totalDebits +
      totalCredits +
      alpha(companyId, 10) +
      alpha('', 19) +
      alpha('', 6) +
      odfi +
      batchNumber,
  );

  const recordCount = records.length + 1; // + the file control record
  const blockCount = Math.ceil(recordCount / BLOCKING_FACTOR);
  records.push(
    '9' +
      numeric(FORMAT, 'batch count', 1, 6) +
      numeric(FORMAT, 'block count', blockCount, 6) +
      numeric(FORMAT, 'file entry/addenda count', entryAddendaCount, 8) +
      hash +
      totalDebits +
      totalCredits +
      alpha('', 39),
  );
  while (records.length % BLOCKING_FACTOR !== 0) records.push('9'.repeat(RECORD_LENGTH));

  assertRecordLengths(FORMAT, records, RECORD_LENGTH);
  return {
    filename: fileName(batch.batchId, 'ach'),
    contentType: 'text/plain; charset=us-ascii',
    content: `${records.join('\n')}\n`,
    controlSumMinor: totalMinor,
    count: batch.instructions.length,
    references,
  };
}

/** 8-digit ODFI identification from an 8- or 9-digit routing number (a 9th digit must check). */
function routing8(what: string, v: string | undefined): string {
  const s = v?.replace(/[\s-]/g, '') ?? '';
  if (/^[0-9]{9}$/.test(s)) {
    if (!isValidAbaRouting(s)) throw formatError(FORMAT, `${what} "${s}" fails the routing number checksum`);
    return s.slice(0, 8);
  }
  if (/^[0-9]{8}$/.test(s)) return s;
  throw formatError(FORMAT, `${what} must be an 8- or 9-digit routing number (got "${v ?? ''}")`);
}

/** Immediate Destination: a blank then the 9-digit routing number. */
function tenCharRouting(what: string, v: string | undefined): string {
  const s = v?.replace(/[\s-]/g, '') ?? '';
  if (!isValidAbaRouting(s)) throw formatError(FORMAT, `${what} must be a valid 9-digit routing number (got "${v ?? ''}")`);
  return ` ${s}`;
}

/** Immediate Origin: " " + 9-digit routing number, or a 10-character id the ODFI assigned. */
function immediateOrigin(v: string | undefined): string {
  const s = v?.trim() ?? '';
  if (/^[0-9]{9}$/.test(s)) return ` ${s}`;
  if (/^[A-Z0-9]{10}$/.test(s)) return s;
  throw formatError(FORMAT, `debtor achImmediateOrigin must be a 9-digit routing number or a 10-character id (got "${v ?? ''}")`);
}
