// Child process for the API benchmark: an OpenRamp API (signed routes) and a bare Fastify JSON
// route, both listening on loopback, so the parent can load them in the same run.
import Fastify from 'fastify';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config.ts';
import { migrateToLatest, openDatabase } from '../src/infra/db/database.ts';
import { createOpenRamp } from '../src/app.ts';
import { createLogger } from '../src/infra/lib/logger.ts';
import { SANDBOX_XPUBS } from '../src/adapters/chains/addresses.ts';

const schema = process.env.BENCH_PG_SCHEMA || null;
const config = loadConfig({
  OPENRAMP_MODE: 'sandbox',
  OPENRAMP_SANDBOX_KYC_DELAY_MS: '0',
  OPENRAMP_RATE_LIMIT_PER_MINUTE: '1000000',
  OPENRAMP_LOG_LEVEL: 'silent',
});
const database = await openDatabase({
  databaseUrl: process.env.DATABASE_URL || null,
  pgSchema: schema,
  poolSizeMax: Number(process.env.BENCH_POOL ?? 10),
});
await migrateToLatest(database.db, schema);
const openramp = await createOpenRamp({
  config,
  database,
  logger: createLogger({ level: 'silent' }),
  secrets: { masterKey: randomBytes(32), operatorToken: 'x'.repeat(32), xpubs: { ...SANDBOX_XPUBS } },
});
const partner = await openramp.services.partners.create('Bench');
const { customer } = await openramp.services.customers.create(partner.partnerId, { name: 'Bench Customer', email: 'bench@example.com' });
await openramp.api.listen({ host: '127.0.0.1', port: 0 });

const bare = Fastify();
bare.get('/customer/detail', async () => ({
  status: 'SUCCESS',
  data: { id: customer.id, realName: 'Bench Customer', status: 'CONFIRMED' },
}));
await bare.listen({ host: '127.0.0.1', port: 0 });

const port = (s: { server: { address(): unknown } }) => (s.server.address() as { port: number }).port;
process.stdout.write(
  `${JSON.stringify({ openrampPort: port(openramp.api), barePort: port(bare), customerId: customer.id, apiKey: partner.apiKey, apiSecret: partner.apiSecret, db: database.kind })}\n`,
);
process.on('SIGTERM', async () => {
  await bare.close();
  await openramp.close();
  await database.close();
  process.exit(0);
});
