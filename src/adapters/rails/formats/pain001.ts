/**
 * ISO 20022 pain.001.001.09 (CustomerCreditTransferInitiationV09) for the EUR, GBP and SGD rails
 * (docs/rails.md): SEPA Credit Transfer, SEPA Instant (LclInstrm INST), Faster Payments / CHAPS, and
 * FAST / MEPS+. One GrpHdr, one PmtInf, one CdtTrfTxInf per payout.
 *
 * Against the EPC XSD (pain.001.001.09-EPC132-08-2023-SCT-C2PSP.xsd):
 * - EUR with serviceLevel SEPA (SCT, and SCT Inst with LclInstrm INST) is valid. The generator
 *   refuses what would not be: no IBAN for the debtor or a creditor, an amount outside
 *   0.01–999999999.99, identifiers outside the EPC character set rules.
 * - The XSD types text as plain strings (Max35Text, Max140Text restricted to 70 for names); the EPC
 *   Latin character set is a rulebook rule the XSD does not check. All text is restricted to it
 *   anyway (SEPA_LATIN), for every currency: UK and Singapore clearing accept that set too.
 * - Ccy is only pattern-checked ([A-Z]{3}) by the XSD; "Only EUR is allowed" is a usage rule in
 *   its annotations, so GBP/SGD amounts pass the schema.
 * - GBP/SGD files carry PmtInf/PmtTpInf/SvcLvl/Cd = URGP (CHAPS, MEPS+) or NURG (Faster Payments,
 *   FAST). The XSD refuses both: ExternalServiceLevel1Code_EPC… is an enumeration of "SEPA" only.
 * - The XSD's account choice (AccountIdentification4Choice_EPC… for DbtrAcct/Id and …_2 for
 *   CdtrAcct/Id) holds only IBAN; ISO's Othr (GenericAccountIdentification1) is cut out. GB
 *   accounts have IBANs: without one we build GBkk BBBB SSSSSS AAAAAAAA from the creditor's BIC
 *   bank code, sort code and account number. Singapore has no IBAN, so SGD accounts go in
 *   Id/Othr/Id with SchmeNm/Cd BBAN, which the XSD refuses ("Element 'Othr': This element is not
 *   expected. Expected is ( IBAN )"). Everything else in such files follows the XSD.
 * - CdtrAgt is written only with a BIC (the XSD's FinInstnId for it is BICFI-only; EPC: "if the
 *   BIC is not indicated, Creditor Agent is not to be used"). DbtrAgt without a BIC carries
 *   Othr/Id NOTPROVIDED, the only value EPC allows there.
 */
import { composeIBAN } from 'ibantools';
import { isValidBic, isValidIban, normalizeSortCode } from '../../../domain/bank-accounts/validation/index.ts';
import { ASSET_SCALE, FIAT_ASSETS, formatDecimal } from '../../../infra/lib/money.ts';
import { checkBatch, fileName, formatError, parseIsoDate, requiredText, restrictText, SEPA_LATIN } from './common.ts';
import type { Creditor, FileBatch, PaymentFile, PayoutCurrency } from './types.ts';

const FORMAT = 'pain.001';

export const PAIN001_NAMESPACE = 'urn:iso:std:iso:20022:tech:xsd:pain.001.001.09';

/** 999,999,999.99: the EPC XSD's maxInclusive for InstdAmt, applied to every currency. */
export const PAIN001_MAX_AMOUNT_MINOR = 99_999_999_999n;

/** Name fields: Max140Text restricted to 70 by the EPC XSD (and the EPC rulebook). */
const NAME_MAX = 70;
const REMITTANCE_MAX = 140;
const ADDRESS_LINE_MAX = 70;
const ADDRESS_LINES_MAX = 2;

export type ServiceLevel = 'SEPA' | 'URGP' | 'NURG';
/** ExternalLocalInstrument1Code (1-35 chars); INST marks SEPA Instant. */
export type LocalInstrument = 'INST' | (string & {});

export interface Pain001Options {
  serviceLevel: ServiceLevel;
  /** Defaults to INST for a SEPA batch marked `instant`. */
  localInstrument?: LocalInstrument;
  /** ExternalCategoryPurpose1Code, e.g. SUPP, SALA, CASH (1-4 chars). */
  categoryPurpose?: string;
  /** BtchBookg: one debit for the whole PmtInf (true) or one per payout (false, the default). */
  batchBooking?: boolean;
}

export function buildPain001<C extends PayoutCurrency>(batch: FileBatch<C>, opts: Pain001Options): PaymentFile<C> {
  if (!['SEPA', 'URGP', 'NURG'].includes(opts.serviceLevel)) throw formatError(FORMAT, `unknown serviceLevel "${opts.serviceLevel}"`);
  const { currency, totalMinor } = checkBatch(FORMAT, batch, {
    currencies: FIAT_ASSETS,
    maxAmountMinor: PAIN001_MAX_AMOUNT_MINOR,
    maxCount: 999_999_999,
  });
  const sepa = opts.serviceLevel === 'SEPA';
  if (sepa && currency !== 'EUR') throw formatError(FORMAT, `serviceLevel SEPA carries EUR only (batch is ${currency})`);

  const localInstrument = opts.localInstrument ?? (sepa && batch.instant === true ? 'INST' : undefined);
  if (localInstrument !== undefined && !/^[A-Za-z0-9]{1,35}$/.test(localInstrument)) {
    throw formatError(FORMAT, `localInstrument must be 1-35 letters or digits (got "${localInstrument}")`);
  }
  if (opts.categoryPurpose !== undefined && !/^[A-Z0-9]{1,4}$/.test(opts.categoryPurpose)) {
    throw formatError(
      FORMAT,
      `categoryPurpose must be an ExternalCategoryPurpose1Code, 1-4 letters or digits (got "${opts.categoryPurpose}")`,
    );
  }

  parseIsoDate(FORMAT, 'executionDate', batch.executionDate);
  const msgId = epcIdentifier('batchId', batch.batchId);
  const debtor = batch.debtor;
  const debtorName = requiredText(FORMAT, 'debtor name', debtor.name, SEPA_LATIN, NAME_MAX);
  const debtorAccount = debtorAccountId(batch, sepa);
  const debtorBic = optionalBic('debtor', debtor.bic);
  const scale = ASSET_SCALE[currency];
  const amount = (v: bigint): string => formatDecimal(v, scale);

  const x = new XmlWriter();
  x.raw('<?xml version="1.0" encoding="UTF-8"?>');
  x.open('Document', { xmlns: PAIN001_NAMESPACE });
  x.open('CstmrCdtTrfInitn');

  x.open('GrpHdr');
  x.leaf('MsgId', msgId);
  x.leaf('CreDtTm', isoDateTimeUtc(batch.createdAt));
  x.leaf('NbOfTxs', String(batch.instructions.length));
  x.leaf('CtrlSum', amount(totalMinor));
  x.open('InitgPty');
  x.leaf('Nm', debtorName);
  x.close('InitgPty');
  x.close('GrpHdr');

  x.open('PmtInf');
  x.leaf('PmtInfId', msgId);
  x.leaf('PmtMtd', 'TRF');
  x.leaf('BtchBookg', opts.batchBooking === true ? 'true' : 'false');
  x.leaf('NbOfTxs', String(batch.instructions.length));
  x.leaf('CtrlSum', amount(totalMinor));
  x.open('PmtTpInf');
  x.open('SvcLvl');
  x.leaf('Cd', opts.serviceLevel);
  x.close('SvcLvl');
  if (localInstrument !== undefined) {
    x.open('LclInstrm');
    x.leaf('Cd', localInstrument);
    x.close('LclInstrm');
  }
  if (opts.categoryPurpose !== undefined) {
    x.open('CtgyPurp');
    x.leaf('Cd', opts.categoryPurpose);
    x.close('CtgyPurp');
  }
  x.close('PmtTpInf');
  x.open('ReqdExctnDt');
  x.leaf('Dt', batch.executionDate);
  x.close('ReqdExctnDt');
  x.open('Dbtr');
  x.leaf('Nm', debtorName);
  x.close('Dbtr');
  x.open('DbtrAcct');
  writeAccountId(x, debtorAccount);
  x.close('DbtrAcct');
  x.open('DbtrAgt');
  x.open('FinInstnId');
  if (debtorBic !== null) x.leaf('BICFI', debtorBic);
  else {
    x.open('Othr');
    x.leaf('Id', 'NOTPROVIDED');
    x.close('Othr');
  }
  x.close('FinInstnId');
  x.close('DbtrAgt');
  x.leaf('ChrgBr', 'SLEV');

  const references = batch.instructions.map((ins, i) => {
    const where = `instruction ${i + 1} (${ins.payoutId})`;
    const endToEndId = epcIdentifier(`${where} endToEndId`, ins.endToEndId);
    const instrId = ins.payoutId.length <= 35 && ins.payoutId.length > 0 ? epcIdentifier(`${where} payoutId`, ins.payoutId) : null;
    const c = ins.creditor;
    const creditorBic = optionalBic(`${where} creditor`, c.bic);
    const account = creditorAccountId(where, c, currency, sepa);
    const name = requiredText(FORMAT, `${where} creditor name`, c.name, SEPA_LATIN, NAME_MAX);
    const remittance = restrictText(ins.remittance, SEPA_LATIN, REMITTANCE_MAX);
    const country = c.country !== null && /^[A-Z]{2}$/.test(c.country.trim().toUpperCase()) ? c.country.trim().toUpperCase() : null;
    const addressLines = c.address === null ? [] : wrapAddress(c.address);

    x.open('CdtTrfTxInf');
    x.open('PmtId');
    if (instrId !== null) x.leaf('InstrId', instrId);
    x.leaf('EndToEndId', endToEndId);
    x.close('PmtId');
    x.open('Amt');
    x.leaf('InstdAmt', amount(ins.amountMinor), { Ccy: currency });
    x.close('Amt');
    if (creditorBic !== null) {
      x.open('CdtrAgt');
      x.open('FinInstnId');
      x.leaf('BICFI', creditorBic);
      x.close('FinInstnId');
      x.close('CdtrAgt');
    }
    x.open('Cdtr');
    x.leaf('Nm', name);
    if (country !== null || addressLines.length > 0) {
      x.open('PstlAdr');
      if (country !== null) x.leaf('Ctry', country);
      for (const line of addressLines) x.leaf('AdrLine', line);
      x.close('PstlAdr');
    }
    x.close('Cdtr');
    x.open('CdtrAcct');
    writeAccountId(x, account);
    x.close('CdtrAcct');
    if (remittance !== '') {
      x.open('RmtInf');
      x.leaf('Ustrd', remittance);
      x.close('RmtInf');
    }
    x.close('CdtTrfTxInf');
    return { payoutId: ins.payoutId, endToEndId: ins.endToEndId, reference: endToEndId };
  });
  const written = new Set(references.map((r) => r.reference));
  if (written.size !== references.length) {
    throw formatError(FORMAT, 'two endToEndIds become the same once restricted to the EPC character set');
  }

  x.close('PmtInf');
  x.close('CstmrCdtTrfInitn');
  x.close('Document');

  return {
    filename: fileName(batch.batchId, 'xml'),
    contentType: 'application/xml',
    content: x.toString(),
    controlSumMinor: totalMinor,
    count: batch.instructions.length,
    references,
  };
}

// ---------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------

type AccountId = { iban: string } | { other: string };

function writeAccountId(x: XmlWriter, account: AccountId): void {
  x.open('Id');
  if ('iban' in account) x.leaf('IBAN', account.iban);
  else {
    x.open('Othr');
    x.leaf('Id', account.other);
    x.open('SchmeNm');
    x.leaf('Cd', 'BBAN');
    x.close('SchmeNm');
    x.close('Othr');
  }
  x.close('Id');
}

const compact = (s: string): string => s.replace(/[\s-]/g, '').toUpperCase();

function ibanOrNull(s: string | null): string | null {
  if (s === null) return null;
  const c = compact(s);
  return isValidIban(c) ? c : null;
}

function debtorAccountId(batch: FileBatch, sepa: boolean): AccountId {
  const d = batch.debtor;
  if (d.iban !== null) {
    const iban = ibanOrNull(d.iban);
    if (iban === null) throw formatError(FORMAT, `debtor IBAN "${d.iban}" is not a valid IBAN`);
    return { iban };
  }
  const fromAccountNo = ibanOrNull(d.accountNo);
  if (fromAccountNo !== null) return { iban: fromAccountNo };
  if (sepa) throw formatError(FORMAT, 'SEPA needs the debtor account as an IBAN');
  return { other: otherId('debtor accountNo', d.accountNo) };
}

function creditorAccountId(where: string, c: Creditor, currency: PayoutCurrency, sepa: boolean): AccountId {
  if (c.iban !== null) {
    const iban = ibanOrNull(c.iban);
    if (iban === null) throw formatError(FORMAT, `${where}: creditor IBAN "${c.iban}" is not a valid IBAN`);
    return { iban };
  }
  const fromAccountNo = ibanOrNull(c.accountNo);
  if (fromAccountNo !== null) return { iban: fromAccountNo };
  if (currency === 'GBP' && c.bic !== null && c.sortCode !== null) {
    const built = gbIbanFromSortCode(c.bic, c.sortCode, c.accountNo);
    if (built !== null) return { iban: built };
  }
  if (sepa) throw formatError(FORMAT, `${where}: SEPA needs the creditor account as an IBAN`);
  if (currency === 'GBP' && c.sortCode !== null) {
    const sc = normalizeSortCode(c.sortCode);
    if (sc !== null) return { other: otherId(`${where} sort code + account`, sc + compact(c.accountNo)) };
  }
  return { other: otherId(`${where} creditor accountNo`, c.accountNo) };
}

/** GenericAccountIdentification1/Id is Max34Text; local account numbers are letters and digits. */
function otherId(what: string, accountNo: string): string {
  const c = compact(accountNo);
  if (!/^[A-Z0-9]{1,34}$/.test(c)) throw formatError(FORMAT, `${what} must be 1-34 letters or digits (got "${accountNo}")`);
  return c;
}

/**
 * A UK IBAN is GB + check digits + the bank's 4-letter BIC bank code + the 6-digit sort code + the
 * 8-digit account number. Returns null when the parts cannot make one (no GB-area BIC, bad sort
 * code, account not 6-8 digits; 6-7 digit accounts are zero-padded as UK banks do).
 */
export function gbIbanFromSortCode(bic: string, sortCode: string, accountNo: string): string | null {
  const b = compact(bic);
  if (!isValidBic(b) || !/^[A-Z]{4}(GB|GG|JE|IM)/.test(b)) return null;
  const sc = normalizeSortCode(sortCode);
  const acct = compact(accountNo);
  if (sc === null || !/^[0-9]{6,8}$/.test(acct)) return null;
  const iban = composeIBAN({ countryCode: 'GB', bban: `${b.slice(0, 4)}${sc}${acct.padStart(8, '0')}` });
  return iban !== null && isValidIban(iban) ? iban : null;
}

function optionalBic(what: string, bic: string | null): string | null {
  if (bic === null || bic.trim() === '') return null;
  const b = compact(bic);
  if (!isValidBic(b)) throw formatError(FORMAT, `${what} BIC "${bic}" is not a valid BIC`);
  return b;
}

// ---------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------

/**
 * EPC rules for MsgId, PmtInfId, InstrId and EndToEndId: EPC Latin characters only, no leading or
 * trailing "/", no "//". Ids are mapped one character for one (anything else, spaces included,
 * becomes "-": `pay_01h…` → `pay-01h…`), never truncated; the result is returned in
 * PaymentFile.references so status reports and returns can be matched.
 */
export function epcIdentifier(what: string, id: string): string {
  if (id.length === 0 || id.length > 35) throw formatError(FORMAT, `${what} must be 1-35 characters (got ${id.length})`);
  let out = '';
  for (const ch of id) out += /^[A-Za-z0-9/\-?:().,'+]$/.test(ch) ? ch : '-';
  return out
    .replace(/\/{2,}/g, (m) => `/${'-'.repeat(m.length - 1)}`)
    .replace(/^\//, '-')
    .replace(/\/$/, '-');
}

/** Up to two AdrLine of 70 EPC-Latin characters, broken between words where possible. */
function wrapAddress(address: string): string[] {
  const flat = restrictText(
    address
      .split(/\r?\n/)
      .join(', ')
      .replace(/,(\s*,)+/g, ','),
    SEPA_LATIN,
    ADDRESS_LINE_MAX * ADDRESS_LINES_MAX + 1,
  );
  const lines: string[] = [];
  let rest = flat;
  while (rest !== '' && lines.length < ADDRESS_LINES_MAX) {
    if (rest.length <= ADDRESS_LINE_MAX) {
      lines.push(rest);
      break;
    }
    const cut = rest.lastIndexOf(' ', ADDRESS_LINE_MAX);
    const at = cut > 0 ? cut : ADDRESS_LINE_MAX;
    lines.push(rest.slice(0, at).trimEnd());
    rest = rest.slice(at).trimStart();
  }
  return lines.filter((l) => l !== '');
}

/** xs:dateTime in UTC, to the second: 2024-05-01T09:30:00Z. */
function isoDateTimeUtc(d: Date): string {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw formatError(FORMAT, 'createdAt is not a valid Date');
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

class XmlWriter {
  private readonly lines: string[] = [];
  private depth = 0;

  raw(line: string): void {
    this.lines.push(line);
  }

  open(tag: string, attrs: Record<string, string> = {}): void {
    this.lines.push(`${'  '.repeat(this.depth)}<${tag}${attributes(attrs)}>`);
    this.depth++;
  }

  close(tag: string): void {
    this.depth--;
    this.lines.push(`${'  '.repeat(this.depth)}</${tag}>`);
  }

  leaf(tag: string, text: string, attrs: Record<string, string> = {}): void {
    this.lines.push(`${'  '.repeat(this.depth)}<${tag}${attributes(attrs)}>${escapeXml(text)}</${tag}>`);
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

function attributes(attrs: Record<string, string>): string {
  return Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');
}
