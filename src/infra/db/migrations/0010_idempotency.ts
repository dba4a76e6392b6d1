import { sql, type Kysely } from 'kysely';

/**
 * Idempotency keys and the shared rate-limit counter (docs/api-contract.md, "Idempotency keys";
 * docs/request-signing.md, "Rate limit").
 *
 * `idempotency_keys`: one row per partner × route × key. The primary key is the reservation, so
 * it holds across any number of API processes. A row is `running` while its owner (one request
 * in one process) holds a lease it keeps renewing, then `done` with the stored response. It is
 * logged (not UNLOGGED): the stored answer must survive a database restart as the work it
 * describes does.
 *
 * `rate_limit_windows`: requests per API key per fixed one-minute window, summed over every
 * process. UNLOGGED like `auth_nonces`: losing it in a crash only forgets the current minute.
 *
 * `partners.idempotency_required`: the partner's POSTs must carry an Idempotency-Key.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table idempotency_keys (
      partner_id text not null references partners(id),
      route text not null,
      idempotency_key text not null,
      fingerprint text not null,
      state text not null check (state in ('running', 'done')),
      owner text,
      lease_until timestamptz,
      response_status integer,
      response_headers jsonb,
      response_body text,
      created_at timestamptz not null,
      expires_at timestamptz not null,
      primary key (partner_id, route, idempotency_key),
      check ((state = 'running') = (owner is not null and lease_until is not null)),
      check ((state = 'done') = (response_status is not null and response_body is not null))
    )`.execute(db);
  await sql`create index idempotency_keys_expiry_idx on idempotency_keys (expires_at)`.execute(db);

  await sql`
    create unlogged table rate_limit_windows (
      api_key_id text not null,
      window_start timestamptz not null,
      hits integer not null,
      primary key (api_key_id, window_start)
    )`.execute(db);
  await sql`create index rate_limit_windows_start_idx on rate_limit_windows (window_start)`.execute(db);

  await sql`alter table partners add column idempotency_required boolean not null default false`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible');
}
