/** Payment-file generators, one per rail family (docs/rails.md). Pure: no I/O, no clock. */
export type { Creditor, Debtor, FileBatch, PaymentFile, PaymentInstruction, PaymentReference, PayoutCurrency } from './types.ts';
export { buildPain001, gbIbanFromSortCode, epcIdentifier, PAIN001_MAX_AMOUNT_MINOR, PAIN001_NAMESPACE } from './pain001.ts';
export type { LocalInstrument, Pain001Options, ServiceLevel } from './pain001.ts';
export { buildNacha, NACHA_MAX_AMOUNT_MINOR, NACHA_SAME_DAY_MAX_AMOUNT_MINOR } from './nacha.ts';
export type { NachaOptions, SecCode } from './nacha.ts';
export { buildCpa005, CPA005_MAX_AMOUNT_MINOR } from './cpa005.ts';
export type { Cpa005Options } from './cpa005.ts';
export { buildAba, ABA_MAX_AMOUNT_MINOR } from './aba.ts';
export type { AbaOptions } from './aba.ts';
