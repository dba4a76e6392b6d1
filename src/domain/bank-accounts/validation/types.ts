/** The request body, the normalised bank account and the verdict of validateBankAccountInput. */

export const FIAT_CURRENCIES = ['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'SGD'] as const;
export type FiatCurrency = (typeof FIAT_CURRENCIES)[number];

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
