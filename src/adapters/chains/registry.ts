import { NETWORK_FAMILY, NETWORKS, NETWORK_TOKENS, type Network } from './networks.ts';
import type { NetworkFamily } from './addresses.ts';
import { normalizeAddress, tronToHex } from './addresses.ts';
import { ASSET_SCALE, parseAmount, type CryptoAsset, type Minor } from '../../infra/lib/money.ts';
import { ConfigError } from '../../infra/lib/config-error.ts';

/**
 * The token registry (docs/chains.md): which contracts count on each network, their minimums and the
 * crediting rule. Only allow-listed contracts are ever credited (anyone can emit a Transfer
 * event). Mainnet values are the defaults; every value can be overridden by configuration.
 */
export interface TokenEntry {
  network: Network;
  currency: CryptoAsset;
  /** Contract as lowercase 0x hex (Tron's base58 converted). */
  contract: string;
  /** The contract as users know it (base58 on Tron). */
  displayContract: string;
  /** The contract's ERC-20/TRC-20 `decimals` (see TOKEN_DECIMALS). */
  decimals: number;
  /** Below this a deposit is held and aggregated per flow (minor units). */
  minimum: Minor<CryptoAsset>;
  /** At or below this a transfer is ignored as dust (minor units). */
  dust: Minor<CryptoAsset>;
}

export interface NetworkPolicy {
  network: Network;
  family: NetworkFamily;
  /** Credit at the node's `finalized` block when it has one. */
  useFinalizedTag: boolean;
  /** Confirmations required when there is no finalized tag (and shown as the target). */
  fallbackConfirmations: number;
  tokens: TokenEntry[];
}

export interface Registry {
  policy(network: Network): NetworkPolicy;
  token(network: Network, contractHex: string): TokenEntry | null;
  tokenFor(network: Network, currency: CryptoAsset): TokenEntry | null;
}

const MAINNET_CONTRACTS: Record<Network, Partial<Record<CryptoAsset, string>>> = {
  ETH: { USDT: '0xdAC17F958D2ee523a2206206994597C13D831ec7', USDC: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48' },
  MATIC: { USDT: '0xc2132D05D31c914a87C6611C10748AEb04B58e8F', USDC: '0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359' },
  TRX: { USDT: 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t' },
};

/**
 * The `decimals` of each allow-listed contract, per network: chain data, which may differ from
 * OpenRamp's ASSET_SCALE for the asset (USDT has 18 decimals on some chains). Deposits are
 * credited one raw token unit = one minor unit, so createRegistry refuses a token whose decimals
 * differ from the asset's scale rather than credit it a power of ten off.
 */
const TOKEN_DECIMALS: Record<Network, Partial<Record<CryptoAsset, number>>> = {
  ETH: { USDT: 6, USDC: 6 },
  MATIC: { USDT: 6, USDC: 6 },
  TRX: { USDT: 6 },
};

const DEFAULT_CONFIRMATIONS: Record<Network, number> = { ETH: 64, MATIC: 128, TRX: 20 };
// Ethereum gas makes tiny deposits uneconomic to handle one by one; L2-like networks are cheap.
const DEFAULT_MINIMUM: Record<Network, string> = { ETH: '10', MATIC: '1', TRX: '1' };
const DEFAULT_DUST = '0.01';

type Env = Record<string, string | undefined>;

function contractHex(network: Network, s: string, setting: string): string {
  if (NETWORK_FAMILY[network] === 'TRON' && s.startsWith('T')) {
    try {
      return tronToHex(s);
    } catch {
      throw new ConfigError(setting, `not a valid Tron address: ${s}`);
    }
  }
  const n = normalizeAddress('EVM', s);
  if (!n) throw new ConfigError(setting, `not a valid 0x address: ${s}`);
  return n.toLowerCase();
}

function amount<A extends CryptoAsset>(env: Env, name: string, dflt: string, currency: A): Minor<A> {
  const raw = env[name] ?? dflt;
  const v = parseAmount(currency, raw);
  if (v === null) throw new ConfigError(name, `must be a decimal amount with at most ${ASSET_SCALE[currency]} decimals, got "${raw}"`);
  return v;
}

/**
 * Settings per network N (ETH, MATIC, TRX) and token T (USDT, USDC):
 * OPENRAMP_TOKEN_N_T (contract), OPENRAMP_MIN_DEPOSIT_N (decimal), OPENRAMP_DUST_N (decimal),
 * OPENRAMP_CONFIRMATIONS_N (fallback count), OPENRAMP_FINALIZED_TAG_N (true/false).
 */
export function createRegistry(env: Env = process.env): Registry {
  const policies = new Map<Network, NetworkPolicy>();
  for (const network of NETWORKS) {
    const confName = `OPENRAMP_CONFIRMATIONS_${network}`;
    const conf = env[confName] ? Number(env[confName]) : DEFAULT_CONFIRMATIONS[network];
    if (!Number.isInteger(conf) || conf < 1 || conf > 10_000) throw new ConfigError(confName, 'must be a whole number 1–10000');
    const tagName = `OPENRAMP_FINALIZED_TAG_${network}`;
    const tag = env[tagName] === undefined ? true : ['1', 'true', 'yes'].includes(env[tagName]!.toLowerCase());
    const tokens: TokenEntry[] = [];
    for (const currency of NETWORK_TOKENS[network]) {
      const setting = `OPENRAMP_TOKEN_${network}_${currency}`;
      const display = env[setting]?.trim() || MAINNET_CONTRACTS[network][currency];
      if (!display) continue;
      const decimals = TOKEN_DECIMALS[network][currency];
      if (decimals !== ASSET_SCALE[currency])
        throw new Error(`${currency} on ${network}: contract decimals ${decimals} differ from the asset scale ${ASSET_SCALE[currency]}`);
      tokens.push({
        network,
        currency,
        contract: contractHex(network, display, setting),
        displayContract: display,
        decimals,
        minimum: amount(env, `OPENRAMP_MIN_DEPOSIT_${network}`, DEFAULT_MINIMUM[network], currency),
        dust: amount(env, `OPENRAMP_DUST_${network}`, DEFAULT_DUST, currency),
      });
    }
    policies.set(network, { network, family: NETWORK_FAMILY[network], useFinalizedTag: tag, fallbackConfirmations: conf, tokens });
  }
  return {
    policy: (network) => policies.get(network)!,
    token: (network, contractHex) => policies.get(network)!.tokens.find((t) => t.contract === contractHex.toLowerCase()) ?? null,
    tokenFor: (network, currency) => policies.get(network)!.tokens.find((t) => t.currency === currency) ?? null,
  };
}

/** Addresses as the scanner compares them: lowercase 0x hex for both families. */
export function toScanAddress(family: NetworkFamily, address: string): string {
  return family === 'TRON' ? tronToHex(address) : address.toLowerCase();
}
