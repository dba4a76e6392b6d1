import { sql, type Kysely } from 'kysely';

/**
 * Trades and the double-entry ledger. A journal is unique per (kind, ref_id) so posting is
 * idempotent; entries carry signed amounts (debit positive) that sum to zero per asset within
 * their journal (checked in code before insert, and by the reconciliation).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table trades (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text not null references customers(id),
      flow_id text not null references flows(id),
      bank_account_id text not null references bank_accounts(id),
      deposit_key text not null unique,
      deposit_ids jsonb not null,
      from_currency text not null,
      from_amount numeric(78,0) not null check (from_amount > 0),
      to_currency text not null,
      gross_amount numeric(78,0) not null,
      spread_fee numeric(78,0) not null,
      fixed_fee numeric(78,0) not null,
      to_amount numeric(78,0) not null,
      remainder_num numeric(78,0) not null,
      remainder_den numeric(78,0) not null,
      rate text not null,
      rate_source text not null,
      rate_time timestamptz not null,
      status text not null check (status in ('CREATED','SETTLED','CANCELED')),
      cancel_reason text,
      version integer not null default 1,
      created_at timestamptz not null,
      settled_at timestamptz,
      updated_at timestamptz not null
    )`.execute(db);
  await sql`create index trades_partner_idx on trades (partner_id, created_at desc, id desc)`.execute(db);
  await sql`alter table deposits add column trade_id text references trades(id)`.execute(db);

  await sql`
    create table ledger_journals (
      id text primary key,
      kind text not null,
      ref_id text not null,
      memo text not null,
      created_at timestamptz not null,
      unique (kind, ref_id)
    )`.execute(db);
  await sql`
    create table ledger_entries (
      id bigserial primary key,
      journal_id text not null references ledger_journals(id),
      account text not null,
      asset text not null,
      amount numeric(78,0) not null check (amount <> 0),
      created_at timestamptz not null
    )`.execute(db);
  await sql`create index ledger_entries_account_idx on ledger_entries (account, asset)`.execute(db);
  await sql`create index ledger_entries_journal_idx on ledger_entries (journal_id)`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible');
}
