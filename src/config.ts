import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './infra/lib/config-error.ts';
import { createRegistry, type NetworkPolicy, type Registry } from './adapters/chains/registry.ts';
import { NETWORKS, type Network } from './adapters/chains/networks.ts';
import { CRYPTO_ASSETS, formatDecimal, parseAmount, parseRate, type CryptoAsset } from './infra/lib/money.ts';
import { RAILS, RAIL_IDS, type RailId } from './adapters/rails/rails.ts';
import { ECB_DAILY_URL } from './adapters/pricing/ecb.ts';
import { parseTrustedProxies } from './infra/auth/ip-address.ts';
import { tokenWeakness } from './infra/auth/token-strength.ts';

/**
 * Configuration is read once at start-up from environment variables (and an optional JSON
 * file named by OPENRAMP_CONFIG_FILE, whose keys are the same variable names), typed and
 * validated. Any problem throws ConfigError naming the setting. Every setting is declared once,
 * in SETTINGS below (docs/configuration.md).
 */
export type Mode = 'sandbox' | 'production';
export type Role = 'api' | 'worker' | 'all';

export interface Config {
  mode: Mode;
  role: Role;
  host: string;
  port: number;
  dataDir: string;
  /** Postgres URL; null means the embedded PGlite database in `<dataDir>/pgdata`. */
  databaseUrl: string | null;
  /** 32-byte key for AES-256-GCM of stored secrets; null = sandbox key file in the data dir. */
  masterKey: Buffer | null;
  /** Bearer token of the operator API; null = sandbox token file in the data dir. */
  operatorToken: string | null;
  xpubs: { EVM: string | null; TRON: string | null };
  publicHosts: string[];
  auth: { timestampWindowSeconds: number; rateLimitPerMinute: number; keyCacheTtlMs: number };
  /** Idempotency keys (docs/api-contract.md): kept `retentionMs` from first use; a dead owner's reservation frees after `leaseMs`. */
  idempotency: { retentionMs: number; leaseMs: number };
  http: { bodyLimitBytes: number };
  /** API-layer hardening settings (see HardeningConfig). */
  hardening: HardeningConfig;
  kyc: { sandboxDecisionDelayMs: number };
  jobs: { pollIntervalMs: number; batchSizeMax: number; leaseMs: number };
  webhooks: WebhookConfig;
  logLevel: string;
  rates: RatesConfig;
  /** Default fee schedule (partners without their own). */
  fees: { spreadBps: number; partnerFeeBps: number; fixedFeeMinor: Record<RailId, bigint> };
  payouts: {
    /** Folder the bank connection reads payment files from (<dir>/<rail>/<file>). */
    outboxDir: string;
    /** Batches close this long before a rail's cut-off. */
    batchLeadMs: number;
    /** Send every batch at once instead of at the window's close (sandbox default). */
    batchImmediately: boolean;
    /** Sandbox bank: settle as soon as a file is read instead of on the expected date. */
    sandboxSettleImmediately: boolean;
    runIntervalMs: number;
  };
  chains: {
    /** JSON-RPC endpoint per network; a network without one runs on the sandbox chain (sandbox mode only). */
    rpcUrls: Partial<Record<Network, string>>;
    registry: Registry;
    sandboxBlockIntervalMs: number;
    sandboxFinalityDepth: number;
    scannerPollIntervalMs: number;
    scannerRangeBlocksMax: number;
    /** Where a scanner without a cursor starts: a block number or the current head. */
    scannerStart: Partial<Record<Network, bigint | 'head'>>;
  };
}

/** Webhook delivery (docs/webhooks.md). Every bound carries its unit. */
export interface WebhookConfig {
  /** Delay before each attempt: [0] before the first, [n] after attempt n fails; then `failed`. */
  retryScheduleMs: number[];
  timeoutMs: number;
  /** Attempts in flight in one process, all partners together. */
  concurrencyMax: number;
  /** Attempts in flight for one partner (all processes): below concurrencyMax, so one slow endpoint cannot take every slot. */
  perPartnerInFlightMax: number;
  pollIntervalMs: number;
  fanoutBatchSizeMax: number;
  /** How long stop() waits for in-flight attempts before releasing them to other processes. */
  shutdownGraceMs: number;
}

// ---------------------------------------------------------------------------------------------
// API-layer hardening (docs/security.md): trusted proxies, HTTP timeouts and connection bound,
// failed-authentication throttling. Kept together as one block of new settings.

export interface HardeningConfig {
  /** OPENRAMP_TRUSTED_PROXIES: addresses/CIDRs whose X-Forwarded-For hop is believed; empty = none. */
  trustedProxies: string[];
  /** OPENRAMP_HTTP_HEADERS_TIMEOUT_MS: a client must send all request headers within this. */
  headersTimeoutMs: number;
  /** OPENRAMP_HTTP_REQUEST_TIMEOUT_MS: … and the whole request (headers and body) within this. */
  requestTimeoutMs: number;
  /** OPENRAMP_HTTP_KEEP_ALIVE_TIMEOUT_MS: an idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** OPENRAMP_HTTP_CONNECTIONS_MAX: open connections per process; further ones are dropped. */
  connectionsMax: number;
  /** OPENRAMP_AUTH_FAILURES_PER_MINUTE_MAX: failed authentications per source address and per API key per minute before 429; 0 = off. */
  authFailuresPerMinuteMax: number;
}

function hardeningConfig(s: Reader, env: Env): HardeningConfig {
  const legacy = env.OPENRAMP_TRUST_PROXY?.trim();
  // The old boolean trusted every hop, i.e. the left-most (client-written) address: refuse it
  // rather than guess which proxies were meant.
  if (legacy && !['0', 'false', 'no'].includes(legacy.toLowerCase()))
    throw new ConfigError(
      'OPENRAMP_TRUST_PROXY',
      'is no longer supported: list your proxies in OPENRAMP_TRUSTED_PROXIES (comma-separated addresses or CIDRs, e.g. "10.0.0.0/8")',
    );
  const proxies = parseTrustedProxies(s.str('OPENRAMP_TRUSTED_PROXIES') ?? '');
  if (proxies.invalid !== null)
    throw new ConfigError('OPENRAMP_TRUSTED_PROXIES', `"${proxies.invalid}" is not an IP address or CIDR (dotted-quad IPv4 or IPv6)`);
  const headersTimeoutMs = s.int('OPENRAMP_HTTP_HEADERS_TIMEOUT_MS');
  const requestTimeoutMs = s.int('OPENRAMP_HTTP_REQUEST_TIMEOUT_MS');
  if (headersTimeoutMs > requestTimeoutMs)
    throw new ConfigError(
      'OPENRAMP_HTTP_HEADERS_TIMEOUT_MS',
      `must not exceed OPENRAMP_HTTP_REQUEST_TIMEOUT_MS (${requestTimeoutMs}): the headers are part of the request`,
    );
  return {
    trustedProxies: proxies.entries,
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: s.int('OPENRAMP_HTTP_KEEP_ALIVE_TIMEOUT_MS'),
    connectionsMax: s.int('OPENRAMP_HTTP_CONNECTIONS_MAX'),
    authFailuresPerMinuteMax: s.int('OPENRAMP_AUTH_FAILURES_PER_MINUTE_MAX'),
  };
}

/** Operator token strength, production only (the sandbox generates its own). */
function checkOperatorToken(token: string | null, mode: Mode): void {
  if (mode !== 'production' || token === null) return;
  const weakness = tokenWeakness(token);
  if (weakness) throw new ConfigError('OPENRAMP_OPERATOR_TOKEN', weakness);
}

// ---------------------------------------------------------------------------------------------

/** Rate source (docs/pricing.md). */
export interface RatesConfig {
  source: 'static' | 'ecb';
  ecbUrl: string;
  /** A fetched ECB document is reused this long before it is fetched again. */
  maxAgeMs: number;
  /** ECB rates published more than this many calendar days ago are refused (trades wait). */
  staleAfterDays: number;
  fetchTimeoutMs: number;
  /** USD per token (stablecoin par), exact decimal strings. */
  usdPerToken: Record<CryptoAsset, string>;
}

/** docs/webhooks.md default: immediate, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const DEFAULT_WEBHOOK_RETRY_SCHEDULE = '0s,5s,5m,30m,2h,5h,10h,10h';

export { ConfigError };

type Env = Record<string, string | undefined>;

// ---------------------------------------------------------------------------
// The settings: one declarative list. It drives the loader below (defaults per mode, bounds,
// allowed values), the CONFIG_DOC text and the README's settings table
// (`npm run docs:settings`); test/config.test.ts checks that the README is up to date and
// that every setting read anywhere in src/ is listed here. Adding a setting = one entry here
// plus the line of loadConfig that reads it (by name, so the compiler checks it is listed).
// ---------------------------------------------------------------------------

export type SettingType =
  | 'string'
  | 'integer'
  | 'boolean'
  | 'enum'
  | 'url'
  | 'path'
  | 'list'
  | 'durations'
  | 'decimal'
  | 'key'
  | 'address'
  | 'block';

export interface SettingDef {
  /** Variable name; `<NET>` (ETH, MATIC, TRX), `<TOKEN>` (USDT, USDC) and `<RAIL>` (a payout rail) stand for one setting per value. */
  name: string;
  type: SettingType;
  /** Value used when the setting is unset or empty, parsed like a given value; one string when both modes agree. */
  default?: string | { sandbox: string; production: string };
  /** How the default reads in the docs when it is not one literal (computed, per network, generated). */
  defaultDoc?: string | (() => string);
  requiredInProduction?: boolean;
  /** Bounds of an integer, inclusive. */
  min?: number;
  max?: number;
  /** Allowed values of an enum. */
  values?: readonly string[];
  unit?: string;
  description: string;
}

/** Mainnet defaults of the chain registry, rendered from the registry itself so the docs cannot drift. */
function registryDoc(pick: (policy: NetworkPolicy) => string): () => string {
  return () => {
    const registry = createRegistry({});
    return NETWORKS.map((n) => `${n} ${pick(registry.policy(n))}`).join(', ');
  };
}
const tokenAmountDoc = (key: 'minimum' | 'dust') =>
  registryDoc((p) => (p.tokens[0] ? trimZeros(formatDecimal(p.tokens[0][key], p.tokens[0].decimals)) : '-'));
const trimZeros = (d: string) => (d.includes('.') ? d.replace(/0+$/, '').replace(/\.$/, '') : d);

export const SETTINGS = [
  {
    name: 'OPENRAMP_CONFIG_FILE',
    type: 'path',
    description: 'optional JSON file of setting names to values; environment variables win over it',
  },
  { name: 'OPENRAMP_MODE', type: 'enum', values: ['sandbox', 'production'], default: 'sandbox', description: '`sandbox` or `production`' },
  {
    name: 'OPENRAMP_ROLE',
    type: 'enum',
    values: ['api', 'worker', 'all'],
    default: 'all',
    description: 'what `serve` runs: `api`, `worker` or `all`',
  },
  { name: 'HOST', type: 'string', default: '127.0.0.1', description: 'listen address' },
  { name: 'PORT', type: 'integer', default: '8080', min: 0, max: 65535, description: 'listen port' },
  {
    name: 'OPENRAMP_DATA_DIR',
    type: 'path',
    default: './.openramp',
    description: 'PGlite database, sandbox credentials, generated keys, payment outbox',
  },
  {
    name: 'DATABASE_URL',
    type: 'url',
    defaultDoc: 'PGlite in `<data dir>/pgdata`',
    requiredInProduction: true,
    description: 'Postgres 15+ URL (`postgres://` or `postgresql://`)',
  },
  {
    name: 'OPENRAMP_MASTER_KEY',
    type: 'key',
    defaultDoc: 'sandbox: generated in `<data dir>/master.key`',
    requiredInProduction: true,
    description: '32-byte key (64 hex characters or base64) encrypting stored secrets (AES-256-GCM)',
  },
  {
    name: 'OPENRAMP_OPERATOR_TOKEN',
    type: 'string',
    defaultDoc: 'sandbox: generated in `<data dir>/operator-token`',
    requiredInProduction: true,
    description: 'bearer token of the operator API (`/ops/*`), at least 24 characters',
  },
  {
    name: 'OPENRAMP_XPUB_EVM',
    type: 'string',
    defaultDoc: 'sandbox: public test xpub',
    requiredInProduction: true,
    description: "account xpub at m/44'/60'/0' for ETH and MATIC deposit addresses; production refuses the test xpub",
  },
  {
    name: 'OPENRAMP_XPUB_TRON',
    type: 'string',
    defaultDoc: 'sandbox: public test xpub',
    requiredInProduction: true,
    description: "account xpub at m/44'/195'/0' for TRX deposit addresses; production refuses the test xpub",
  },
  {
    name: 'OPENRAMP_PUBLIC_HOSTS',
    type: 'list',
    default: '',
    description: 'extra host names accepted in request signatures (comma-separated)',
  },
  {
    name: 'OPENRAMP_AUTH_WINDOW_SECONDS',
    type: 'integer',
    default: '60',
    min: 1,
    max: 3600,
    unit: 's',
    description: 'allowed `X-Timestamp` skew, each way; nonces are remembered for twice this',
  },
  {
    name: 'OPENRAMP_RATE_LIMIT_PER_MINUTE',
    type: 'integer',
    // The sandbox is where a partner loops over its integration tests: 100 a minute throttled
    // them within seconds. Production keeps the contract's 100.
    default: { sandbox: '6000', production: '100' },
    min: 1,
    max: 1_000_000,
    unit: 'requests/min',
    description: 'requests per minute per API key, summed over every API process (a shared counter in the database)',
  },
  {
    name: 'OPENRAMP_KEY_CACHE_TTL_MS',
    type: 'integer',
    default: '30000',
    min: 0,
    max: 600_000,
    unit: 'ms',
    description: 'how long a process caches a resolved API key (a revoked key works this long at most)',
  },
  {
    name: 'OPENRAMP_IDEMPOTENCY_RETENTION_MS',
    type: 'integer',
    default: '86400000',
    min: 60_000,
    max: 30 * 86_400_000,
    unit: 'ms',
    description:
      'how long an `Idempotency-Key` and its stored response are kept after first use (default 24 h); then the key is free again',
  },
  {
    name: 'OPENRAMP_IDEMPOTENCY_LEASE_MS',
    type: 'integer',
    default: '30000',
    min: 1000,
    max: 600_000,
    unit: 'ms',
    description:
      "a running request renews its key's reservation every third of this; a retry may take over a reservation not renewed for this long (its process died)",
  },
  {
    name: 'OPENRAMP_BODY_LIMIT_BYTES',
    type: 'integer',
    default: '1048576',
    min: 1024,
    max: 50 * 1_048_576,
    unit: 'bytes',
    description: 'largest accepted request body',
  },
  {
    name: 'OPENRAMP_TRUSTED_PROXIES',
    type: 'list',
    description:
      'proxies (addresses/CIDRs, comma-separated) whose `X-Forwarded-For` hop is believed; the client is the right-most untrusted hop (see docs/security.md)',
  },
  {
    name: 'OPENRAMP_TRUST_PROXY',
    type: 'boolean',
    description:
      'no longer supported (it trusted the client-written left-most hop): a true value is refused at start; use `OPENRAMP_TRUSTED_PROXIES`',
  },
  {
    name: 'OPENRAMP_HTTP_HEADERS_TIMEOUT_MS',
    type: 'integer',
    default: '10000',
    min: 100,
    max: 600_000,
    unit: 'ms',
    description: 'a client must send all request headers within this',
  },
  {
    name: 'OPENRAMP_HTTP_REQUEST_TIMEOUT_MS',
    type: 'integer',
    default: '30000',
    min: 100,
    max: 3_600_000,
    unit: 'ms',
    description: 'a client must send the whole request (headers and body) within this; 408 otherwise',
  },
  {
    name: 'OPENRAMP_HTTP_KEEP_ALIVE_TIMEOUT_MS',
    type: 'integer',
    default: '5000',
    min: 100,
    max: 600_000,
    unit: 'ms',
    description: 'idle keep-alive connections are closed after this',
  },
  {
    name: 'OPENRAMP_HTTP_CONNECTIONS_MAX',
    type: 'integer',
    default: '4096',
    min: 1,
    max: 1_000_000,
    unit: 'connections',
    description: 'open connections per API process; further connections are dropped',
  },
  {
    name: 'OPENRAMP_AUTH_FAILURES_PER_MINUTE_MAX',
    type: 'integer',
    // Off by default in the sandbox, where integrating partners fail signatures on purpose.
    default: { sandbox: '0', production: '30' },
    min: 0,
    max: 1_000_000,
    unit: 'failures/min',
    description: 'failed authentications per source address and per API key per minute, then 429 with Retry-After; `0` is off',
  },
  {
    name: 'OPENRAMP_SANDBOX_KYC_DELAY_MS',
    type: 'integer',
    // 0 by default: a partner's first customer is decided in the create response (the
    // CUSTOMER_APPROVED/REJECTED event still goes to the webhook); a delay simulates real KYC.
    default: '0',
    min: 0,
    max: 86_400_000,
    unit: 'ms',
    description:
      'sandbox KYC decision delay; `0` decides at creation (the decision event is still sent); a delay leaves the customer `PENDING` that long, as a real provider would',
  },
  {
    name: 'OPENRAMP_JOB_POLL_INTERVAL_MS',
    type: 'integer',
    default: '250',
    min: 10,
    max: 60_000,
    unit: 'ms',
    description: 'how often an idle worker looks for due jobs',
  },
  {
    name: 'OPENRAMP_JOB_BATCH_SIZE_MAX',
    type: 'integer',
    default: '50',
    min: 1,
    max: 1000,
    unit: 'jobs',
    description: 'jobs claimed per poll',
  },
  {
    name: 'OPENRAMP_JOB_LEASE_MS',
    type: 'integer',
    default: '60000',
    min: 1000,
    max: 3_600_000,
    unit: 'ms',
    description: 'a claimed job not finished within this is given to another worker (crash recovery)',
  },
  {
    name: 'OPENRAMP_WEBHOOK_RETRY_SCHEDULE',
    type: 'durations',
    default: DEFAULT_WEBHOOK_RETRY_SCHEDULE,
    description:
      'delay before each attempt (`ms`, `s`, `m`, `h`, `d`; at most 30, each at most 7 days); after the last the delivery is `FAILED` (visible, redeliverable)',
  },
  {
    name: 'OPENRAMP_WEBHOOK_TIMEOUT_MS',
    type: 'integer',
    default: '30000',
    min: 100,
    max: 120_000,
    unit: 'ms',
    description: 'webhook request timeout (connect to response)',
  },
  {
    name: 'OPENRAMP_WEBHOOK_CONCURRENCY_MAX',
    type: 'integer',
    default: '64',
    min: 2,
    max: 10_000,
    unit: 'requests',
    description: 'webhook attempts in flight per worker process, all partners',
  },
  {
    name: 'OPENRAMP_WEBHOOK_PER_PARTNER_IN_FLIGHT_MAX',
    type: 'integer',
    default: '8',
    min: 1,
    max: 10_000,
    unit: 'requests',
    description: 'webhook attempts in flight for one partner; must be below the concurrency so a dead endpoint cannot hold every slot',
  },
  {
    name: 'OPENRAMP_WEBHOOK_POLL_INTERVAL_MS',
    type: 'integer',
    default: '200',
    min: 5,
    max: 60_000,
    unit: 'ms',
    description: 'how often an idle webhook worker looks for new events and due retries',
  },
  {
    name: 'OPENRAMP_WEBHOOK_FANOUT_BATCH_SIZE_MAX',
    type: 'integer',
    default: '500',
    min: 1,
    max: 10_000,
    unit: 'events',
    description: 'events turned into deliveries per fan-out transaction',
  },
  {
    name: 'OPENRAMP_WEBHOOK_SHUTDOWN_GRACE_MS',
    type: 'integer',
    default: '10000',
    min: 0,
    max: 600_000,
    unit: 'ms',
    description: 'on shutdown, wait this long for in-flight webhook attempts, then release them to other workers',
  },
  { name: 'OPENRAMP_LOG_LEVEL', type: 'string', default: 'info', description: 'pino log level' },
  {
    name: 'OPENRAMP_RATE_SOURCE',
    type: 'enum',
    values: ['static', 'ecb'],
    default: 'static',
    description: '`static` (built-in table, stablecoins at par) or `ecb` (ECB daily euro reference rates, crossed through USD)',
  },
  { name: 'OPENRAMP_RATES_ECB_URL', type: 'url', default: ECB_DAILY_URL, description: 'where the ECB reference-rate XML is fetched from' },
  {
    name: 'OPENRAMP_RATES_MAX_AGE_MS',
    type: 'integer',
    default: '3600000',
    min: 0,
    max: 86_400_000,
    unit: 'ms',
    description: 'a fetched ECB document is reused this long; a failed refresh keeps the last good one while not stale',
  },
  {
    name: 'OPENRAMP_RATES_STALE_AFTER_DAYS',
    type: 'integer',
    default: '5',
    min: 1,
    max: 30,
    unit: 'days',
    description: 'ECB rates published more than this many calendar days ago are refused: trades wait (retry) for fresh rates',
  },
  {
    name: 'OPENRAMP_RATES_FETCH_TIMEOUT_MS',
    type: 'integer',
    default: '10000',
    min: 100,
    max: 120_000,
    unit: 'ms',
    description: 'timeout of the ECB rate fetch',
  },
  {
    name: 'OPENRAMP_RATE_USD_PER_<TOKEN>',
    type: 'decimal',
    default: '1',
    unit: 'USD',
    description: 'USD per token (stablecoin par), at most 6 decimals; used by both rate sources',
  },
  {
    name: 'OPENRAMP_FEE_SPREAD_BPS',
    type: 'integer',
    default: '0',
    min: 0,
    max: 1000,
    unit: 'bps',
    description: 'default spread on the gross fiat amount; per partner: `POST /ops/partners/:id/fee-schedule`',
  },
  {
    name: 'OPENRAMP_FEE_PARTNER_BPS',
    type: 'integer',
    default: '0',
    min: 0,
    max: 1000,
    unit: 'bps',
    description: 'default partner fee (owed to the partner) on the gross fiat amount',
  },
  {
    name: 'OPENRAMP_FEE_FIXED_<RAIL>',
    type: 'decimal',
    default: '0',
    unit: 'rail currency',
    description: `default fixed fee per payout, e.g. \`OPENRAMP_FEE_FIXED_SEPA_INSTANT=0.25\`; rails: ${RAIL_IDS.join(', ')}`,
  },
  {
    name: 'OPENRAMP_PAYOUT_OUTBOX_DIR',
    type: 'path',
    defaultDoc: '`<data dir>/outbox`',
    description: 'payment files for the bank connection, `<dir>/<rail>/<file>`',
  },
  {
    name: 'OPENRAMP_PAYOUT_BATCH_LEAD_MS',
    type: 'integer',
    default: '600000',
    min: 0,
    max: 86_400_000,
    unit: 'ms',
    description: "a rail's batch closes this long before its cut-off",
  },
  {
    name: 'OPENRAMP_PAYOUT_BATCH_IMMEDIATELY',
    type: 'boolean',
    default: { sandbox: 'true', production: 'false' },
    description: "send each batch at once instead of at its cut-off window's close",
  },
  {
    name: 'OPENRAMP_PAYOUT_RUN_INTERVAL_MS',
    type: 'integer',
    default: '1000',
    min: 50,
    max: 600_000,
    unit: 'ms',
    description: 'how often the payout batcher (and the sandbox bank) runs',
  },
  {
    name: 'OPENRAMP_SANDBOX_BANK_SETTLE_IMMEDIATELY',
    type: 'boolean',
    default: 'true',
    description:
      'the sandbox bank settles as soon as it reads a file; `false`: on the expected arrival date (move time with `/sandbox/time/advance`)',
  },
  {
    name: 'OPENRAMP_RPC_URL_<NET>',
    type: 'url',
    defaultDoc: 'sandbox chain',
    requiredInProduction: true,
    description: 'JSON-RPC endpoint per network (java-tron `/jsonrpc` for TRX)',
  },
  {
    name: 'OPENRAMP_TOKEN_<NET>_<TOKEN>',
    type: 'address',
    defaultDoc: 'mainnet contracts (no USDC on TRX)',
    description: 'allow-listed token contract per network and token (0x hex; base58 on Tron)',
  },
  {
    name: 'OPENRAMP_CONFIRMATIONS_<NET>',
    type: 'integer',
    defaultDoc: registryDoc((p) => String(p.fallbackConfirmations)),
    min: 1,
    max: 10_000,
    unit: 'blocks',
    description: 'confirmations that make a deposit final when the node has no `finalized` block',
  },
  {
    name: 'OPENRAMP_FINALIZED_TAG_<NET>',
    type: 'boolean',
    default: 'true',
    description: "credit at the node's `finalized` block when it has one, else after the confirmations",
  },
  {
    name: 'OPENRAMP_MIN_DEPOSIT_<NET>',
    type: 'decimal',
    defaultDoc: tokenAmountDoc('minimum'),
    unit: 'token',
    description: 'deposits below it are held and aggregated per flow until the total reaches it',
  },
  {
    name: 'OPENRAMP_DUST_<NET>',
    type: 'decimal',
    defaultDoc: tokenAmountDoc('dust'),
    unit: 'token',
    description: 'transfers at or below it are ignored',
  },
  {
    name: 'OPENRAMP_SCANNER_START_<NET>',
    type: 'block',
    defaultDoc: 'head (sandbox chain: 0)',
    description: 'first block (a number or `head`) for a scanner without a cursor',
  },
  {
    name: 'OPENRAMP_SCANNER_POLL_INTERVAL_MS',
    type: 'integer',
    default: '1000',
    min: 50,
    max: 600_000,
    unit: 'ms',
    description: 'how often a scanner asks its node for new blocks',
  },
  {
    name: 'OPENRAMP_SCANNER_RANGE_BLOCKS_MAX',
    type: 'integer',
    default: '2000',
    min: 1,
    max: 100_000,
    unit: 'blocks',
    description: 'largest block range of one `eth_getLogs` call (split further when the node refuses a range)',
  },
  {
    name: 'OPENRAMP_SANDBOX_BLOCK_INTERVAL_MS',
    type: 'integer',
    default: '1000',
    min: 100,
    max: 600_000,
    unit: 'ms',
    description: 'sandbox chain block time',
  },
  {
    name: 'OPENRAMP_SANDBOX_FINALITY_DEPTH',
    type: 'integer',
    default: '3',
    min: 0,
    max: 1000,
    unit: 'blocks',
    description: 'sandbox chain: a block is final this many blocks below the head',
  },
] as const satisfies readonly SettingDef[];

export type SettingName = (typeof SETTINGS)[number]['name'];

const SETTING_BY_NAME: ReadonlyMap<string, SettingDef> = new Map(SETTINGS.map((s) => [s.name, s]));

function settingDef(name: SettingName): SettingDef {
  return SETTING_BY_NAME.get(name)!;
}

/** The raw default a setting has in a mode (undefined: unset). */
export function settingDefault(def: SettingDef, mode: Mode): string | undefined {
  return typeof def.default === 'object' ? def.default[mode] : def.default;
}

/** One setting's default as the docs show it. */
export function settingDefaultDoc(def: SettingDef): string {
  const dflt = def.defaultDoc !== undefined ? (typeof def.defaultDoc === 'function' ? def.defaultDoc() : def.defaultDoc) : undefined;
  const parts: string[] = [];
  if (dflt !== undefined) parts.push(dflt);
  else if (typeof def.default === 'object') parts.push(`sandbox \`${def.default.sandbox}\`, production \`${def.default.production}\``);
  else if (def.default !== undefined && def.default !== '') parts.push(`\`${def.default}\``);
  if (def.requiredInProduction) parts.push('required in production');
  return parts.join('; ');
}

function settingTypeDoc(def: SettingDef): string {
  if (def.type === 'enum' && def.values) return def.values.join(' \\| ');
  if (def.type === 'integer' && def.min !== undefined && def.max !== undefined) return `integer ${def.min}–${def.max}`;
  return def.type;
}

/** The README's settings table (between `<!-- settings:start -->` and `<!-- settings:end -->`). */
export function settingsMarkdownTable(): string {
  const cell = (s: string) => s.replace(/\|/g, (m, i: number, all: string) => (all[i - 1] === '\\' ? m : '\\|'));
  const rows = SETTINGS.map((def: SettingDef) =>
    [`\`${def.name}\``, settingTypeDoc(def), settingDefaultDoc(def), def.unit ?? '', def.description].map(cell).join(' | '),
  );
  return ['| setting | type | default | unit | meaning |', '| --- | --- | --- | --- | --- |', ...rows.map((r) => `| ${r} |`)].join('\n');
}

/** Every setting with its type, default, unit and meaning, as plain text (the same list as the README table). */
export const CONFIG_DOC: string = SETTINGS.map((def: SettingDef) => {
  const dflt = settingDefaultDoc(def).replace(/`/g, '');
  const unit = def.unit ? ` [${def.unit}]` : '';
  return `${def.name} (${settingTypeDoc(def).replace(/\\\|/g, '|')}${unit})${dflt ? ` default: ${dflt}` : ''}\n    ${def.description.replace(/`/g, '')}`;
}).join('\n');

/**
 * Typed reads of the listed settings: defaults per mode, integer bounds and enum values come
 * from the definition. `vars` fills `<NET>`, `<TOKEN>`, `<RAIL>` of a per-network/token/rail setting.
 */
function settingsReader(env: Env, mode: Mode) {
  const resolve = (name: SettingName, vars: Record<string, string> = {}) => {
    const def = settingDef(name);
    const setting = def.name.replace(/<([A-Z]+)>/g, (_, v: string) => vars[v] ?? `<${v}>`);
    const given = env[setting]?.trim();
    return { def, setting, raw: given ? given : settingDefault(def, mode) };
  };
  return {
    /** The value, or the default (undefined when the setting has none). */
    str(name: SettingName, vars?: Record<string, string>): string | undefined {
      return resolve(name, vars).raw;
    },
    /** Like str, and the name actually read (for error messages of per-network settings). */
    named(name: SettingName, vars?: Record<string, string>): { setting: string; raw: string | undefined } {
      const { setting, raw } = resolve(name, vars);
      return { setting, raw };
    },
    int(name: SettingName): number {
      const { def, setting, raw } = resolve(name);
      if (raw === undefined || !/^\d+$/.test(raw)) throw new ConfigError(setting, `must be a whole number, got "${raw}"`);
      const n = Number(raw);
      const min = def.min ?? 0;
      const max = def.max ?? Number.MAX_SAFE_INTEGER;
      if (n < min || n > max) throw new ConfigError(setting, `must be between ${min} and ${max}, got ${n}`);
      return n;
    },
    bool(name: SettingName): boolean {
      const { setting, raw } = resolve(name);
      if (raw !== undefined && ['1', 'true', 'yes'].includes(raw.toLowerCase())) return true;
      if (raw !== undefined && ['0', 'false', 'no'].includes(raw.toLowerCase())) return false;
      throw new ConfigError(setting, `must be true or false, got "${raw}"`);
    },
    oneOf<T extends string>(name: SettingName): T {
      const { def, setting, raw } = resolve(name);
      const values = def.values ?? [];
      if (raw === undefined || !values.includes(raw))
        throw new ConfigError(setting, `must be ${values.map((v) => `"${v}"`).join(' or ')}, got "${String(raw)}"`);
      return raw as T;
    },
  };
}

function readFileConfig(env: Env): Env {
  const file = env.OPENRAMP_CONFIG_FILE;
  if (!file) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError('OPENRAMP_CONFIG_FILE', `cannot read ${file} as JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('OPENRAMP_CONFIG_FILE', 'must contain a JSON object of setting names to values');
  }
  const out: Env = {};
  for (const [k, v] of Object.entries(parsed)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return out;
}

const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Comma-separated durations such as `0s,5s,5m,30m,2h` → milliseconds. */
export function parseDurationList(raw: string, setting: string, opts: { itemsMax: number; itemMaxMs: number }): number[] {
  const items = raw.split(',').map((x) => x.trim());
  if (items.length === 0 || items.some((x) => x === ''))
    throw new ConfigError(setting, `must be comma-separated durations like ${DEFAULT_WEBHOOK_RETRY_SCHEDULE}, got "${raw}"`);
  if (items.length > opts.itemsMax) throw new ConfigError(setting, `at most ${opts.itemsMax} entries, got ${items.length}`);
  return items.map((item) => {
    const m = /^(\d{1,9})(ms|s|m|h|d)$/.exec(item);
    if (!m) throw new ConfigError(setting, `"${item}" is not a duration (a whole number with ms, s, m, h or d)`);
    const ms = Number(m[1]) * DURATION_UNIT_MS[m[2]!]!;
    if (ms > opts.itemMaxMs) throw new ConfigError(setting, `"${item}" is longer than ${opts.itemMaxMs / 86_400_000} days`);
    return ms;
  });
}

export function parseMasterKey(raw: string, setting = 'OPENRAMP_MASTER_KEY'): Buffer {
  const trimmed = raw.trim();
  let key: Buffer | null = null;
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) key = Buffer.from(trimmed, 'hex');
  else if (/^[A-Za-z0-9+/]{43}=?$/.test(trimmed)) key = Buffer.from(trimmed, 'base64');
  if (key?.length !== 32) throw new ConfigError(setting, 'must be 32 bytes as 64 hex characters or base64');
  return key;
}

export function loadConfig(processEnv: Env = process.env): Config {
  const env: Env = { ...readFileConfig(processEnv), ...processEnv };
  // The mode is read first: other settings' defaults depend on it.
  const mode = settingsReader(env, 'sandbox').oneOf<Mode>('OPENRAMP_MODE');
  const s = settingsReader(env, mode);
  const role = s.oneOf<Role>('OPENRAMP_ROLE');

  const databaseUrl = s.str('DATABASE_URL') ?? null;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must be a postgres:// or postgresql:// URL');
  }
  const masterKeyRaw = s.str('OPENRAMP_MASTER_KEY');
  const masterKey = masterKeyRaw ? parseMasterKey(masterKeyRaw) : null;
  const operatorToken = s.str('OPENRAMP_OPERATOR_TOKEN') ?? null;
  if (operatorToken !== null && operatorToken.length < 24) {
    throw new ConfigError('OPENRAMP_OPERATOR_TOKEN', 'must be at least 24 characters');
  }
  const xpubs = { EVM: s.str('OPENRAMP_XPUB_EVM') ?? null, TRON: s.str('OPENRAMP_XPUB_TRON') ?? null };

  if (mode === 'production') {
    const missing: [string, unknown][] = [
      ['DATABASE_URL', databaseUrl],
      ['OPENRAMP_MASTER_KEY', masterKey],
      ['OPENRAMP_OPERATOR_TOKEN', operatorToken],
      ['OPENRAMP_XPUB_EVM', xpubs.EVM],
      ['OPENRAMP_XPUB_TRON', xpubs.TRON],
    ];
    for (const [name, value] of missing) {
      if (value === null) throw new ConfigError(name, 'is required in production mode');
    }
  }
  checkOperatorToken(operatorToken, mode);

  const rpcUrls: Partial<Record<Network, string>> = {};
  const scannerStart: Partial<Record<Network, bigint | 'head'>> = {};
  for (const network of NETWORKS) {
    const rpc = s.named('OPENRAMP_RPC_URL_<NET>', { NET: network });
    if (rpc.raw) {
      if (!/^https?:\/\//.test(rpc.raw)) throw new ConfigError(rpc.setting, 'must be an http(s) URL');
      rpcUrls[network] = rpc.raw;
    } else if (mode === 'production') {
      throw new ConfigError(rpc.setting, 'is required in production mode');
    }
    const start = s.named('OPENRAMP_SCANNER_START_<NET>', { NET: network });
    if (start.raw) {
      if (start.raw !== 'head' && !/^\d+$/.test(start.raw)) throw new ConfigError(start.setting, 'must be a block number or "head"');
      scannerStart[network] = start.raw === 'head' ? 'head' : BigInt(start.raw);
    }
  }

  const publicHosts = (s.str('OPENRAMP_PUBLIC_HOSTS') ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const dataDir = s.str('OPENRAMP_DATA_DIR')!;

  return {
    mode,
    role,
    host: s.str('HOST')!,
    port: s.int('PORT'),
    dataDir: path.resolve(dataDir),
    databaseUrl,
    masterKey,
    operatorToken,
    xpubs,
    publicHosts,
    auth: {
      timestampWindowSeconds: s.int('OPENRAMP_AUTH_WINDOW_SECONDS'),
      rateLimitPerMinute: s.int('OPENRAMP_RATE_LIMIT_PER_MINUTE'),
      keyCacheTtlMs: s.int('OPENRAMP_KEY_CACHE_TTL_MS'),
    },
    idempotency: {
      retentionMs: s.int('OPENRAMP_IDEMPOTENCY_RETENTION_MS'),
      leaseMs: s.int('OPENRAMP_IDEMPOTENCY_LEASE_MS'),
    },
    http: {
      bodyLimitBytes: s.int('OPENRAMP_BODY_LIMIT_BYTES'),
    },
    hardening: hardeningConfig(s, env),
    kyc: { sandboxDecisionDelayMs: s.int('OPENRAMP_SANDBOX_KYC_DELAY_MS') },
    jobs: {
      pollIntervalMs: s.int('OPENRAMP_JOB_POLL_INTERVAL_MS'),
      batchSizeMax: s.int('OPENRAMP_JOB_BATCH_SIZE_MAX'),
      leaseMs: s.int('OPENRAMP_JOB_LEASE_MS'),
    },
    webhooks: webhookConfig(s),
    logLevel: s.str('OPENRAMP_LOG_LEVEL')!,
    rates: ratesConfig(s),
    fees: feesConfig(s),
    payouts: {
      outboxDir: path.resolve(s.str('OPENRAMP_PAYOUT_OUTBOX_DIR') ?? path.join(dataDir, 'outbox')),
      batchLeadMs: s.int('OPENRAMP_PAYOUT_BATCH_LEAD_MS'),
      batchImmediately: s.bool('OPENRAMP_PAYOUT_BATCH_IMMEDIATELY'),
      sandboxSettleImmediately: s.bool('OPENRAMP_SANDBOX_BANK_SETTLE_IMMEDIATELY'),
      runIntervalMs: s.int('OPENRAMP_PAYOUT_RUN_INTERVAL_MS'),
    },
    chains: {
      rpcUrls,
      // The registry parses its own per-network settings (listed in SETTINGS as OPENRAMP_TOKEN_<NET>_<TOKEN> etc.).
      registry: createRegistry(env),
      sandboxBlockIntervalMs: s.int('OPENRAMP_SANDBOX_BLOCK_INTERVAL_MS'),
      sandboxFinalityDepth: s.int('OPENRAMP_SANDBOX_FINALITY_DEPTH'),
      scannerPollIntervalMs: s.int('OPENRAMP_SCANNER_POLL_INTERVAL_MS'),
      scannerRangeBlocksMax: s.int('OPENRAMP_SCANNER_RANGE_BLOCKS_MAX'),
      scannerStart,
    },
  };
}

type Reader = ReturnType<typeof settingsReader>;

function ratesConfig(s: Reader): RatesConfig {
  const source = s.oneOf<RatesConfig['source']>('OPENRAMP_RATE_SOURCE');
  const ecbUrl = s.str('OPENRAMP_RATES_ECB_URL')!;
  if (!/^https?:\/\/\S+$/.test(ecbUrl)) throw new ConfigError('OPENRAMP_RATES_ECB_URL', 'must be an http(s) URL');
  const usdPerToken = {} as Record<CryptoAsset, string>;
  for (const token of CRYPTO_ASSETS) {
    const { setting, raw = '' } = s.named('OPENRAMP_RATE_USD_PER_<TOKEN>', { TOKEN: token });
    const r = parseRate(raw);
    // At most 6 decimals: the rate's precision bounds the rounding remainder the ledger books exactly.
    if (!r || r.scale > 6)
      throw new ConfigError(setting, `must be a positive decimal with at most 6 decimals (USD per ${token}), got "${raw}"`);
    usdPerToken[token] = raw;
  }
  return {
    source,
    ecbUrl,
    maxAgeMs: s.int('OPENRAMP_RATES_MAX_AGE_MS'),
    staleAfterDays: s.int('OPENRAMP_RATES_STALE_AFTER_DAYS'),
    fetchTimeoutMs: s.int('OPENRAMP_RATES_FETCH_TIMEOUT_MS'),
    usdPerToken,
  };
}

function feesConfig(s: Reader): Config['fees'] {
  const fixedFeeMinor = {} as Record<RailId, bigint>;
  for (const rail of RAIL_IDS) {
    const { setting, raw = '' } = s.named('OPENRAMP_FEE_FIXED_<RAIL>', { RAIL: rail });
    const v = parseAmount(RAILS[rail].currency, raw);
    if (v === null) throw new ConfigError(setting, `must be a decimal amount in ${RAILS[rail].currency} (e.g. "0.25"), got "${raw}"`);
    fixedFeeMinor[rail] = v;
  }
  return {
    spreadBps: s.int('OPENRAMP_FEE_SPREAD_BPS'),
    partnerFeeBps: s.int('OPENRAMP_FEE_PARTNER_BPS'),
    fixedFeeMinor,
  };
}

function webhookConfig(s: Reader): WebhookConfig {
  const concurrencyMax = s.int('OPENRAMP_WEBHOOK_CONCURRENCY_MAX');
  const perPartnerInFlightMax = s.int('OPENRAMP_WEBHOOK_PER_PARTNER_IN_FLIGHT_MAX');
  if (perPartnerInFlightMax >= concurrencyMax) {
    throw new ConfigError(
      'OPENRAMP_WEBHOOK_PER_PARTNER_IN_FLIGHT_MAX',
      `must be below OPENRAMP_WEBHOOK_CONCURRENCY_MAX (${concurrencyMax}) so one slow endpoint cannot occupy every slot`,
    );
  }
  return {
    retryScheduleMs: parseDurationList(s.str('OPENRAMP_WEBHOOK_RETRY_SCHEDULE')!, 'OPENRAMP_WEBHOOK_RETRY_SCHEDULE', {
      itemsMax: 30,
      itemMaxMs: 7 * 86_400_000,
    }),
    timeoutMs: s.int('OPENRAMP_WEBHOOK_TIMEOUT_MS'),
    concurrencyMax,
    perPartnerInFlightMax,
    pollIntervalMs: s.int('OPENRAMP_WEBHOOK_POLL_INTERVAL_MS'),
    fanoutBatchSizeMax: s.int('OPENRAMP_WEBHOOK_FANOUT_BATCH_SIZE_MAX'),
    shutdownGraceMs: s.int('OPENRAMP_WEBHOOK_SHUTDOWN_GRACE_MS'),
  };
}
