import { sql, type Kysely } from 'kysely';

/**
 * Strict signing mode per partner (docs/request-signing.md, "Multipart bodies"): when on, a
 * multipart request must sign the SHA-256 of its raw body; the empty body hash is refused.
 * Off for existing partners, whose integrations may sign uploads with the empty hash.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table partners add column strict_signing boolean not null default false`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('not reversible');
}
