/**
 * Reader for ISO 20022 pain.001.001.09 customer credit transfer initiations as OpenRamp writes
 * them: the EPC character set and identifier rules, unique EndToEndIds, and the counts and control
 * sums of the group header and of each payment information block.
 */
import { check } from './checks.ts';
import { kids, opt, parseXml, type XmlElement } from './xml-reader.ts';

/** The one element down `path`; anything but exactly one at any step is a pain.001 violation. */
function one(el: XmlElement, path: string): XmlElement {
  let cur = el;
  for (const name of path.split('/')) {
    const found = kids(cur, name);
    check(found.length === 1, 'pain.001', `<${cur.name}> must hold exactly one <${name}> (has ${found.length})`);
    cur = found[0] as XmlElement;
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
