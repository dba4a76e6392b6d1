import type { ColumnType, Generated } from 'kysely';
import type { CryptoAsset, FiatAsset, LedgerAsset } from '../lib/money.ts';

/**
 * Kysely table types. Money columns are numeric(78,0) read as strings; repositories turn them into
 * `Minor<A>` with `minorFromDb`. Currency columns carry their asset union (the migrations' check
 * constraints hold the same lists), so a row's currency indexes `ASSET_SCALE` without a cast.
 */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface PartnersTable {
  id: string;
  name: string;
  callback_url: string | null;
  subscribed_events: Json<string[]>;
  ip_whitelist: Json<string[]>;
  webhook_secret_enc: string;
  webhook_secret_prev_enc: string | null;
  rate_limit_per_minute: number | null;
  status: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** 0007: multipart requests must sign the raw body's SHA-256 (docs/request-signing.md). */
  strict_signing: Generated<boolean>;
}

export interface ApiKeysTable {
  id: string;
  partner_id: string;
  api_key: string;
  secret_enc: string;
  status: 'ACTIVE' | 'REVOKED';
  created_at: Timestamp;
  revoked_at: Timestamp | null;
}

export interface AuthNoncesTable {
  api_key_id: string;
  nonce: string;
  expires_at: Timestamp;
}

export interface CustomersTable {
  id: string;
  partner_id: string;
  external_id: string | null;
  name: string;
  email: string;
  type: string;
  is_individual: boolean;
  dob: string | null;
  country: string | null;
  nationality: string | null;
  city: string | null;
  address: string | null;
  status: 'PENDING' | 'CONFIRMED' | 'REJECTED' | 'DELETED';
  remark: string | null;
  version: number;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface BankAccountsTable {
  id: string;
  partner_id: string;
  customer_id: string;
  currency: FiatAsset;
  bank_name: string;
  account_no: string;
  account_name: string;
  swift: string | null;
  iban: string | null;
  aba: string | null;
  sort_code: string | null;
  bsb: string | null;
  institution_number: string | null;
  transit: string | null;
  bank_country: string | null;
  bank_address: string | null;
  beneficiary_address: string | null;
  label: string | null;
  inter_bank_name: string | null;
  inter_bank_bic: string | null;
  inter_bank_account_no: string | null;
  statement_file_name: string | null;
  verification_status: 'PENDING' | 'VERIFIED' | 'REJECTED';
  verification_reason: string | null;
  version: number;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface CustomerDerivationsTable {
  customer_id: string;
  family: 'EVM' | 'TRON';
  derivation_index: number;
  address: string;
  created_at: Timestamp;
}

export interface DepositAddressesTable {
  id: string;
  partner_id: string;
  customer_id: string;
  network: 'ETH' | 'MATIC' | 'TRX';
  family: 'EVM' | 'TRON';
  currency: CryptoAsset;
  address: string;
  derivation_index: number;
  status: 'PENDING' | 'VERIFIED' | 'REJECTED' | 'DELETED';
  version: number;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface FlowsTable {
  id: string;
  partner_id: string;
  customer_id: string;
  type: 'OFFRAMP' | 'ONRAMP';
  deposit_address_id: string;
  bank_account_id: string;
  currency: CryptoAsset;
  network: 'ETH' | 'MATIC' | 'TRX';
  fiat_currency: FiatAsset;
  status: 'ENABLED' | 'DISABLED';
  deleted_at: Timestamp | null;
  version: number;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface EventsTable {
  id: string;
  seq: Generated<string>;
  partner_id: string;
  type: string;
  object_type: string;
  object_id: string;
  object_version: number;
  payload: Json<Record<string, unknown>>;
  created_at: Timestamp;
}

export interface JobsTable {
  id: Generated<string>;
  kind: string;
  payload: Json<Record<string, unknown>>;
  unique_key: string | null;
  status: 'queued' | 'running' | 'done' | 'failed';
  run_at: Timestamp;
  attempts: number;
  max_attempts: number;
  locked_until: Timestamp | null;
  last_error: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface DB {
  partners: PartnersTable;
  api_keys: ApiKeysTable;
  auth_nonces: AuthNoncesTable;
  customers: CustomersTable;
  bank_accounts: BankAccountsTable;
  customer_derivations: CustomerDerivationsTable;
  deposit_addresses: DepositAddressesTable;
  flows: FlowsTable;
  events: EventsTable;
  jobs: JobsTable;
  scanner_cursors: ScannerCursorsTable;
  chain_blocks: ChainBlocksTable;
  deposits: DepositsTable;
  sandbox_blocks: SandboxBlocksTable;
  sandbox_logs: SandboxLogsTable;
  sandbox_pending: SandboxPendingTable;
  trades: TradesTable;
  ledger_journals: LedgerJournalsTable;
  ledger_entries: LedgerEntriesTable;
  payouts: PayoutsTable;
  payout_batches: PayoutBatchesTable;
  webhook_cursors: WebhookCursorsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  key_checks: KeyChecksTable;
}

export interface ScannerCursorsTable {
  network: string;
  block_number: string;
  block_hash: string;
  updated_at: Timestamp;
}

export interface ChainBlocksTable {
  network: string;
  number: string;
  hash: string;
  parent_hash: string;
  timestamp: string;
}

export interface DepositsTable {
  id: string;
  partner_id: string;
  customer_id: string;
  deposit_address_id: string;
  flow_id: string | null;
  network: 'ETH' | 'MATIC' | 'TRX';
  currency: CryptoAsset;
  token_contract: string;
  tx_hash: string;
  log_ordinal: number;
  log_index: number;
  block_number: string;
  block_hash: string;
  from_address: string;
  to_address: string;
  /** numeric(78,0) as a decimal string of minor units. */
  amount: string;
  status: 'RECEIVED' | 'CONFIRMED' | 'ACTION_REQUIRED' | 'REJECTED';
  confirmations: number;
  confirmations_required: number;
  reject_reason: string | null;
  action_reason: string | null;
  hold_reason: string | null;
  aggregate_id: string | null;
  refund_tx_hash: string | null;
  trade_id: ColumnType<string | null, string | null | undefined, string | null>;
  version: number;
  detected_at: Timestamp;
  final_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface SandboxBlocksTable {
  network: string;
  number: string;
  hash: string;
  parent_hash: string;
  timestamp: string;
  canonical: boolean;
}

export interface SandboxLogsTable {
  network: string;
  block_hash: string;
  log_index: number;
  tx_hash: string;
  token: string;
  from_address: string;
  to_address: string;
  value: string;
}

export interface SandboxPendingTable {
  id: Generated<string>;
  network: string;
  tx_hash: string;
  token: string;
  from_address: string;
  to_address: string;
  value: string;
  created_at: Timestamp;
}

export interface WebhookCursorsTable {
  name: string;
  last_seq: string;
  updated_at: Timestamp;
}

export interface WebhookDeliveriesTable {
  id: string;
  partner_id: string;
  event_id: string;
  event_seq: string;
  /** 'auto' from the fan-out (one per partner and event), 'manual' from a redelivery. */
  kind: 'auto' | 'manual';
  status: 'pending' | 'succeeded' | 'failed';
  attempt_count: number;
  /** Set while pending, null once final. */
  next_attempt_at: Timestamp | null;
  /** Set only while an attempt is in flight (the claim's lease). */
  locked_until: Timestamp | null;
  claim_token: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  completed_at: Timestamp | null;
}

export interface WebhookAttemptsTable {
  id: Generated<string>;
  delivery_id: string;
  attempt_number: number;
  request_url: string;
  response_status: number | null;
  latency_ms: number;
  error: string | null;
  response_excerpt: string | null;
  created_at: Timestamp;
}

export interface TradesTable {
  id: string;
  partner_id: string;
  customer_id: string;
  flow_id: string;
  bank_account_id: string;
  deposit_key: string;
  deposit_ids: Json<string[]>;
  from_currency: CryptoAsset;
  from_amount: string;
  to_currency: FiatAsset;
  gross_amount: string;
  spread_fee: string;
  fixed_fee: string;
  to_amount: string;
  remainder_num: string;
  remainder_den: string;
  rate: string;
  rate_source: string;
  rate_time: Timestamp;
  status: 'CREATED' | 'SETTLED' | 'CANCELED';
  cancel_reason: string | null;
  version: number;
  created_at: Timestamp;
  settled_at: Timestamp | null;
  updated_at: Timestamp;
}

export interface LedgerJournalsTable {
  id: string;
  kind: string;
  ref_id: string;
  memo: string;
  created_at: Timestamp;
}

export interface LedgerEntriesTable {
  id: Generated<string>;
  journal_id: string;
  account: string;
  asset: LedgerAsset;
  /** Signed minor units (debit positive), numeric(78,0) as a string. */
  amount: string;
  created_at: Timestamp;
}

export interface PayoutBatchesTable {
  id: string;
  rail: string;
  currency: FiatAsset;
  execution_date: string;
  file_format: string;
  file_name: string;
  file_content: string;
  control_sum: string;
  payout_count: number;
  file_sequence: number;
  status: 'SUBMITTED' | 'ACKNOWLEDGED';
  created_at: Timestamp;
  acknowledged_at: Timestamp | null;
}

export interface PayoutsTable {
  id: string;
  partner_id: string;
  customer_id: string;
  trade_id: string;
  bank_account_id: string;
  attempt: number;
  previous_payout_id: string | null;
  currency: FiatAsset;
  amount: string;
  rail: string;
  status: 'PENDING' | 'HELD' | 'SUBMITTED' | 'SETTLED' | 'RETURNED' | 'CANCELLED';
  wait_reason: string | null;
  /** Why the payment file writer refused it (HELD); kept after release for the record. */
  hold_reason: string | null;
  held_at: Timestamp | null;
  cancel_reason: string | null;
  cancelled_at: Timestamp | null;
  execution_date: string;
  expected_arrival_date: string;
  cutoff_at: Timestamp | null;
  batch_id: string | null;
  bank_reference: string | null;
  return_code: string | null;
  return_reason: string | null;
  version: number;
  created_at: Timestamp;
  submitted_at: Timestamp | null;
  settled_at: Timestamp | null;
  returned_at: Timestamp | null;
  updated_at: Timestamp;
}

// Migration 0006 (pricing). Declared by interface merging so the additions stay in one block.
export interface DB {
  partner_fee_schedules: PartnerFeeSchedulesTable;
  partner_rail_fees: PartnerRailFeesTable;
}

export interface TradesTable {
  /** Partner fee (owed to the partner), fiat minor units; 0 for trades before 0006. */
  partner_fee: ColumnType<string, string | undefined, string>;
  /** Rail the fixed fee was priced for (the expected payout rail); null before 0006. */
  fee_rail: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface PartnerFeeSchedulesTable {
  partner_id: string;
  spread_bps: number;
  partner_fee_bps: number;
  version: number;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface PartnerRailFeesTable {
  partner_id: string;
  rail: string;
  currency: FiatAsset;
  /** Minor units of `currency`. */
  fixed_fee: string;
}

// 0010: idempotency keys, the shared rate-limit counter, the partner's "keys required" setting.
export interface DB {
  idempotency_keys: IdempotencyKeysTable;
  rate_limit_windows: RateLimitWindowsTable;
}

export interface PartnersTable {
  /** 0010: the partner's POSTs must carry an Idempotency-Key (docs/api-contract.md). */
  idempotency_required: Generated<boolean>;
}

export interface IdempotencyKeysTable {
  partner_id: string;
  /** `METHOD /route` as routed (e.g. `POST /customer/create`). */
  route: string;
  idempotency_key: string;
  /** SHA-256 hex of method, path, query and body bytes. */
  fingerprint: string;
  state: 'running' | 'done';
  /** The request holding a `running` reservation (random per request). */
  owner: string | null;
  lease_until: Timestamp | null;
  response_status: number | null;
  response_headers: Json<Record<string, string>> | null;
  response_body: string | null;
  created_at: Timestamp;
  expires_at: Timestamp;
}

export interface RateLimitWindowsTable {
  api_key_id: string;
  window_start: Timestamp;
  hits: number;
}

/** 0012: the master key's check value (one row). */
export interface KeyChecksTable {
  id: number;
  sealed: string;
  updated_at: Timestamp;
}
