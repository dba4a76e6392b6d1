/**
 * Independent readers for the payment files OpenRamp writes (../). They are written from the
 * published layouts, not from the generators (nothing is imported from them), and they check as
 * they read: every record's length, the record sequence, counts, control totals and hash totals.
 * Any violation throws a FormatViolation naming the record; a file that parses is structurally
 * sound, and the entries returned can be compared with the input.
 */
export { FormatViolation } from './checks.ts';
export { parseNacha } from './nacha-reader.ts';
export type { NachaBatch, NachaEntry, NachaFile } from './nacha-reader.ts';
export { parseCpa005 } from './cpa005-reader.ts';
export type { CpaFile, CpaTransaction } from './cpa005-reader.ts';
export { parseAba } from './aba-reader.ts';
export type { AbaDetail, AbaFile } from './aba-reader.ts';
export { parseXml } from './xml-reader.ts';
export type { XmlElement } from './xml-reader.ts';
export { parsePain001 } from './pain001-reader.ts';
export type { PainFile, PainPaymentInfo, PainTransaction } from './pain001-reader.ts';
