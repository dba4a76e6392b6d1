import { monotonicFactory } from 'ulid';

/** Resource id prefixes (docs/state-machines.md). Ids are `<prefix>_<ULID>`: unique and time-sortable. */
export const ID_PREFIX = {
  partner: 'ptn',
  apiKey: 'key',
  customer: 'cus',
  bankAccount: 'ba',
  depositAddress: 'dad',
  flow: 'flw',
  deposit: 'dep',
  trade: 'trd',
  payout: 'pay',
  event: 'evt',
  webhookDelivery: 'whd',
  aggregate: 'agg',
  journal: 'jnl',
  payoutBatch: 'bat',
  treasuryFunding: 'tfd',
} as const;

export type IdKind = keyof typeof ID_PREFIX;

export interface IdGenerator {
  next(kind: IdKind): string;
}

export function createIdGenerator(nowMs: () => number = Date.now): IdGenerator {
  const ulid = monotonicFactory();
  return { next: (kind) => `${ID_PREFIX[kind]}_${ulid(nowMs()).toLowerCase()}` };
}

/** Cheap shape check so obviously foreign strings never reach a query. */
export function looksLikeId(kind: IdKind, s: string): boolean {
  return new RegExp(`^${ID_PREFIX[kind]}_[0-9a-z]{26}$`).test(s);
}
