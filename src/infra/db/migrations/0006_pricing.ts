import { sql, type Kysely } from 'kysely';

/**
 * Pricing (docs/pricing.md): per-partner fee schedules — spread and partner fee in basis points, a fixed
 * fee per payout rail in minor units of the rail's currency — and the partner fee and fee rail
 * on each trade. Partners without a schedule use the configured default.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table partner_fee_schedules (
      partner_id text primary key references partners(id),
      spread_bps integer not null check (spread_bps between 0 and 1000),
      partner_fee_bps integer not null check (partner_fee_bps between 0 and 1000),
      version integer not null default 1,
      created_at timestamptz not null,
      updated_at timestamptz not null
    )`.execute(db);
  await sql`
    create table partner_rail_fees (
      partner_id text not null references partner_fee_schedules(partner_id) on delete cascade,
      rail text not null,
      currency text not null,
      fixed_fee numeric(78,0) not null check (fixed_fee >= 0),
      primary key (partner_id, rail)
    )`.execute(db);
  // Trades before this migration had no partner fee (0) and no recorded fee rail (null).
  await sql`alter table trades add column partner_fee numeric(78,0) not null default 0 check (partner_fee >= 0)`.execute(db);
  await sql`alter table trades add column fee_rail text`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible');
}
