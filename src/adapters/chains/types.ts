import type { Network } from './networks.ts';

/**
 * The chain-client interface the scanner reads through. Every implementation (JSON-RPC over
 * viem for ETH/MATIC/TRX, the in-database sandbox chain) speaks the same shapes, so the
 * scanner's code path is identical everywhere. Inside this interface all addresses (tokens,
 * senders, receivers) are lowercase 0x-prefixed 20-byte hex — Tron base58 conversion happens
 * at the edges — and hashes are lowercase 0x-prefixed 32-byte hex.
 */
export interface BlockHeader {
  number: bigint;
  hash: string;
  parentHash: string;
  /** Unix seconds. */
  timestamp: number;
}

export interface TransferLog {
  blockNumber: bigint;
  blockHash: string;
  txHash: string;
  /** Position of the log in its block. */
  logIndex: number;
  /** Token contract (lowercase hex). */
  token: string;
  from: string;
  to: string;
  /** Raw token units (6 decimals for USDT/USDC). */
  value: bigint;
}

export interface ChainClient {
  readonly network: Network;
  /** Number of the latest block. */
  getHeadNumber(): Promise<bigint>;
  /** Number of the latest finalized block, or null when the node has no `finalized` tag. */
  getFinalizedNumber(): Promise<bigint | null>;
  /** The canonical block at this height, or null when it does not exist (yet). */
  getBlock(number: bigint): Promise<BlockHeader | null>;
  /** ERC-20 `Transfer` logs of the given token contracts in [fromBlock, toBlock]. */
  getTransferLogs(range: { fromBlock: bigint; toBlock: bigint }, tokens: string[]): Promise<TransferLog[]>;
}

/** Thrown by getTransferLogs when the node refuses a range as too large; the scanner splits it. */
export class RangeTooLargeError extends Error {
  constructor(message = 'log range too large') {
    super(message);
    this.name = 'RangeTooLargeError';
  }
}

/** keccak256("Transfer(address,address,uint256)") */
export const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';
