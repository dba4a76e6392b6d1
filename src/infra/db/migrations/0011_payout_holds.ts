import { sql, type Kysely } from 'kysely';

/**
 * Held and cancelled payouts (docs/state-machines.md, "Payout"; docs/rails.md, "A payout that
 * cannot be paid"). A payout the rail's file writer refuses leaves its batch for `HELD`, with
 * the writer's reason, so the batch goes out without it; an operator releases it (after pointing
 * it at a corrected bank account) or cancels it, which leaves the money owed to the customer.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table payouts drop constraint payouts_status_check`.execute(db);
  await sql`
    alter table payouts add constraint payouts_status_check
      check (status in ('PENDING','HELD','SUBMITTED','SETTLED','RETURNED','CANCELLED'))`.execute(db);
  await sql`alter table payouts add column hold_reason text`.execute(db);
  await sql`alter table payouts add column held_at timestamptz`.execute(db);
  await sql`alter table payouts add column cancel_reason text`.execute(db);
  await sql`alter table payouts add column cancelled_at timestamptz`.execute(db);
  await sql`create index payouts_held_idx on payouts (held_at, id) where status = 'HELD'`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible');
}
