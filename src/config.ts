import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './infra/lib/config-error.ts';
import { createRegistry, type Registry } from './adapters/chains/registry.ts';
import { NETWORKS, type Network } from './adapters/chains/networks.ts';
import { CRYPTO_ASSETS, parseAmount, parseRate, type CryptoAsset } from './infra/lib/money.ts';
import { RAILS, RAIL_IDS, type RailId } from './adapters/rails/rails.ts';
import { ECB_DAILY_URL } from './adapters/pricing/ecb.ts';
import { parseTrustedProxies } from './infra/auth/ip-address.ts';
import { tokenWeakness } from './infra/auth/token-strength.ts';

/**
 * Configuration is read once at start-up from environment variables (and an optional JSON
 * file named by OPENRAMP_CONFIG_FILE, whose keys are the same variable names), typed and
 * validated. Any problem throws ConfigError naming the setting.
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

function hardeningConfig(env: Env, mode: Mode): HardeningConfig {
  const legacy = env.OPENRAMP_TRUST_PROXY?.trim();
  // The old boolean trusted every hop, i.e. the left-most (client-written) address: refuse it
  // rather than guess which proxies were meant.
  if (legacy && !['0', 'false', 'no'].includes(legacy.toLowerCase()))
    throw new ConfigError(
      'OPENRAMP_TRUST_PROXY',
      'is no longer supported: list your proxies in OPENRAMP_TRUSTED_PROXIES (comma-separated addresses or CIDRs, e.g. "10.0.0.0/8")',
    );
  const proxies = parseTrustedProxies(env.OPENRAMP_TRUSTED_PROXIES ?? '');
  if (proxies.invalid !== null)
    throw new ConfigError('OPENRAMP_TRUSTED_PROXIES', `"${proxies.invalid}" is not an IP address or CIDR (dotted-quad IPv4 or IPv6)`);
  const headersTimeoutMs = int(env, 'OPENRAMP_HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000);
  const requestTimeoutMs = int(env, 'OPENRAMP_HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000);
  if (headersTimeoutMs > requestTimeoutMs)
    throw new ConfigError(
      'OPENRAMP_HTTP_HEADERS_TIMEOUT_MS',
      `must not exceed OPENRAMP_HTTP_REQUEST_TIMEOUT_MS (${requestTimeoutMs}): the headers are part of the request`,
    );
  return {
    trustedProxies: proxies.entries,
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: int(env, 'OPENRAMP_HTTP_KEEP_ALIVE_TIMEOUT_MS', 5_000, 100, 600_000),
    connectionsMax: int(env, 'OPENRAMP_HTTP_CONNECTIONS_MAX', 4096, 1, 1_000_000),
    // Off by default in the sandbox, where integrating partners fail signatures on purpose.
    authFailuresPerMinuteMax: int(env, 'OPENRAMP_AUTH_FAILURES_PER_MINUTE_MAX', mode === 'production' ? 30 : 0, 0, 1_000_000),
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

function int(env: Env, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(env: Env, name: string, dflt: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (['1', 'true', 'yes'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
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
  const mode = (env.OPENRAMP_MODE ?? 'sandbox') as Mode;
  if (mode !== 'sandbox' && mode !== 'production') {
    throw new ConfigError('OPENRAMP_MODE', `must be "sandbox" or "production", got "${String(mode)}"`);
  }
  const role = (env.OPENRAMP_ROLE ?? 'all') as Role;
  if (!['api', 'worker', 'all'].includes(role)) throw new ConfigError('OPENRAMP_ROLE', 'must be api, worker or all');

  const databaseUrl = env.DATABASE_URL?.trim() || null;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must be a postgres:// or postgresql:// URL');
  }
  const masterKey = env.OPENRAMP_MASTER_KEY ? parseMasterKey(env.OPENRAMP_MASTER_KEY) : null;
  const operatorToken = env.OPENRAMP_OPERATOR_TOKEN?.trim() || null;
  if (operatorToken !== null && operatorToken.length < 24) {
    throw new ConfigError('OPENRAMP_OPERATOR_TOKEN', 'must be at least 24 characters');
  }
  const xpubs = { EVM: env.OPENRAMP_XPUB_EVM?.trim() || null, TRON: env.OPENRAMP_XPUB_TRON?.trim() || null };

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
    const url = env[`OPENRAMP_RPC_URL_${network}`]?.trim();
    if (url) {
      if (!/^https?:\/\//.test(url)) throw new ConfigError(`OPENRAMP_RPC_URL_${network}`, 'must be an http(s) URL');
      rpcUrls[network] = url;
    } else if (mode === 'production') {
      throw new ConfigError(`OPENRAMP_RPC_URL_${network}`, 'is required in production mode');
    }
    const start = env[`OPENRAMP_SCANNER_START_${network}`]?.trim();
    if (start) {
      if (start !== 'head' && !/^\d+$/.test(start))
        throw new ConfigError(`OPENRAMP_SCANNER_START_${network}`, 'must be a block number or "head"');
      scannerStart[network] = start === 'head' ? 'head' : BigInt(start);
    }
  }

  const publicHosts = (env.OPENRAMP_PUBLIC_HOSTS ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);

  return {
    mode,
    role,
    host: env.HOST?.trim() || '127.0.0.1',
    port: int(env, 'PORT', 8080, 0, 65535),
    dataDir: path.resolve(env.OPENRAMP_DATA_DIR?.trim() || './.openramp'),
    databaseUrl,
    masterKey,
    operatorToken,
    xpubs,
    publicHosts,
    auth: {
      timestampWindowSeconds: int(env, 'OPENRAMP_AUTH_WINDOW_SECONDS', 60, 1, 3600),
      rateLimitPerMinute: int(env, 'OPENRAMP_RATE_LIMIT_PER_MINUTE', 100, 1, 1_000_000),
      keyCacheTtlMs: int(env, 'OPENRAMP_KEY_CACHE_TTL_MS', 30_000, 0, 600_000),
    },
    http: {
      bodyLimitBytes: int(env, 'OPENRAMP_BODY_LIMIT_BYTES', 1_048_576, 1024, 50 * 1_048_576),
    },
    hardening: hardeningConfig(env, mode),
    kyc: { sandboxDecisionDelayMs: int(env, 'OPENRAMP_SANDBOX_KYC_DELAY_MS', 3000, 0, 86_400_000) },
    jobs: {
      pollIntervalMs: int(env, 'OPENRAMP_JOB_POLL_INTERVAL_MS', 250, 10, 60_000),
      batchSizeMax: int(env, 'OPENRAMP_JOB_BATCH_SIZE_MAX', 50, 1, 1000),
      leaseMs: int(env, 'OPENRAMP_JOB_LEASE_MS', 60_000, 1000, 3_600_000),
    },
    webhooks: webhookConfig(env),
    logLevel: env.OPENRAMP_LOG_LEVEL?.trim() || 'info',
    rates: ratesConfig(env),
    fees: feesConfig(env),
    payouts: {
      outboxDir: path.resolve(
        env.OPENRAMP_PAYOUT_OUTBOX_DIR?.trim() || path.join(env.OPENRAMP_DATA_DIR?.trim() || './.openramp', 'outbox'),
      ),
      batchLeadMs: int(env, 'OPENRAMP_PAYOUT_BATCH_LEAD_MS', 600_000, 0, 86_400_000),
      batchImmediately: bool(env, 'OPENRAMP_PAYOUT_BATCH_IMMEDIATELY', mode === 'sandbox'),
      sandboxSettleImmediately: bool(env, 'OPENRAMP_SANDBOX_BANK_SETTLE_IMMEDIATELY', true),
      runIntervalMs: int(env, 'OPENRAMP_PAYOUT_RUN_INTERVAL_MS', 1000, 50, 600_000),
    },
    chains: {
      rpcUrls,
      registry: createRegistry(env),
      sandboxBlockIntervalMs: int(env, 'OPENRAMP_SANDBOX_BLOCK_INTERVAL_MS', 1000, 100, 600_000),
      sandboxFinalityDepth: int(env, 'OPENRAMP_SANDBOX_FINALITY_DEPTH', 3, 0, 1000),
      scannerPollIntervalMs: int(env, 'OPENRAMP_SCANNER_POLL_INTERVAL_MS', 1000, 50, 600_000),
      scannerRangeBlocksMax: int(env, 'OPENRAMP_SCANNER_RANGE_BLOCKS_MAX', 2000, 1, 100_000),
      scannerStart,
    },
  };
}

function ratesConfig(env: Env): RatesConfig {
  const source = env.OPENRAMP_RATE_SOURCE?.trim() || 'static';
  if (source !== 'static' && source !== 'ecb') throw new ConfigError('OPENRAMP_RATE_SOURCE', `must be "static" or "ecb", got "${source}"`);
  const ecbUrl = env.OPENRAMP_RATES_ECB_URL?.trim() || ECB_DAILY_URL;
  if (!/^https?:\/\/\S+$/.test(ecbUrl)) throw new ConfigError('OPENRAMP_RATES_ECB_URL', 'must be an http(s) URL');
  const usdPerToken = {} as Record<CryptoAsset, string>;
  for (const token of CRYPTO_ASSETS) {
    const name = `OPENRAMP_RATE_USD_PER_${token}`;
    const raw = env[name]?.trim() || '1';
    const r = parseRate(raw);
    // At most 6 decimals: the rate's precision bounds the rounding remainder the ledger books exactly.
    if (!r || r.scale > 6)
      throw new ConfigError(name, `must be a positive decimal with at most 6 decimals (USD per ${token}), got "${raw}"`);
    usdPerToken[token] = raw;
  }
  return {
    source,
    ecbUrl,
    maxAgeMs: int(env, 'OPENRAMP_RATES_MAX_AGE_MS', 3_600_000, 0, 86_400_000),
    staleAfterDays: int(env, 'OPENRAMP_RATES_STALE_AFTER_DAYS', 5, 1, 30),
    fetchTimeoutMs: int(env, 'OPENRAMP_RATES_FETCH_TIMEOUT_MS', 10_000, 100, 120_000),
    usdPerToken,
  };
}

function feesConfig(env: Env): Config['fees'] {
  const fixedFeeMinor = {} as Record<RailId, bigint>;
  for (const rail of RAIL_IDS) {
    const name = `OPENRAMP_FEE_FIXED_${rail}`;
    const raw = env[name]?.trim() || '0';
    const v = parseAmount(RAILS[rail].currency, raw);
    if (v === null) throw new ConfigError(name, `must be a decimal amount in ${RAILS[rail].currency} (e.g. "0.25"), got "${raw}"`);
    fixedFeeMinor[rail] = v;
  }
  return {
    spreadBps: int(env, 'OPENRAMP_FEE_SPREAD_BPS', 0, 0, 1000),
    partnerFeeBps: int(env, 'OPENRAMP_FEE_PARTNER_BPS', 0, 0, 1000),
    fixedFeeMinor,
  };
}

function webhookConfig(env: Env): WebhookConfig {
  const concurrencyMax = int(env, 'OPENRAMP_WEBHOOK_CONCURRENCY_MAX', 64, 2, 10_000);
  const perPartnerInFlightMax = int(env, 'OPENRAMP_WEBHOOK_PER_PARTNER_IN_FLIGHT_MAX', 8, 1, 10_000);
  if (perPartnerInFlightMax >= concurrencyMax) {
    throw new ConfigError(
      'OPENRAMP_WEBHOOK_PER_PARTNER_IN_FLIGHT_MAX',
      `must be below OPENRAMP_WEBHOOK_CONCURRENCY_MAX (${concurrencyMax}) so one slow endpoint cannot occupy every slot`,
    );
  }
  return {
    retryScheduleMs: parseDurationList(
      env.OPENRAMP_WEBHOOK_RETRY_SCHEDULE?.trim() || DEFAULT_WEBHOOK_RETRY_SCHEDULE,
      'OPENRAMP_WEBHOOK_RETRY_SCHEDULE',
      { itemsMax: 30, itemMaxMs: 7 * 86_400_000 },
    ),
    timeoutMs: int(env, 'OPENRAMP_WEBHOOK_TIMEOUT_MS', 30_000, 100, 120_000),
    concurrencyMax,
    perPartnerInFlightMax,
    pollIntervalMs: int(env, 'OPENRAMP_WEBHOOK_POLL_INTERVAL_MS', 200, 5, 60_000),
    fanoutBatchSizeMax: int(env, 'OPENRAMP_WEBHOOK_FANOUT_BATCH_SIZE_MAX', 500, 1, 10_000),
    shutdownGraceMs: int(env, 'OPENRAMP_WEBHOOK_SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
  };
}

/** Settings shown in the README's configuration table (kept here so docs and code agree). */
export const CONFIG_DOC: [name: string, dflt: string, meaning: string][] = [
  ['OPENRAMP_MODE', 'sandbox', '`sandbox` or `production`'],
  ['OPENRAMP_ROLE', 'all', 'what `serve` runs: `api`, `worker` or `all`'],
  ['HOST / PORT', '127.0.0.1 / 8080', 'listen address'],
  ['OPENRAMP_DATA_DIR', './.openramp', 'PGlite database, sandbox credentials and key files'],
  ['DATABASE_URL', '(PGlite)', 'Postgres 15+ URL; required in production'],
  ['OPENRAMP_MASTER_KEY', '(sandbox: generated)', '32-byte key (hex/base64) encrypting API secrets; required in production'],
  ['OPENRAMP_OPERATOR_TOKEN', '(sandbox: generated)', 'bearer token of the operator API; required in production'],
  ['OPENRAMP_XPUB_EVM / _TRON', '(sandbox: test xpubs)', "account xpubs at m/44'/60'/0' and m/44'/195'/0'; required in production"],
  ['OPENRAMP_PUBLIC_HOSTS', '', 'extra host names accepted in request signatures (comma-separated)'],
  ['OPENRAMP_AUTH_WINDOW_SECONDS', '60', 'allowed clock skew of X-Timestamp, each way'],
  ['OPENRAMP_RATE_LIMIT_PER_MINUTE', '100', 'requests per minute per API key'],
  ['OPENRAMP_BODY_LIMIT_BYTES', '1048576', 'largest accepted request body'],
  [
    'OPENRAMP_TRUSTED_PROXIES',
    '',
    'proxies (addresses/CIDRs, comma-separated) whose X-Forwarded-For hop is believed; the client is the right-most untrusted hop (replaces OPENRAMP_TRUST_PROXY)',
  ],
  ['OPENRAMP_HTTP_HEADERS_TIMEOUT_MS', '10000', 'a client must send all request headers within this'],
  ['OPENRAMP_HTTP_REQUEST_TIMEOUT_MS', '30000', 'a client must send the whole request (headers and body) within this (408 otherwise)'],
  ['OPENRAMP_HTTP_KEEP_ALIVE_TIMEOUT_MS', '5000', 'idle keep-alive connections are closed after this'],
  ['OPENRAMP_HTTP_CONNECTIONS_MAX', '4096', 'open connections per API process; further connections are dropped'],
  [
    'OPENRAMP_AUTH_FAILURES_PER_MINUTE_MAX',
    '30 (sandbox: 0 = off)',
    'failed authentications per source address and per API key per minute; then 429 with Retry-After',
  ],
  ['OPENRAMP_SANDBOX_KYC_DELAY_MS', '3000', 'sandbox KYC decision delay (0 = decide at creation)'],
  [
    'OPENRAMP_WEBHOOK_RETRY_SCHEDULE',
    DEFAULT_WEBHOOK_RETRY_SCHEDULE,
    'webhook attempt delays (first = before the first attempt); after the last attempt fails the delivery is `failed`',
  ],
  ['OPENRAMP_WEBHOOK_TIMEOUT_MS', '30000', 'webhook request timeout (connect to response excerpt)'],
  ['OPENRAMP_WEBHOOK_CONCURRENCY_MAX', '64', 'webhook attempts in flight per worker process, all partners'],
  [
    'OPENRAMP_WEBHOOK_PER_PARTNER_IN_FLIGHT_MAX',
    '8',
    'webhook attempts in flight for one partner (below the concurrency, so a dead endpoint cannot hold every slot)',
  ],
  ['OPENRAMP_WEBHOOK_POLL_INTERVAL_MS', '200', 'how often an idle webhook worker looks for new events and due retries'],
  ['OPENRAMP_WEBHOOK_FANOUT_BATCH_SIZE_MAX', '500', 'events turned into deliveries per fan-out transaction'],
  [
    'OPENRAMP_WEBHOOK_SHUTDOWN_GRACE_MS',
    '10000',
    'on shutdown, wait this long for in-flight webhook attempts, then release them to other workers',
  ],
  [
    'OPENRAMP_RPC_URL_ETH / _MATIC / _TRX',
    '(sandbox chain)',
    'JSON-RPC endpoint per network (java-tron /jsonrpc for TRX); required in production',
  ],
  ['OPENRAMP_TOKEN_<NET>_<USDT|USDC>', 'mainnet contracts', 'allow-listed token contract per network'],
  [
    'OPENRAMP_MIN_DEPOSIT_<NET> / OPENRAMP_DUST_<NET>',
    '10 ETH, 1 MATIC/TRX / 0.01',
    'below the minimum deposits are held and aggregated; at or below dust ignored',
  ],
  [
    'OPENRAMP_CONFIRMATIONS_<NET> / OPENRAMP_FINALIZED_TAG_<NET>',
    '64/128/20 / true',
    'crediting rule: finalized tag, else N confirmations',
  ],
  ['OPENRAMP_SCANNER_START_<NET>', 'head (sandbox chain: 0)', 'first block for a scanner without a cursor'],
  ['OPENRAMP_SCANNER_POLL_INTERVAL_MS / _RANGE_BLOCKS_MAX', '1000 / 2000', 'scanner cadence and largest eth_getLogs range'],
  ['OPENRAMP_SANDBOX_BLOCK_INTERVAL_MS / _FINALITY_DEPTH', '1000 / 3', 'sandbox chain block time and finality depth'],
  ['OPENRAMP_PAYOUT_OUTBOX_DIR', '<data dir>/outbox', 'where payment files are written for the bank connection (<dir>/<rail>/<file>)'],
  [
    'OPENRAMP_PAYOUT_BATCH_IMMEDIATELY',
    'true in sandbox',
    'send each batch at once instead of at its cut-off window (minus OPENRAMP_PAYOUT_BATCH_LEAD_MS, default 600000)',
  ],
  [
    'OPENRAMP_SANDBOX_BANK_SETTLE_IMMEDIATELY',
    'true',
    'sandbox bank settles as soon as it reads a file; false = on the expected arrival date (move time with /sandbox/time/advance)',
  ],
  [
    'OPENRAMP_RATE_SOURCE',
    'static',
    '`static` (built-in table, stablecoins at par) or `ecb` (ECB daily euro reference rates, crossed through USD)',
  ],
  ['OPENRAMP_RATES_ECB_URL', ECB_DAILY_URL, 'where the ECB reference-rate XML is fetched from'],
  [
    'OPENRAMP_RATES_MAX_AGE_MS',
    '3600000',
    'how long a fetched ECB document is reused before it is fetched again (a failed refresh keeps the last good one while not stale)',
  ],
  [
    'OPENRAMP_RATES_STALE_AFTER_DAYS',
    '5',
    'ECB rates published more than this many calendar days ago are refused: trades wait (retry) for fresh rates',
  ],
  ['OPENRAMP_RATES_FETCH_TIMEOUT_MS', '10000', 'timeout of the ECB rate fetch'],
  ['OPENRAMP_RATE_USD_PER_USDT / _USDC', '1', 'USD per token (stablecoin par), both rate sources'],
  [
    'OPENRAMP_FEE_SPREAD_BPS',
    '0',
    'default spread, basis points of the gross fiat amount (0–1000); per partner: POST /ops/partners/:id/fee-schedule',
  ],
  ['OPENRAMP_FEE_PARTNER_BPS', '0', 'default partner fee (owed to the partner), basis points of gross (0–1000)'],
  [
    'OPENRAMP_FEE_FIXED_<RAIL>',
    '0',
    'default fixed fee per payout rail in its currency, e.g. OPENRAMP_FEE_FIXED_SEPA_INSTANT=0.25, OPENRAMP_FEE_FIXED_ACH=0.50',
  ],
  ['OPENRAMP_CONFIG_FILE', '', 'optional JSON file with any of these settings'],
  ['OPENRAMP_LOG_LEVEL', 'info', 'pino log level'],
];
