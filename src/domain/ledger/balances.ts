import { ASSETS, addMinor, formatAmount, negMinor } from '../../infra/lib/money.ts';
import { balanceIn, type Ledger } from './ledger.ts';

/**
 * Partner-facing balances (`GET /balance`): per asset, what OpenRamp holds on behalf of the
 * partner's customers — credited crypto not yet traded, and fiat owed but not yet paid out —
 * read from the ledger's customer liability accounts.
 */
export interface Balances {
  forPartner(partnerId: string): Promise<{ currency: string; balance: string; cryptoHeld?: string; fiatPayable?: string }[]>;
}

export function createBalances(deps: { ledger: Ledger }): Balances {
  return {
    async forPartner(partnerId) {
      const crypto = await deps.ledger.balancesByPrefix(`liability:customer_crypto:${partnerId}:`);
      const fiat = await deps.ledger.balancesByPrefix(`liability:customer_fiat:${partnerId}:`);
      // Liabilities carry credit (negative) balances; the partner sees them as positive holdings.
      return ASSETS.map((currency) => ({
        currency,
        balance: formatAmount(currency, negMinor(addMinor(balanceIn(crypto, currency), balanceIn(fiat, currency)))),
      }));
    },
  };
}
