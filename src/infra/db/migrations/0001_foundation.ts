import { sql, type Kysely } from 'kysely';

/**
 * Foundation schema: partners and keys, nonce store, customers, bank accounts, deposit
 * addresses, flows, the event outbox and the job queue. SQL kept to what Postgres 15 and
 * PGlite both support.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table partners (
      id text primary key,
      name text not null,
      callback_url text,
      subscribed_events jsonb not null,
      ip_whitelist jsonb not null default '[]'::jsonb,
      webhook_secret_enc text not null,
      webhook_secret_prev_enc text,
      rate_limit_per_minute integer,
      status text not null default 'ACTIVE',
      created_at timestamptz not null,
      updated_at timestamptz not null
    )`.execute(db);

  await sql`
    create table api_keys (
      id text primary key,
      partner_id text not null references partners(id),
      api_key text not null unique,
      secret_enc text not null,
      status text not null check (status in ('ACTIVE','REVOKED')),
      created_at timestamptz not null,
      revoked_at timestamptz
    )`.execute(db);
  await sql`create index api_keys_partner_idx on api_keys (partner_id)`.execute(db);

  // Replay protection must hold across processes: the primary key decides. UNLOGGED because
  // losing it in a crash only re-opens nonces whose timestamps are already outside the window
  // once the server is back (the window is seconds; recovery is not).
  await sql`
    create unlogged table auth_nonces (
      api_key_id text not null,
      nonce text not null,
      expires_at timestamptz not null,
      primary key (api_key_id, nonce)
    )`.execute(db);
  await sql`create index auth_nonces_expiry_idx on auth_nonces (expires_at)`.execute(db);

  await sql`
    create table customers (
      id text primary key,
      partner_id text not null references partners(id),
      external_id text,
      name text not null,
      email text not null,
      type text not null,
      is_individual boolean not null,
      dob text,
      country text,
      nationality text,
      city text,
      address text,
      status text not null check (status in ('PENDING','CONFIRMED','REJECTED','DELETED')),
      remark text,
      version integer not null default 1,
      created_at timestamptz not null,
      updated_at timestamptz not null
    )`.execute(db);
  await sql`create unique index customers_partner_external_uq on customers (partner_id, external_id) where external_id is not null`.execute(
    db,
  );
  await sql`create unique index customers_partner_email_uq on customers (partner_id, lower(email))`.execute(db);
  await sql`create index customers_partner_created_idx on customers (partner_id, created_at desc, id desc)`.execute(db);

  await sql`
    create table bank_accounts (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text not null references customers(id),
      currency text not null,
      bank_name text not null,
      account_no text not null,
      account_name text not null,
      swift text, iban text, aba text, sort_code text, bsb text,
      institution_number text, transit text, bank_country text, bank_address text,
      beneficiary_address text, label text, inter_bank_name text, inter_bank_bic text,
      inter_bank_account_no text, statement_file_name text,
      verification_status text not null check (verification_status in ('PENDING','VERIFIED','REJECTED')),
      verification_reason text,
      version integer not null default 1,
      created_at timestamptz not null,
      updated_at timestamptz not null
    )`.execute(db);
  await sql`create index bank_accounts_partner_idx on bank_accounts (partner_id, created_at desc, id desc)`.execute(db);
  await sql`create index bank_accounts_customer_idx on bank_accounts (customer_id)`.execute(db);

  // One derivation index per customer and network family: ETH and MATIC (and USDT and USDC)
  // share an EVM address, so a transfer on the "other" EVM network still lands on a known address.
  await sql`create sequence derivation_index_evm minvalue 0 start 0`.execute(db);
  await sql`create sequence derivation_index_tron minvalue 0 start 0`.execute(db);
  await sql`
    create table customer_derivations (
      customer_id text not null references customers(id),
      family text not null check (family in ('EVM','TRON')),
      derivation_index integer not null,
      address text not null,
      created_at timestamptz not null,
      primary key (customer_id, family),
      unique (family, derivation_index),
      unique (family, address)
    )`.execute(db);

  await sql`
    create table deposit_addresses (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text not null references customers(id),
      network text not null check (network in ('ETH','MATIC','TRX')),
      family text not null check (family in ('EVM','TRON')),
      currency text not null check (currency in ('USDT','USDC')),
      address text not null,
      derivation_index integer not null,
      status text not null check (status in ('PENDING','VERIFIED','REJECTED','DELETED')),
      version integer not null default 1,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      unique (customer_id, network, currency)
    )`.execute(db);
  await sql`create index deposit_addresses_partner_idx on deposit_addresses (partner_id, created_at desc, id desc)`.execute(db);
  await sql`create index deposit_addresses_address_idx on deposit_addresses (family, address)`.execute(db);

  await sql`
    create table flows (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text not null references customers(id),
      type text not null check (type in ('OFFRAMP','ONRAMP')),
      deposit_address_id text not null references deposit_addresses(id),
      bank_account_id text not null references bank_accounts(id),
      currency text not null,
      network text not null,
      fiat_currency text not null,
      status text not null check (status in ('ENABLED','DISABLED')),
      deleted_at timestamptz,
      version integer not null default 1,
      created_at timestamptz not null,
      updated_at timestamptz not null
    )`.execute(db);
  await sql`create index flows_partner_idx on flows (partner_id, created_at desc, id desc)`.execute(db);
  // Deposits are routed by address: at most one live enabled flow may own a deposit address.
  await sql`create unique index flows_one_enabled_per_address_uq on flows (deposit_address_id) where status = 'ENABLED' and deleted_at is null`.execute(
    db,
  );

  await sql`
    create table events (
      id text primary key,
      seq bigserial unique,
      partner_id text not null references partners(id),
      type text not null,
      object_type text not null,
      object_id text not null,
      object_version integer not null,
      payload jsonb not null,
      created_at timestamptz not null
    )`.execute(db);
  await sql`create index events_partner_seq_idx on events (partner_id, seq)`.execute(db);
  await sql`create index events_object_idx on events (object_id)`.execute(db);

  await sql`
    create table jobs (
      id bigserial primary key,
      kind text not null,
      payload jsonb not null,
      unique_key text unique,
      status text not null check (status in ('queued','running','done','failed')),
      run_at timestamptz not null,
      attempts integer not null default 0,
      max_attempts integer not null,
      locked_until timestamptz,
      last_error text,
      created_at timestamptz not null,
      updated_at timestamptz not null
    )`.execute(db);
  await sql`create index jobs_claim_idx on jobs (status, run_at)`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the foundation migration is not reversible');
}
