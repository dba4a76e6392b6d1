import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Config } from './config.ts';
import type { Database, DatabaseHandle } from './infra/db/database.ts';
import { createIdGenerator } from './infra/lib/ids.ts';
import { systemClock, type Clock } from './infra/lib/clock.ts';
import { createSecretBox } from './infra/lib/secret-box.ts';
import { createFieldSealer, SealedColumnsPlugin } from './infra/db/sealed-columns.ts';
import { verifyMasterKey } from './infra/keys/master-key.ts';
import { createOutbox, type Outbox } from './infra/events/outbox.ts';
import { createJobQueue, type JobQueue } from './infra/jobs/queue.ts';
import { createPartners, type Partners } from './domain/partners/partners.ts';
import { createNonceStore, type NonceStore } from './infra/auth/nonce-store.ts';
import { createSharedRateLimiter } from './infra/auth/rate-limit.ts';
import {
  createIdempotencyStore,
  registerJobs as registerIdempotencyJobs,
  schedulePurge as scheduleIdempotencyPurge,
  type IdempotencyStore,
} from './infra/idempotency/store.ts';
import { createCustomers, type Customers } from './domain/customers/customers.ts';
import { createSandboxKyc, registerJobs as registerKycJobs } from './adapters/kyc/kyc.ts';
import { createBankAccounts, type BankAccounts } from './domain/bank-accounts/bank-accounts.ts';
import { nameMatchVerifier } from './domain/bank-accounts/payee-verification.ts';
import { createDepositAddresses, createXpubDeriver, type DepositAddresses } from './domain/deposit-addresses/deposit-addresses.ts';
import { createFlows, type Flows } from './domain/flows/flows.ts';
import {
  createStaticRateSource,
  createTradePreview,
  DEFAULT_STATIC_RATES,
  type RateSource,
  type TradePreview,
} from './adapters/pricing/pricing.ts';
import { createFees, type FeeSchedules } from './adapters/pricing/fees.ts';
import { createEcbRateSource } from './adapters/pricing/ecb.ts';
import { parseRate, type Rate } from './infra/lib/money.ts';
import { createBalances, type Balances } from './domain/ledger/balances.ts';
import { buildApi } from './api/app.ts';
import { createEventHorizon } from './domain/webhooks/horizon.ts';
import { createWebhookDispatcher, type WebhookDispatcher } from './domain/webhooks/dispatcher.ts';
import { createWebhooks, type Webhooks } from './domain/webhooks/webhooks.ts';
import type { NetworkFamily } from './adapters/chains/addresses.ts';
import { createAdjustableClock, type AdjustableClock } from './infra/lib/clock.ts';
import { NETWORKS, NETWORK_FAMILY, type Network } from './adapters/chains/networks.ts';
import type { Registry as TokenRegistry } from './adapters/chains/registry.ts';
import type { ChainClient } from './adapters/chains/types.ts';
import { createSandboxChain, createSandboxTransfers, type SandboxChain, type SandboxTransfers } from './adapters/chains/sandbox-chain.ts';
import { createJsonRpcChainClient } from './adapters/chains/jsonrpc-client.ts';
import { createAddressBook } from './adapters/chains/address-book.ts';
import { createScanner, createScannerMetrics, type Scanner } from './adapters/chains/scanner.ts';
import { createAdvisoryLease } from './adapters/chains/lease.ts';
import { createDeposits, registerJobs as registerDepositJobs, type Deposits } from './domain/deposits/deposits.ts';
import { createLedger, type Ledger } from './domain/ledger/ledger.ts';
import { createTrades, registerJobs as registerTradeJobs, type Trades } from './domain/trades/trades.ts';
import { createPayoutBatchFiles, createPayouts, SANDBOX_DEBTORS, type PayoutBatchFiles, type Payouts } from './domain/payouts/payouts.ts';

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
  /** Idempotency-Key reservations and stored responses (docs/api-contract.md). */
  idempotency: IdempotencyStore;
  customers: Customers;
  bankAccounts: BankAccounts;
  depositAddresses: DepositAddresses;
  flows: Flows;
  rates: RateSource;
  fees: FeeSchedules;
  balances: Balances;
  /** Delivery log, redelivery and the event feed (routes). */
  webhooks: Webhooks;
  /** Fan-out and delivery of webhooks (started by startWorkers). */
  webhookDispatcher: WebhookDispatcher;
  registry: TokenRegistry;
  ledger: Ledger;
  deposits: Deposits;
  trades: Trades;
  payouts: Payouts;
  chainClients: Record<Network, ChainClient>;
  scanners: Record<Network, Scanner>;
  /** The in-database chain serving networks without an RPC URL (sandbox mode), else null. */
  sandboxChain: SandboxChain | null;
  /** Networks served by the sandbox chain. */
  sandboxNetworks: Network[];
  /** Sandbox time (`/sandbox/time/advance`); null in production. */
  sandboxClock: AdjustableClock | null;
  /** Transfers on the sandbox chain (`/sandbox/chain/transfer`, `/deposit/mock`). */
  sandboxTransfers: SandboxTransfers;
  /** Indicative offramp quotes (`/autoramp-flow/trade-preview`). */
  tradePreview: TradePreview;
  /** Payment files sent to the banks (operator API). */
  payoutBatches: PayoutBatchFiles;
}

export interface OpenRamp {
  config: Config;
  /** Random per process; written to the data folder's server.json and shown by `GET /`. */
  instanceId: string;
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

export async function createOpenRamp(opts: {
  config: Config;
  database: DatabaseHandle;
  secrets: RuntimeSecrets;
  logger: Logger;
  /** Business time (sandbox time can be advanced). */
  clock?: Clock;
  /** Wall time for request timestamps, nonces and rate limits: never sandbox time. */
  authClock?: Clock;
}): Promise<OpenRamp> {
  const { config, logger } = opts;
  // Personal data is sealed by the module that writes it and opened here, on every read.
  const sealer = createFieldSealer(opts.secrets.masterKey);
  const instanceId = randomBytes(8).toString('hex');
  const db = opts.database.db.withPlugin(new SealedColumnsPlugin(sealer));
  // Sandbox time can be advanced (`/sandbox/time/advance`); production runs on the system clock.
  const clock = opts.clock ?? (config.mode === 'sandbox' ? createAdjustableClock() : systemClock);
  const sandboxClock = 'advance' in clock ? (clock as AdjustableClock) : null;
  const ids = createIdGenerator(() => clock.now().getTime());
  const box = createSecretBox(opts.secrets.masterKey);
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'openramp_' });

  const outbox = createOutbox({ ids, clock, sealer });
  const jobs = createJobQueue({ db, clock, logger: logger.child({ component: 'jobs' }), metrics, ...config.jobs });
  const partners = createPartners({
    db,
    box,
    ids,
    clock,
    keyPrefix: config.mode === 'production' ? 'ork_live_' : 'ork_test_',
    keyCacheTtlMs: config.auth.keyCacheTtlMs,
    allowPrivateCallbacks: config.mode === 'sandbox',
  });
  // A key that cannot open the stored secrets stops the start here, naming the setting.
  await verifyMasterKey(db, box, () => partners.canOpenStoredSecrets());
  const authClock = opts.authClock ?? systemClock;
  const nonces = createNonceStore({ db, clock: authClock, windowSeconds: config.auth.timestampWindowSeconds });
  const rateLimiter = createSharedRateLimiter({ db });
  // Wall time, like nonces: sandbox time never expires a key or a lease.
  const idempotency = createIdempotencyStore({
    db,
    clock: authClock,
    logger: logger.child({ component: 'idempotency' }),
    config: config.idempotency,
    sealer,
  });
  const kyc = createSandboxKyc({ jobs, clock, delayMs: config.kyc.sandboxDecisionDelayMs });
  const customers = createCustomers({ db, ids, clock, outbox, kyc, sealer });
  const bankAccounts = createBankAccounts({
    db,
    ids,
    clock,
    outbox,
    payeeVerifier: nameMatchVerifier,
    customers,
    debtors: SANDBOX_DEBTORS,
    sealer,
  });
  const depositAddresses = createDepositAddresses({
    db,
    ids,
    clock,
    outbox,
    deriver: createXpubDeriver(opts.secrets.xpubs),
    customers,
  });
  const flows = createFlows({ db, ids, clock, depositAddresses });
  const usdPerToken = { USDT: parseRate(config.rates.usdPerToken.USDT)!, USDC: parseRate(config.rates.usdPerToken.USDC)! } satisfies Record<
    string,
    Rate
  >;
  const rates: RateSource =
    config.rates.source === 'ecb'
      ? createEcbRateSource({
          url: config.rates.ecbUrl,
          clock,
          usdPerToken,
          maxAgeMs: config.rates.maxAgeMs,
          staleAfterDays: config.rates.staleAfterDays,
          fetchTimeoutMs: config.rates.fetchTimeoutMs,
          logger: logger.child({ component: 'rates' }),
        })
      : createStaticRateSource({ ...DEFAULT_STATIC_RATES, ...config.rates.usdPerToken }, clock);
  const fees = createFees({ db, clock, defaults: config.fees });
  const tradePreview = createTradePreview({ rates, fees });

  const registry = config.chains.registry;
  const ledger = createLedger({ db, ids, clock });
  const balances = createBalances({ ledger });
  const deposits = createDeposits({ db, ids, clock, outbox, jobs, registry, ledger });
  const trades = createTrades({ db, ids, clock, outbox, jobs, ledger, rates, fees });
  const payouts = createPayouts({
    db,
    ids,
    clock,
    outbox,
    ledger,
    logger: logger.child({ component: 'payouts' }),
    outboxDir: config.payouts.outboxDir,
    debtors: SANDBOX_DEBTORS,
    batchLeadMs: config.payouts.batchLeadMs,
    batchImmediately: config.payouts.batchImmediately,
    batchSizeMax: 500,
    sealer,
  });
  const payoutBatches = createPayoutBatchFiles(db);
  // Each module registers the handlers of the jobs whose payload it writes.
  registerKycJobs(jobs, { customers });
  registerDepositJobs(jobs, { trades });
  registerTradeJobs(jobs, { trades, payouts });
  registerIdempotencyJobs(jobs, { store: idempotency, db, clock });
  const sandboxNetworks = NETWORKS.filter((n) => !config.chains.rpcUrls[n]);
  const sandboxChain =
    config.mode === 'sandbox' && sandboxNetworks.length > 0
      ? createSandboxChain({
          db,
          clock,
          logger: logger.child({ component: 'sandbox-chain' }),
          networks: sandboxNetworks,
          blockIntervalMs: config.chains.sandboxBlockIntervalMs,
          finalityDepth: config.chains.sandboxFinalityDepth,
        })
      : null;
  const sandboxTransfers = createSandboxTransfers({
    chain: sandboxChain,
    networks: sandboxChain ? sandboxNetworks : [],
    registry,
    ownsAddress: async (partnerId, family, address) => (await depositAddresses.findByAddress(partnerId, family, address)) !== undefined,
  });
  const chainClients = Object.fromEntries(
    NETWORKS.map((network) => {
      const url = config.chains.rpcUrls[network];
      return [network, url ? createJsonRpcChainClient({ network, url }) : sandboxChain!.client(network)];
    }),
  ) as Record<Network, ChainClient>;
  const scannerMetrics = createScannerMetrics(metrics);
  const addressBooks = { EVM: createAddressBook(db, 'EVM'), TRON: createAddressBook(db, 'TRON') };
  const lease = opts.database.kind === 'postgres' ? createAdvisoryLease(db) : null;
  const scanners = Object.fromEntries(
    NETWORKS.map((network) => [
      network,
      createScanner({
        network,
        db,
        client: chainClients[network],
        registry,
        addresses: addressBooks[NETWORK_FAMILY[network]],
        deposits,
        clock,
        logger: logger.child({ component: 'scanner', network }),
        metrics: scannerMetrics,
        pollIntervalMs: config.chains.scannerPollIntervalMs,
        rangeBlocksMax: config.chains.scannerRangeBlocksMax,
        startBlock: config.chains.scannerStart[network] ?? (config.chains.rpcUrls[network] ? 'head' : 0n),
        lease,
      }),
    ]),
  ) as Record<Network, Scanner>;

  const eventHorizon = createEventHorizon(db);
  const webhookDispatcher = createWebhookDispatcher({
    db,
    clock,
    ids,
    partners,
    horizon: eventHorizon,
    logger: logger.child({ component: 'webhooks' }),
    config: config.webhooks,
    allowPrivateTargets: config.mode === 'sandbox',
  });
  const webhooks = createWebhooks({ db, ids, clock, horizon: eventHorizon, partners, notify: () => webhookDispatcher.notify() });

  const services: Services = {
    webhooks,
    webhookDispatcher,
    db,
    clock,
    outbox,
    jobs,
    partners,
    nonces,
    idempotency,
    customers,
    bankAccounts,
    depositAddresses,
    flows,
    rates,
    fees,
    balances,
    registry,
    ledger,
    deposits,
    trades,
    payouts,
    chainClients,
    scanners,
    sandboxChain,
    sandboxNetworks: sandboxChain ? sandboxNetworks : [],
    sandboxClock,
    sandboxTransfers,
    tradePreview,
    payoutBatches,
  };

  const api = await buildApi({
    services,
    logger,
    metrics,
    auth: {
      partners,
      nonces,
      rateLimiter,
      clock: authClock,
      publicHosts: config.publicHosts,
      windowSeconds: config.auth.timestampWindowSeconds,
      rateLimitPerMinute: config.auth.rateLimitPerMinute,
    },
    operatorToken: opts.secrets.operatorToken,
    mode: config.mode,
    bodyLimitBytes: config.http.bodyLimitBytes,
    hardening: config.hardening,
    version: VERSION,
    instanceId,
    idempotency,
  });

  let housekeeping: NodeJS.Timeout | null = null;
  let payoutTimer: NodeJS.Timeout | null = null;
  let payoutRound: Promise<void> | null = null;
  return {
    config,
    instanceId,
    services,
    api,
    metrics,
    logger,
    startWorkers() {
      jobs.start();
      webhookDispatcher.start();
      sandboxChain?.start();
      for (const scanner of Object.values(scanners)) scanner.start();
      // Payout batching and (sandbox) the bank: bounded rounds on a timer.
      payoutTimer = setInterval(() => {
        if (payoutRound) return;
        payoutRound = (async () => {
          await payouts.runBatcher();
          if (sandboxChain || config.mode === 'sandbox')
            await payouts.runSandboxBank({ settleImmediately: config.payouts.sandboxSettleImmediately });
        })()
          .catch((err) => logger.error({ err }, 'payout round failed'))
          .finally(() => {
            payoutRound = null;
          });
      }, config.payouts.runIntervalMs);
      payoutTimer.unref();
      scheduleIdempotencyPurge(jobs, { db, clock }).catch((err) => logger.warn({ err }, 'idempotency purge scheduling failed'));
      housekeeping = setInterval(() => {
        nonces.purgeExpired().catch((err) => logger.warn({ err }, 'nonce purge failed'));
        rateLimiter.purgeExpired(authClock.now().getTime()).catch((err) => logger.warn({ err }, 'rate limit purge failed'));
      }, 60_000);
      housekeeping.unref();
    },
    async close() {
      if (housekeeping) clearInterval(housekeeping);
      if (payoutTimer) clearInterval(payoutTimer);
      await payoutRound;
      for (const scanner of Object.values(scanners)) await scanner.stop();
      await sandboxChain?.stop();
      await webhookDispatcher.stop();
      await jobs.stop();
      await api.close();
      idempotency.abandon();
    },
  };
}
