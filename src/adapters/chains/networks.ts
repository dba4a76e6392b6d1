import type { NetworkFamily } from './addresses.ts';
import type { CryptoAsset } from '../../infra/lib/money.ts';

/** Networks and the tokens OpenRamp accepts on each (docs/chains.md). */
export const NETWORKS = ['ETH', 'MATIC', 'TRX'] as const;
export type Network = (typeof NETWORKS)[number];

export const NETWORK_FAMILY: Record<Network, NetworkFamily> = { ETH: 'EVM', MATIC: 'EVM', TRX: 'TRON' };

export const NETWORK_TOKENS: Record<Network, readonly CryptoAsset[]> = {
  ETH: ['USDT', 'USDC'],
  MATIC: ['USDT', 'USDC'],
  // Circle ended USDC support on Tron; deposits would be unredeemable.
  TRX: ['USDT'],
};

export function isNetwork(s: string): s is Network {
  return (NETWORKS as readonly string[]).includes(s);
}

/** null when supported, else the reason. */
export function unsupportedTokenReason(network: Network, currency: CryptoAsset): string | null {
  if (NETWORK_TOKENS[network].includes(currency)) return null;
  if (network === 'TRX' && currency === 'USDC') return 'USDC on TRX is not supported (its issuer ended support for Tron)';
  return `${currency} on ${network} is not supported`;
}
