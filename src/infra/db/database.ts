import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { Kysely, Migrator, PostgresDialect, sql, type MigrationProvider } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import { MIGRATIONS } from './migrations/index.ts';
import type { DB } from './schema.ts';

export type Database = Kysely<DB>;

export interface DatabaseHandle {
  db: Database;
  kind: 'postgres' | 'pglite';
  /** The embedded instance, when kind is 'pglite' (for dumps in tests). */
  pglite?: PGlite;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Postgres URL; when null an embedded PGlite database is used. */
  databaseUrl: string | null;
  /** PGlite data folder; null = in memory. */
  pgliteDir?: string | null;
  /** A PGlite data-dir dump (tar) to start from; used by tests to skip initdb. */
  pgliteLoadDump?: Blob | null;
  /** Postgres schema to use (tests isolate themselves in their own schema). */
  pgSchema?: string | null;
  poolSizeMax?: number;
}

// int8 and numeric arrive as strings from pg; keep them strings (money is parsed to bigint by
// the code that owns it, never to a float).
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => v);

export async function openDatabase(opts: DatabaseOptions): Promise<DatabaseHandle> {
  if (opts.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: opts.poolSizeMax ?? 10,
      ...(opts.pgSchema ? { options: `-c search_path=${opts.pgSchema}` } : {}),
    });
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    return { db, kind: 'postgres', close: () => db.destroy() };
  }
  // The data folder holds the database and secrets: owner-only, like the files in it.
  if (opts.pgliteDir) mkdirSync(path.dirname(opts.pgliteDir), { recursive: true, mode: 0o700 });
  const pglite = new PGlite({
    // Same as pg above: int8 and numeric stay strings.
    parsers: { [pgliteTypes.INT8]: (v: string) => v, [pgliteTypes.NUMERIC]: (v: string) => v },
    ...(opts.pgliteDir ? { dataDir: opts.pgliteDir } : {}),
    ...(opts.pgliteLoadDump ? { loadDataDir: opts.pgliteLoadDump } : {}),
  });
  await pglite.waitReady;
  const db = new Kysely<DB>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    kind: 'pglite',
    pglite,
    close: async () => {
      await db.destroy();
      if (!pglite.closed) await pglite.close();
    },
  };
}

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/**
 * Applies pending migrations. `schema` pins Kysely's bookkeeping tables to a Postgres schema:
 * its existence check looks across schemas, so isolated schemas (tests) must name theirs.
 */
export async function migrateToLatest(db: Database, schema?: string | null): Promise<string[]> {
  const migrator = new Migrator({ db, provider, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Postgres reports unique violations as SQLSTATE 23505 (pg and PGlite alike). */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string } | null;
  if (e?.code !== '23505') return false;
  return constraint === undefined || e.constraint === constraint;
}

export async function ping(db: Database): Promise<void> {
  await sql`select 1`.execute(db);
}
