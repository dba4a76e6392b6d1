/**
 * ABA ("Cemtex") BECS Direct Entry file for AUD payouts (docs/rails.md, the fallback when NPP is not
 * used). 120-character records, each ended by "\r\n" as Australian banks expect.
 *
 *   Type 0 descriptive record
 *     1      "0"              | 2-18   blank          | 19-20  reel sequence "01"
 *     21-23  FI abbreviation  | 24-30  blank          | 31-56  user name (APCA user preferred name)
 *     57-62  APCA user number (6 digits)              | 63-74  description of entries
 *     75-80  processing date DDMMYY (executionDate)    | 81-120 blank
 *   Type 1 detail record
 *     1      "1"              | 2-8    BSB "XXX-XXX"  | 9-17   account number, right-justified
 *     18     indicator (blank)| 19-20  transaction code (50 credit; 13 debit for self-balancing)
 *     21-30  amount in cents  | 31-62  title of account | 63-80 lodgement reference
 *     81-87  trace BSB        | 88-96  trace account  | 97-112 name of remitter
 *     113-120 withholding tax "00000000"
 *   Type 7 file total record
 *     1      "7"              | 2-8    "999-999"      | 9-20   blank
 *     21-30  net total        | 31-40  credit total   | 41-50  debit total
 *     51-74  blank            | 75-80  count of type 1 records | 81-120 blank
 *
 * Totals are 10 digits of cents, so one file carries at most $99,999,999.99 of credits. The trace
 * record (BSB + account of the debtor) is where BECS returns unapplied items.
 */
import { normalizeBsb } from '../../../domain/bank-accounts/validation/index.ts';
import {
  alpha,
  alphaRight,
  assertRecordLengths,
  BECS,
  checkBatch,
  ddmmyy,
  fileName,
  formatError,
  numeric,
  parseIsoDate,
  requiredText,
  tailReferences,
} from './common.ts';
import type { FileBatch, PaymentFile, PayoutCurrency } from './types.ts';

const FORMAT = 'ABA';
const RECORD_LENGTH = 120;

/** Amount and file total fields are 10 digits of cents. */
export const ABA_MAX_AMOUNT_MINOR = 9_999_999_999n;

export interface AbaOptions {
  /** Description of entries (12), e.g. "PAYOUTS". */
  description?: string;
  /** Add a debit (code 13) from the debtor's account for the credit total: net total 0. */
  selfBalancing?: boolean;
}

export function buildAba<C extends PayoutCurrency>(batch: FileBatch<C>, opts: AbaOptions = {}): PaymentFile<C> {
  const { totalMinor } = checkBatch(FORMAT, batch, {
    currencies: ['AUD'],
    maxAmountMinor: ABA_MAX_AMOUNT_MINOR,
    maxCount: 999_998, // 6-digit record count, leaving room for a balancing record
  });
  if (totalMinor > ABA_MAX_AMOUNT_MINOR) {
    throw formatError(FORMAT, `file total ${totalMinor} (cents) exceeds the 10-digit total field; split the batch`);
  }
  const d = batch.debtor;
  const fi = (d.abaFinancialInstitution ?? '').trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(fi)) throw formatError(FORMAT, 'debtor abaFinancialInstitution must be a 3-letter abbreviation (e.g. CBA, WBC)');
  const apca = d.abaApcaNumber ?? '';
  if (!/^[0-9]{6}$/.test(apca)) throw formatError(FORMAT, 'debtor abaApcaNumber must be 6 digits');
  const traceBsb = bsb('debtor abaBsb', d.abaBsb ?? null);
  const traceAccount = accountNumber('debtor accountNo', d.accountNo);
  const userName = requiredText(FORMAT, 'debtor abaUserName', d.abaUserName ?? d.name, BECS, 26);
  const remitter = requiredText(FORMAT, 'debtor name', d.name, BECS, 16);
  const description = requiredText(FORMAT, 'description', opts.description ?? 'PAYOUTS', BECS, 12);
  const processing = parseIsoDate(FORMAT, 'executionDate', batch.executionDate);
  const lodgementRefs = tailReferences(FORMAT, 'lodgement reference', batch, BECS, 18);

  const records: string[] = [];
  records.push(
    '0' +
      alpha('', 17) +
      '01' +
      fi +
      alpha('', 7) +
      alpha(userName, 26) +
      apca +
      alpha(description, 12) +
      ddmmyy(processing) +
      alpha('', 40),
  );

  const detail = (toBsb: string, toAccount: string, code: string, amountMinor: bigint, title: string, lodgement: string): string =>
    '1' +
    toBsb +
    alphaRight(FORMAT, 'account number', toAccount, 9) +
    ' ' +
    code +
    numeric(FORMAT, 'amount', amountMinor, 10) +
    alpha(title, 32) +
    alpha(lodgement, 18) +
    traceBsb +
    alphaRight(FORMAT, 'trace account number', traceAccount, 9) +
    alpha(remitter, 16) +
    '00000000';

  const references = batch.instructions.map((ins, i) => {
    const where = `instruction ${i + 1} (${ins.payoutId})`;
    const c = ins.creditor;
    const lodgement = lodgementRefs[i] ?? '';
    records.push(
      detail(
        bsb(`${where} creditor bsb`, c.bsb),
        accountNumber(`${where} creditor accountNo`, c.accountNo),
        '50',
        ins.amountMinor,
        requiredText(FORMAT, `${where} creditor name`, c.name, BECS, 32),
        lodgement,
      ),
    );
    return { payoutId: ins.payoutId, endToEndId: ins.endToEndId, reference: lodgement };
  });

  const debitTotal = opts.selfBalancing === true ? totalMinor : 0n;
  if (opts.selfBalancing === true) {
    const ref = requiredText(FORMAT, 'batchId', batch.batchId, BECS, 35).slice(-18);
    records.push(detail(traceBsb, traceAccount, '13', totalMinor, userName, ref));
  }
  const net = totalMinor >= debitTotal ? totalMinor - debitTotal : debitTotal - totalMinor;
  records.push(
    '7' +
      '999-999' +
      alpha('', 12) +
      numeric(FORMAT, 'net total', net, 10) +
      numeric(FORMAT, 'credit total', totalMinor, 10) +
      numeric(FORMAT, 'debit total', debitTotal, 10) +
      alpha('', 24) +
      numeric(FORMAT, 'record count', records.length - 1, 6) +
      alpha('', 40),
  );

  assertRecordLengths(FORMAT, records, RECORD_LENGTH);
  return {
    filename: fileName(batch.batchId, 'aba'),
    contentType: 'text/plain; charset=us-ascii',
    content: records.map((r) => `${r}\r\n`).join(''),
    controlSumMinor: totalMinor,
    count: batch.instructions.length,
    references,
  };
}

function bsb(what: string, v: string | null): string {
  const n = v === null ? null : normalizeBsb(v);
  if (n === null) throw formatError(FORMAT, `${what} must be a 6-digit BSB (got "${v ?? ''}")`);
  return `${n.slice(0, 3)}-${n.slice(3)}`;
}

/** BECS: digits (hyphens and blanks dropped), leading zeros kept, not all zeros, ≤ 9. */
function accountNumber(what: string, accountNo: string): string {
  const a = accountNo.replace(/[\s-]/g, '');
  if (!/^[0-9]{1,9}$/.test(a) || /^0+$/.test(a))
    throw formatError(FORMAT, `${what} must be 1-9 digits, not all zeros (got "${accountNo}")`);
  return a;
}
