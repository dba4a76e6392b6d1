import { sql, type Kysely } from 'kysely';

/** Payouts, their rail batches (the files sent to the bank) and per-trade retry history. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table payout_batches (
      id text primary key,
      rail text not null,
      currency text not null,
      execution_date text not null,
      file_format text not null,
      file_name text not null,
      file_content text not null,
      control_sum numeric(78,0) not null,
      payout_count integer not null,
      file_sequence integer not null,
      status text not null check (status in ('SUBMITTED','ACKNOWLEDGED')),
      created_at timestamptz not null,
      acknowledged_at timestamptz
    )`.execute(db);
  await sql`create sequence payout_file_sequence minvalue 1 start 1`.execute(db);

  await sql`
    create table payouts (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text not null references customers(id),
      trade_id text not null references trades(id),
      bank_account_id text not null references bank_accounts(id),
      attempt integer not null,
      previous_payout_id text references payouts(id),
      currency text not null,
      amount numeric(78,0) not null check (amount > 0),
      rail text not null,
      status text not null check (status in ('PENDING','SUBMITTED','SETTLED','RETURNED')),
      wait_reason text,
      execution_date text not null,
      expected_arrival_date text not null,
      cutoff_at timestamptz,
      batch_id text references payout_batches(id),
      bank_reference text,
      return_code text,
      return_reason text,
      version integer not null default 1,
      created_at timestamptz not null,
      submitted_at timestamptz,
      settled_at timestamptz,
      returned_at timestamptz,
      updated_at timestamptz not null,
      unique (trade_id, attempt)
    )`.execute(db);
  await sql`create index payouts_partner_idx on payouts (partner_id, created_at desc, id desc)`.execute(db);
  await sql`create index payouts_pending_idx on payouts (rail, cutoff_at) where status = 'PENDING'`.execute(db);
  await sql`create index payouts_batch_idx on payouts (batch_id)`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible');
}
