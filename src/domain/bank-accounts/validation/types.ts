/** The request body, the normalised bank account and the verdict of validateBankAccountInput. */

import { FIAT_ASSETS, type FiatAsset } from '../../../infra/lib/money.ts';

/** The payout currencies are the fiat assets (one list, in money.ts). */
export const FIAT_CURRENCIES = FIAT_ASSETS;
export type FiatCurrency = FiatAsset;

export interface BankAccountInput {
  [k: string]: unknown;
}

export interface NormalizedBankAccount {
  currency: FiatCurrency;
  bankName: string;
  accountNo: string;
  accountName: string | null;
  swift: string | null;
  iban: string | null;
  aba: string | null;
  sortCode: string | null;
  bsb: string | null;
  institutionNumber: string | null;
  transit: string | null;
  bankCountry: string | null;
  bankAddress: string | null;
  beneficiaryAddress: string | null;
  label: string | null;
  interBankName: string | null;
  interBankBic: string | null;
  interBankAccountNo: string | null;
}

export type BankAccountValidation = { ok: true; value: NormalizedBankAccount } | { ok: false; field: string; message: string };
