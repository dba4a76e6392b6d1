import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Config } from './config.ts';
import type { Database, DatabaseHandle } from './db/database.ts';
import { createIdGenerator } from './lib/ids.ts';
import { systemClock, type Clock } from './lib/clock.ts';
import { createSecretBox } from './lib/secret-box.ts';
import { createOutbox, type Outbox } from './events/outbox.ts';
import { createJobQueue, type JobQueue } from './jobs/queue.ts';
import { createPartners, type Partners } from './partners/partners.ts';
import { createNonceStore, type NonceStore } from './auth/nonce-store.ts';
import { createRateLimiter } from './auth/rate-limit.ts';
import { createCustomers, type Customers } from './customers/customers.ts';
import { createSandboxKyc, sandboxDecision, SANDBOX_KYC_JOB } from './kyc/kyc.ts';
import { createBankAccounts, type BankAccounts } from './bank-accounts/bank-accounts.ts';
import { nameMatchVerifier } from './bank-accounts/payee-verification.ts';
import { createDepositAddresses, createXpubDeriver, type DepositAddresses } from './deposit-addresses/deposit-addresses.ts';
import { createFlows, type Flows } from './flows/flows.ts';
import { createStaticRateSource, DEFAULT_STATIC_RATES, type RateSource } from './pricing/pricing.ts';
import { createDefaultFees, type Fees } from './pricing/fees.ts';
import { createBalances, type Balances } from './ledger/balances.ts';
import { buildApi } from './api/app.ts';
import type { NetworkFamily } from './chains/addresses.ts';

/**
 * The composition root: every subsystem is built here by its factory from explicit
 * dependencies (no module-level singletons), so tests and each server role assemble exactly
 * what they need.
 */
export const VERSION = '0.1.0';

export interface Services {
  db: Database;
  clock: Clock;
  outbox: Outbox;
  jobs: JobQueue;
  partners: Partners;
  nonces: NonceStore;
  customers: Customers;
  bankAccounts: BankAccounts;
  depositAddresses: DepositAddresses;
  flows: Flows;
  rates: RateSource;
  fees: Fees;
  balances: Balances;
}

export interface OpenRamp {
  config: Config;
  services: Services;
  api: FastifyInstance;
  metrics: Registry;
  logger: Logger;
  /** Starts background work for the configured role (job workers, housekeeping). */
  startWorkers(): void;
  close(): Promise<void>;
}

export interface RuntimeSecrets {
  masterKey: Buffer;
  operatorToken: string;
  xpubs: Record<NetworkFamily, string>;
}

export async function createOpenRamp(opts: { config: Config; database: DatabaseHandle; secrets: RuntimeSecrets; logger: Logger; clock?: Clock }): Promise<OpenRamp> {
  const { config, logger } = opts;
  const db = opts.database.db;
  const clock = opts.clock ?? systemClock;
  const ids = createIdGenerator(() => clock.now().getTime());
  const box = createSecretBox(opts.secrets.masterKey);
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'openramp_' });

  const outbox = createOutbox({ ids, clock });
  const jobs = createJobQueue({ db, clock, logger: logger.child({ component: 'jobs' }), ...config.jobs });
  const partners = createPartners({ db, box, ids, clock, keyPrefix: config.mode === 'production' ? 'ork_live_' : 'ork_test_', keyCacheTtlMs: config.auth.keyCacheTtlMs });
  const nonces = createNonceStore({ db, clock, windowSeconds: config.auth.timestampWindowSeconds });
  const kyc = createSandboxKyc({ jobs, clock, delayMs: config.kyc.sandboxDecisionDelayMs });
  const customers = createCustomers({ db, ids, clock, outbox, kyc });
  const bankAccounts = createBankAccounts({ db, ids, clock, outbox, payeeVerifier: nameMatchVerifier });
  const depositAddresses = createDepositAddresses({ db, ids, clock, outbox, deriver: createXpubDeriver(opts.secrets.xpubs) });
  const flows = createFlows({ db, ids, clock, depositAddresses });
  const rates = createStaticRateSource(DEFAULT_STATIC_RATES, clock);
  const fees = createDefaultFees({ spreadBps: 0, fixedFeeMinor: 0n });
  const balances = createBalances();

  jobs.register(SANDBOX_KYC_JOB, async (payload) => {
    const customerId = String(payload.customerId);
    const row = await db.selectFrom('customers').select(['name']).where('id', '=', customerId).executeTakeFirst();
    if (!row) return; // deleted test data: nothing to decide
    const outcome = sandboxDecision(row.name);
    if (outcome.decision) await customers.decide(customerId, outcome.decision, outcome.remark ?? null);
  });

  const services: Services = { db, clock, outbox, jobs, partners, nonces, customers, bankAccounts, depositAddresses, flows, rates, fees, balances };

  const api = await buildApi({
    services,
    logger,
    metrics,
    auth: {
      partners,
      nonces,
      rateLimiter: createRateLimiter(),
      clock,
      publicHosts: config.publicHosts,
      windowSeconds: config.auth.timestampWindowSeconds,
      rateLimitPerMinute: config.auth.rateLimitPerMinute,
    },
    operatorToken: opts.secrets.operatorToken,
    mode: config.mode,
    bodyLimitBytes: config.http.bodyLimitBytes,
    trustProxy: config.http.trustProxy,
    version: VERSION,
  });

  let housekeeping: NodeJS.Timeout | null = null;
  return {
    config,
    services,
    api,
    metrics,
    logger,
    startWorkers() {
      jobs.start();
      housekeeping = setInterval(() => {
        nonces.purgeExpired().catch((err) => logger.warn({ err }, 'nonce purge failed'));
      }, 60_000);
      housekeeping.unref();
    },
    async close() {
      if (housekeeping) clearInterval(housekeeping);
      await jobs.stop();
      await api.close();
    },
  };
}
