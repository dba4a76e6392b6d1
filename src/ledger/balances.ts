import { ASSET_SCALE, CRYPTO_ASSETS, FIAT_ASSETS, formatDecimal } from '../lib/money.ts';

/**
 * Partner-facing balances (`GET /balance`). The partner holds funds only once deposits are
 * credited and trades settle — both booked by the ledger, which arrives with the trade/payout
 * stage. Until then every asset genuinely stands at zero, and this reads no table.
 */
export interface Balances {
  forPartner(partnerId: string): Promise<{ currency: string; balance: string }[]>;
}

export function createBalances(): Balances {
  return {
    async forPartner() {
      return [...CRYPTO_ASSETS, ...FIAT_ASSETS].map((currency) => ({ currency, balance: formatDecimal(0n, ASSET_SCALE[currency]) }));
    },
  };
}
