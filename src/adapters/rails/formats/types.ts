/**
 * Inputs and outputs of the payment-file generators (docs/rails.md). The generators are pure: everything
 * they need, including the file's creation time and sequence numbers, comes in as arguments, so
 * the same batch always yields byte-identical files (a re-run after a crash writes the same file).
 *
 * Amounts are `Minor<C>` of the batch's currency C, so a file built for EUR refuses a USD amount
 * at compile time (one currency per file is also checked at run time, for callers that hold the
 * currency as a union).
 */
import type { FiatAsset, Minor, Unbranded } from '../../../infra/lib/money.ts';

/** Every fiat asset can be paid out. */
export type PayoutCurrency = FiatAsset;

/** The beneficiary, as held by a validated bank account (src/domain/bank-accounts/validation/). */
export interface Creditor {
  name: string;
  bankName: string;
  accountNo: string;
  iban: string | null;
  bic: string | null;
  aba: string | null;
  sortCode: string | null;
  bsb: string | null;
  institutionNumber: string | null;
  transit: string | null;
  /** ISO 3166 alpha-2 country of the creditor's postal address; anything else is not written. */
  country: string | null;
  /** The creditor's postal address (free text; may span lines). */
  address: string | null;
}

export interface PaymentInstruction<C extends PayoutCurrency = PayoutCurrency> {
  payoutId: string;
  /** ≤ 35 chars, unique within the batch; the reference the bank echoes back in returns. */
  endToEndId: string;
  /** `Unbranded` only until the payout module passes `Minor<C>` (see money.ts). */
  amountMinor: Minor<C> | Unbranded;
  currency: C;
  creditor: Creditor;
  /** ≤ 140 chars; shown to the beneficiary where the format has room. */
  remittance: string;
}

/** OpenRamp's own account on the rail, plus the originator ids each rail assigns. */
export interface Debtor {
  name: string;
  iban: string | null;
  bic: string | null;
  accountNo: string;
  // NACHA
  /** File header Immediate Origin: 9-digit routing number or a 10-character id. */
  achImmediateOrigin?: string;
  /** File header Immediate Destination: 9-digit routing number (defaults to the ODFI routing). */
  achImmediateDestination?: string;
  /** File header Immediate Destination Name (the ODFI's name); blank when absent. */
  achImmediateDestinationName?: string;
  /** Company Identification (10), usually "1" + EIN. */
  achCompanyId?: string;
  /** ODFI routing number, 8 digits or 9 with check digit. */
  achOdfiRouting?: string;
  // CPA-005
  cpaOriginatorId?: string;
  cpaDestinationDataCentre?: string;
  /** Institution (3 digits) and transit (5 digits) of the account returned items go back to. */
  cpaInstitution?: string;
  cpaTransit?: string;
  // ABA
  abaUserName?: string;
  abaApcaNumber?: string;
  abaBsb?: string;
  /** Three-letter abbreviation of the user's financial institution, e.g. "CBA", "WBC". */
  abaFinancialInstitution?: string;
}

export interface FileBatch<C extends PayoutCurrency = PayoutCurrency> {
  /** ≤ 35 chars; becomes the pain.001 MsgId and the file name. */
  batchId: string;
  createdAt: Date;
  /** YYYY-MM-DD: requested execution / effective entry / due / processing date. */
  executionDate: string;
  debtor: Debtor;
  instructions: PaymentInstruction<C>[];
  instant?: boolean;
  sameDay?: boolean;
  /**
   * Per-file sequence assigned by the caller: the NACHA File ID Modifier (one of A-Z, 0-9), or the
   * CPA-005 File Creation Number (1-4 digits).
   */
  fileIdModifier?: string;
}

/** What the bank sees for one payout: the id it echoes back in status reports and returns. */
export interface PaymentReference {
  payoutId: string;
  endToEndId: string;
  /** pain.001 EndToEndId as written, NACHA trace number, CPA cross reference, ABA lodgement reference. */
  reference: string;
}

export interface PaymentFile<C extends PayoutCurrency = PayoutCurrency> {
  filename: string;
  contentType: string;
  content: string;
  /** Sum of the payouts in the file (a self-balancing ABA debit is not counted). */
  controlSumMinor: Minor<C>;
  /** Number of payouts in the file. */
  count: number;
  /** One per instruction, in input order. */
  references: PaymentReference[];
}
