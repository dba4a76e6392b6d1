import type { DB } from './schema.ts';

/**
 * Which module owns each table: only the owner's source names the table in a query; every other
 * module goes through the owner's functions. A module is a directory (`src/domain/customers`)
 * or a top-level file. `test/layering.test.ts` scans the source and enforces this, and checks
 * that every table the migrations create is listed here — a new table needs an owner.
 */
export const TABLE_OWNERS = {
  partners: 'src/domain/partners',
  api_keys: 'src/domain/partners',
  auth_nonces: 'src/infra/auth',
  rate_limit_windows: 'src/infra/auth',
  idempotency_keys: 'src/infra/idempotency',
  key_checks: 'src/infra/keys',
  customers: 'src/domain/customers',
  bank_accounts: 'src/domain/bank-accounts',
  customer_derivations: 'src/domain/deposit-addresses',
  deposit_addresses: 'src/domain/deposit-addresses',
  flows: 'src/domain/flows',
  events: 'src/infra/events',
  jobs: 'src/infra/jobs',
  scanner_cursors: 'src/adapters/chains',
  chain_blocks: 'src/adapters/chains',
  deposits: 'src/domain/deposits',
  sandbox_blocks: 'src/adapters/chains',
  sandbox_logs: 'src/adapters/chains',
  sandbox_pending: 'src/adapters/chains',
  trades: 'src/domain/trades',
  ledger_journals: 'src/domain/ledger',
  ledger_entries: 'src/domain/ledger',
  payouts: 'src/domain/payouts',
  payout_batches: 'src/domain/payouts',
  webhook_cursors: 'src/domain/webhooks',
  webhook_deliveries: 'src/domain/webhooks',
  webhook_attempts: 'src/domain/webhooks',
  partner_fee_schedules: 'src/adapters/pricing',
  partner_rail_fees: 'src/adapters/pricing',
} as const satisfies Record<keyof DB, string>;

export type TableName = keyof typeof TABLE_OWNERS;

/**
 * Reads (never writes) a module may make of a table it does not own, each with the reason an
 * owner's function would not do. Keep this list short: a new entry needs the same justification.
 */
export const SHARED_READS: readonly { module: string; table: TableName; reason: string }[] = [
  ...(['deposits', 'trades', 'payouts'] as const).map((table) => ({
    module: 'src/domain/ledger',
    table,
    reason:
      'reconciliation compares the ledger with the business tables by aggregate SQL over them; going through ' +
      "the owners' functions would hide exactly the disagreement it exists to find",
  })),
  {
    module: 'src/domain/webhooks',
    table: 'events',
    reason:
      'webhooks is the outbox consumer: fan-out, redelivery and the event feed read events by seq under the ' +
      'snapshot horizon, which only a query in the same transaction as the cursor can do',
  },
];
