import { sql, type Kysely } from 'kysely';

/**
 * Deposit detection: scanner cursors and recent block headers per network, deposits, and the
 * sandbox chain (an in-database simulated chain served through the same client interface).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table scanner_cursors (
      network text primary key,
      block_number bigint not null,
      block_hash text not null,
      updated_at timestamptz not null
    )`.execute(db);

  // Recent canonical headers linked by parent_hash: a mismatch with the chain is a reorg.
  await sql`
    create table chain_blocks (
      network text not null,
      number bigint not null,
      hash text not null,
      parent_hash text not null,
      timestamp bigint not null,
      primary key (network, number)
    )`.execute(db);

  await sql`
    create table deposits (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text not null references customers(id),
      deposit_address_id text not null references deposit_addresses(id),
      flow_id text references flows(id),
      network text not null,
      currency text not null,
      token_contract text not null,
      tx_hash text not null,
      log_ordinal integer not null,
      log_index integer not null,
      block_number bigint not null,
      block_hash text not null,
      from_address text not null,
      to_address text not null,
      amount numeric(78,0) not null check (amount > 0),
      status text not null check (status in ('RECEIVED','CONFIRMED','ACTION_REQUIRED','REJECTED')),
      confirmations integer not null,
      confirmations_required integer not null,
      reject_reason text,
      action_reason text,
      hold_reason text,
      aggregate_id text,
      refund_tx_hash text,
      version integer not null default 1,
      detected_at timestamptz not null,
      final_at timestamptz,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      unique (network, tx_hash, log_ordinal)
    )`.execute(db);
  await sql`create index deposits_partner_idx on deposits (partner_id, created_at desc, id desc)`.execute(db);
  await sql`create index deposits_open_idx on deposits (network, block_number) where status = 'RECEIVED'`.execute(db);
  await sql`create index deposits_held_idx on deposits (flow_id) where hold_reason is not null and aggregate_id is null`.execute(db);

  await sql`
    create table sandbox_blocks (
      network text not null,
      number bigint not null,
      hash text not null,
      parent_hash text not null,
      timestamp bigint not null,
      canonical boolean not null,
      primary key (network, hash)
    )`.execute(db);
  await sql`create unique index sandbox_blocks_canonical_uq on sandbox_blocks (network, number) where canonical`.execute(db);

  await sql`
    create table sandbox_logs (
      network text not null,
      block_hash text not null,
      log_index integer not null,
      tx_hash text not null,
      token text not null,
      from_address text not null,
      to_address text not null,
      value numeric(78,0) not null,
      primary key (network, block_hash, log_index)
    )`.execute(db);

  // Transfers waiting for the next sandbox block (and those re-queued by a reorg).
  await sql`
    create table sandbox_pending (
      id bigserial primary key,
      network text not null,
      tx_hash text not null,
      token text not null,
      from_address text not null,
      to_address text not null,
      value numeric(78,0) not null,
      created_at timestamptz not null
    )`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible');
}
