import { sql, type Kysely } from 'kysely';

/**
 * Webhooks (docs/webhooks.md): a fan-out cursor over events.seq, one delivery per (partner, event) for the
 * automatic path (manual redeliveries add rows of their own), and a log of every attempt.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // One row per consumer of the event stream; the fan-out locks its row (FOR UPDATE) so any
  // number of worker processes can run it without double work or skipped events.
  await sql`
    create table webhook_cursors (
      name text primary key,
      last_seq bigint not null,
      updated_at timestamptz not null
    )`.execute(db);
  // From 0: events written before this migration were promised delivery too.
  await sql`insert into webhook_cursors (name, last_seq, updated_at) values ('fanout', 0, now())`.execute(db);

  await sql`
    create table webhook_deliveries (
      id text primary key,
      partner_id text not null references partners(id),
      event_id text not null references events(id),
      event_seq bigint not null,
      kind text not null check (kind in ('auto','manual')),
      status text not null check (status in ('pending','succeeded','failed')),
      attempt_count integer not null default 0,
      next_attempt_at timestamptz,
      locked_until timestamptz,
      claim_token text,
      last_status_code integer,
      last_error text,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      completed_at timestamptz,
      check ((status = 'pending') = (next_attempt_at is not null))
    )`.execute(db);
  // At most one automatic delivery per event and partner, whatever the fan-out does twice.
  await sql`create unique index webhook_deliveries_auto_uq on webhook_deliveries (partner_id, event_id) where kind = 'auto'`.execute(db);
  // Claim order: due first, then event order.
  await sql`create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at, event_seq) where status = 'pending'`.execute(
    db,
  );
  // In-flight attempts (all processes): locked_until is set only while an attempt runs.
  await sql`create index webhook_deliveries_inflight_idx on webhook_deliveries (partner_id) where locked_until is not null`.execute(db);
  await sql`create index webhook_deliveries_partner_idx on webhook_deliveries (partner_id, created_at desc, id desc)`.execute(db);
  await sql`create index webhook_deliveries_event_idx on webhook_deliveries (event_id)`.execute(db);

  await sql`
    create table webhook_attempts (
      id bigserial primary key,
      delivery_id text not null references webhook_deliveries(id),
      attempt_number integer not null,
      request_url text not null,
      response_status integer,
      latency_ms integer not null,
      error text,
      response_excerpt text,
      created_at timestamptz not null
    )`.execute(db);
  await sql`create index webhook_attempts_delivery_idx on webhook_attempts (delivery_id, attempt_number)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table webhook_attempts`.execute(db);
  await sql`drop table webhook_deliveries`.execute(db);
  await sql`drop table webhook_cursors`.execute(db);
}
