import { startDevnet, type Devnet, type StartDevnetOptions } from '../../src/adapters/chains/devnet/devnet.ts';

export {
  startDevnet,
  getFreePort,
  isPortOpen,
  HARDHAT_MNEMONIC,
  DEFAULT_DEVNET_CHAIN_ID,
  DevnetPortInUseError,
} from '../../src/adapters/chains/devnet/devnet.ts';
export type { Devnet, DevnetAccount, StartDevnetOptions, TxResult } from '../../src/adapters/chains/devnet/devnet.ts';
export { compileTestToken, TEST_TOKEN_SOURCE } from '../../src/adapters/chains/devnet/tokens.ts';
export { TRANSFER_TOPIC } from '../../src/adapters/chains/types.ts';

export interface DevnetWithTokens {
  devnet: Devnet;
  /** Lowercase token addresses (6 decimals). */
  tokens: { USDT: `0x${string}`; USDC: `0x${string}` };
}

/**
 * Starts a hardhat devnet and deploys the USDT and USDC test tokens (nothing minted yet).
 * Stop it yourself, e.g. `after(() => devnet?.stop())` next to the `before` that starts it
 * (an `after()` registered from inside a `before` hook runs right after that hook, so this
 * helper cannot register it for you). Forgotten nodes are killed when the process exits.
 */
export async function startDevnetWithTokens(opts: StartDevnetOptions = {}): Promise<DevnetWithTokens> {
  const devnet = await startDevnet(opts);
  try {
    const USDT = await devnet.deployToken('USDT', 'Tether USD (devnet)');
    const USDC = await devnet.deployToken('USDC', 'USD Coin (devnet)');
    return { devnet, tokens: { USDT, USDC } };
  } catch (e) {
    await devnet.stop();
    throw e;
  }
}
