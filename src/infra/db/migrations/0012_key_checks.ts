import { sql, type Kysely } from 'kysely';

/**
 * The master key's check value (docs/security.md, "The master key"): a known text sealed under
 * the key, so a server started under another key refuses to start instead of failing on every
 * signed request.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table key_checks (
      id integer primary key check (id = 1),
      sealed text not null,
      updated_at timestamptz not null
    )`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible');
}
