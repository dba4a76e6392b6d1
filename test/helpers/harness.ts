import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { loadConfig, type Config } from '../../src/config.ts';
import { migrateToLatest, openDatabase, type DatabaseHandle } from '../../src/infra/db/database.ts';
import { createOpenRamp, type OpenRamp } from '../../src/app.ts';
import { createLogger } from '../../src/infra/lib/logger.ts';
import { SANDBOX_XPUBS } from '../../src/adapters/chains/addresses.ts';
import type { PartnerCredentials } from '../../src/domain/partners/partners.ts';
import { sha256Hex, signRequest } from '../../src/infra/auth/signature.ts';
import type { Clock } from '../../src/infra/lib/clock.ts';
import type { DB } from '../../src/infra/db/schema.ts';

/**
 * Test harness: an isolated database (a PGlite copy of the migrated template, or a fresh
 * schema in DATABASE_URL's Postgres), an app built by the real composition root, and a
 * signing client for `app.inject()`.
 */
export async function openTestDatabase(): Promise<DatabaseHandle> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    const handle = await openDatabase({ databaseUrl: url, pgSchema: schema, poolSizeMax: 5 });
    // Kysely's migrator introspects tables across all schemas; another test file dropping its
    // schema at that moment makes the catalogue query fail (3F000). That is a test-isolation
    // race, not a migration problem: try again.
    for (let attempt = 1; ; attempt++) {
      try {
        await migrateToLatest(handle.db, schema);
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== '3F000' || attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
    return {
      ...handle,
      async close() {
        await handle.close();
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        await c.query(`drop schema ${schema} cascade`);
        await c.end();
      },
    };
  }
  const dumpPath = process.env.OPENRAMP_TEST_PGLITE_DUMP;
  const handle = await openDatabase({ databaseUrl: null, pgliteLoadDump: dumpPath ? new Blob([readFileSync(dumpPath)]) : null });
  await migrateToLatest(handle.db);
  return handle;
}

export interface TestContext {
  openramp: OpenRamp;
  config: Config;
  partner: PartnerCredentials;
  database: DatabaseHandle;
  operatorToken: string;
  /** Temporary folder payment files are written to. */
  outboxDir: string;
  close(): Promise<void>;
}

/** `clock` drives business time and, unless `authClock` is given, request-signature time too. */
export async function createTestContext(
  opts: { env?: Record<string, string>; clock?: Clock; authClock?: Clock } = {},
): Promise<TestContext> {
  const outboxDir = mkdtempSync(path.join(tmpdir(), 'openramp-outbox-'));
  const config = loadConfig({
    OPENRAMP_MODE: 'sandbox',
    OPENRAMP_SANDBOX_KYC_DELAY_MS: '0',
    OPENRAMP_LOG_LEVEL: 'silent',
    OPENRAMP_DATA_DIR: '/nonexistent',
    OPENRAMP_PAYOUT_OUTBOX_DIR: outboxDir,
    // The rate limit counts real-time minutes; a test not about it must not depend on how fast
    // the machine sends its requests. Rate-limit tests set their own limit.
    OPENRAMP_RATE_LIMIT_PER_MINUTE: '1000000',
    ...opts.env,
  });
  const database = await openTestDatabase();
  const operatorToken = `opt_${randomBytes(24).toString('base64url')}`;
  const openramp = await createOpenRamp({
    config,
    database,
    secrets: { masterKey: randomBytes(32), operatorToken, xpubs: { ...SANDBOX_XPUBS } },
    logger: createLogger({ level: config.logLevel }),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...((opts.authClock ?? opts.clock) ? { authClock: opts.authClock ?? opts.clock } : {}),
  });
  const partner = await openramp.services.partners.create('Test Partner');
  return {
    openramp,
    config,
    partner,
    database,
    operatorToken,
    outboxDir,
    async close() {
      await openramp.close();
      await database.close();
      rmSync(outboxDir, { recursive: true, force: true });
    },
  };
}

export interface SignedRequest {
  method: 'GET' | 'POST';
  url: string; // path with optional query
  body?: unknown;
  /** Raw body bytes to send instead of JSON.stringify(body). */
  rawBody?: string;
  host?: string;
  creds?: { apiKey: string; apiSecret: string };
  timestamp?: string;
  nonce?: string;
  headers?: Record<string, string>;
  /** Override what is signed (to test tampering). */
  sign?: Partial<{ method: string; host: string; path: string; query: string; bodySha256Hex: string; timestamp: string; nonce: string }>;
}

export function signedHeaders(r: SignedRequest, creds: { apiKey: string; apiSecret: string }) {
  const host = r.host ?? 'localhost:80';
  const q = r.url.indexOf('?');
  const path = q === -1 ? r.url : r.url.slice(0, q);
  const query = q === -1 ? '' : r.url.slice(q + 1);
  const payload = r.rawBody ?? (r.body === undefined ? '' : JSON.stringify(r.body));
  const timestamp = r.timestamp ?? String(Math.floor(Date.now() / 1000));
  const nonce = r.nonce ?? randomUUID();
  const signature = signRequest(creds.apiSecret, {
    method: r.method,
    host,
    path,
    query,
    bodySha256Hex: r.method === 'GET' || payload === '' ? '' : sha256Hex(payload),
    timestamp,
    nonce,
    ...r.sign,
  });
  return {
    host,
    'x-api-key': creds.apiKey,
    'x-timestamp': timestamp,
    'x-nonce': nonce,
    'x-signature': signature,
    ...(payload !== '' ? { 'content-type': 'application/json' } : {}),
    ...r.headers,
  };
}

export async function call(ctx: TestContext, r: SignedRequest) {
  const creds = r.creds ?? ctx.partner;
  const payload = r.rawBody ?? (r.body === undefined ? undefined : JSON.stringify(r.body));
  const res = await ctx.openramp.api.inject({
    method: r.method,
    url: r.url,
    headers: signedHeaders(r, creds),
    ...(payload !== undefined ? { payload } : {}),
  });
  let json: any = null;
  try {
    json = res.json();
  } catch {
    json = null;
  }
  return { status: res.statusCode, json, headers: res.headers, body: res.body };
}

/** Creates a CONFIRMED customer (KYC delay 0 in tests) with a verified EUR bank account. */
export async function onboard(
  ctx: TestContext,
  opts: { name?: string; currency?: string; bank?: Record<string, unknown>; creds?: { apiKey: string; apiSecret: string } } = {},
) {
  const name = opts.name ?? 'John Doe';
  const creds = opts.creds ?? ctx.partner;
  const email = `${randomBytes(5).toString('hex')}@example.com`;
  const c = await call(ctx, {
    method: 'POST',
    url: '/customer/create',
    body: { name, email, type: 'DEPOSITOR', isIndividual: true },
    creds,
  });
  if (c.status !== 200) throw new Error(`customer create failed: ${c.body}`);
  const customerId = c.json.customerId as string;
  const bank = opts.bank ?? {
    currency: 'EUR',
    bankName: 'Deutsche Bank',
    accountNo: '0532013000',
    iban: 'DE89370400440532013000',
    swift: 'DEUTDEFF',
    accountName: name,
  };
  const b = await call(ctx, { method: 'POST', url: '/bank-account/add', body: { customerId, ...bank }, creds });
  if (b.status !== 200) throw new Error(`bank account add failed: ${b.body}`);
  return { customerId, bankAccountId: b.json.bankAccountId as string, email };
}

/** Rows in one table now: tests compare it before and after a request that must (not) write. */
export async function countRows(ctx: TestContext, table: keyof DB): Promise<number> {
  const r = await ctx.openramp.services.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n); // not money: a row count
}
