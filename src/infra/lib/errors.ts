/**
 * The one error catalogue. Every failure that crosses a boundary is an AppError with a stable
 * `code`; the HTTP layer maps codes to status + contract envelope, and the job runner decides
 * retries from `isRetryable` (docs/errors.md): only failures known to be transient are retried,
 * everything else parks the job for an operator.
 */
export type ContractStatus = 'INVALID_PARAMETERS' | 'UNAUTHORISED' | 'FAILED';

interface CatalogueEntry {
  httpStatus: number;
  contractStatus: ContractStatus;
  /** A later attempt can succeed without anyone changing anything. */
  retryable: boolean;
  /** Not the caller's doing: the message stays in our logs, the caller sees a request id. */
  internal?: true;
  /** The code met a state its own rules forbid: a job failing with it raises an alert. */
  invariant?: true;
}

export const ERROR_CATALOGUE = {
  INVALID_PARAMETERS: { httpStatus: 422, contractStatus: 'INVALID_PARAMETERS', retryable: false },
  PAYLOAD_TOO_LARGE: { httpStatus: 413, contractStatus: 'INVALID_PARAMETERS', retryable: false },
  UNAUTHORISED: { httpStatus: 401, contractStatus: 'UNAUTHORISED', retryable: false },
  NOT_FOUND: { httpStatus: 422, contractStatus: 'FAILED', retryable: false },
  ROUTE_NOT_FOUND: { httpStatus: 404, contractStatus: 'FAILED', retryable: false },
  CONFLICT: { httpStatus: 422, contractStatus: 'FAILED', retryable: false },
  PRECONDITION_FAILED: { httpStatus: 422, contractStatus: 'FAILED', retryable: false },
  /** Preconditions partners (and tests) must tell apart; same status and envelope as PRECONDITION_FAILED. */
  CUSTOMER_NOT_CONFIRMED: { httpStatus: 422, contractStatus: 'FAILED', retryable: false },
  BANK_ACCOUNT_NOT_VERIFIED: { httpStatus: 422, contractStatus: 'FAILED', retryable: false },
  BANK_ACCOUNT_OF_ANOTHER_CUSTOMER: { httpStatus: 422, contractStatus: 'FAILED', retryable: false },
  /** A payout's wait reason (`waitReason`) while the treasury cannot cover it; refused like a precondition if ever thrown. */
  INSUFFICIENT_TREASURY_FUNDS: { httpStatus: 422, contractStatus: 'FAILED', retryable: false },
  FORBIDDEN_IN_MODE: { httpStatus: 422, contractStatus: 'FAILED', retryable: false },
  /** Someone else moved the object between our read and our write: reading again resolves it. */
  CONCURRENT_UPDATE: { httpStatus: 422, contractStatus: 'FAILED', retryable: true },
  RATE_LIMITED: { httpStatus: 429, contractStatus: 'FAILED', retryable: true },
  DEPENDENCY_UNAVAILABLE: { httpStatus: 503, contractStatus: 'FAILED', retryable: true },
  /** Unexpected failure. Not retried: nothing says a second run would fare better. */
  INTERNAL: { httpStatus: 500, contractStatus: 'FAILED', retryable: false, internal: true },
  /** The code met a state its own rules forbid (a payout above its trade, a move the state machine lacks). */
  INVARIANT_BROKEN: { httpStatus: 500, contractStatus: 'FAILED', retryable: false, internal: true, invariant: true },
  /** A broken invariant with its own code: a deposit asked to fund a second trade. */
  DEPOSIT_ALREADY_TRADED: { httpStatus: 500, contractStatus: 'FAILED', retryable: false, internal: true, invariant: true },
  // API-layer hardening (docs/security.md). Authentication failures keep the contract's 401
  // UNAUTHORISED; the code tells them apart for the partner (X-Error-Code header) and the metrics.
  UNKNOWN_API_KEY: { httpStatus: 401, contractStatus: 'UNAUTHORISED', retryable: false },
  TIMESTAMP_OUT_OF_WINDOW: { httpStatus: 401, contractStatus: 'UNAUTHORISED', retryable: false },
  NONCE_REPLAYED: { httpStatus: 401, contractStatus: 'UNAUTHORISED', retryable: false },
  SIGNATURE_MISMATCH: { httpStatus: 401, contractStatus: 'UNAUTHORISED', retryable: false },
  IP_NOT_ALLOWED: { httpStatus: 401, contractStatus: 'UNAUTHORISED', retryable: false },
  AUTH_THROTTLED: { httpStatus: 429, contractStatus: 'FAILED', retryable: true },
  // Idempotency keys (docs/api-contract.md, "Idempotency keys").
  /** The key was first used for a different request (method, path, query or body differ). */
  IDEMPOTENCY_KEY_REUSED: { httpStatus: 422, contractStatus: 'INVALID_PARAMETERS', retryable: false },
  /** The first request with this key is still running; carries Retry-After. */
  IDEMPOTENCY_KEY_IN_USE: { httpStatus: 409, contractStatus: 'FAILED', retryable: true },
  /** The partner requires an Idempotency-Key on every POST and none was sent. */
  IDEMPOTENCY_KEY_REQUIRED: { httpStatus: 422, contractStatus: 'INVALID_PARAMETERS', retryable: false },
  // Protocol-level refusals keep the HTTP status the framework or Node's parser chose.
  BAD_REQUEST: { httpStatus: 400, contractStatus: 'INVALID_PARAMETERS', retryable: false },
  REQUEST_TIMEOUT: { httpStatus: 408, contractStatus: 'FAILED', retryable: true },
  URI_TOO_LONG: { httpStatus: 414, contractStatus: 'INVALID_PARAMETERS', retryable: false },
  UNSUPPORTED_MEDIA_TYPE: { httpStatus: 415, contractStatus: 'INVALID_PARAMETERS', retryable: false },
  HEADERS_TOO_LARGE: { httpStatus: 431, contractStatus: 'INVALID_PARAMETERS', retryable: false },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly contractStatus: ContractStatus;
  readonly retryable: boolean;
  /** See CatalogueEntry.internal: the HTTP layer shows a request id instead of the message. */
  readonly internal: boolean;
  /** See CatalogueEntry.invariant. */
  readonly invariant: boolean;
  /** Extra response headers (e.g. Retry-After). */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, opts: { headers?: Record<string, string>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    const entry: CatalogueEntry = ERROR_CATALOGUE[code];
    this.httpStatus = entry.httpStatus;
    this.contractStatus = entry.contractStatus;
    this.retryable = entry.retryable;
    this.internal = entry.internal === true;
    this.invariant = entry.invariant === true;
    this.headers = opts.headers ?? {};
  }
}

export const invalidParams = (message: string) => new AppError('INVALID_PARAMETERS', message);
export const notFound = (what: string, id: string) => new AppError('NOT_FOUND', `${what} not found: ${id}`);
export const preconditionFailed = (message: string) => new AppError('PRECONDITION_FAILED', message);
export const unauthorised = (message: string) => new AppError('UNAUTHORISED', message);
export const invariantBroken = (message: string) => new AppError('INVARIANT_BROKEN', message);

/** Postgres SQLSTATEs of transient failures: serialization failure, deadlock, admin/crash shutdown, too many connections. */
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '57P01', '57P02', '57P03', '53300']);
/** Node and undici network failures that a later attempt can get past. */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ABORT_ERR',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
/** SQLSTATE class 08: connection exceptions. */
const PG_CONNECTION_CLASS = /^08[0-9A-Z]{3}$/;
/** node-postgres reports a dropped connection without a SQLSTATE. */
const PG_CONNECTION_LOST = /^Connection terminated( unexpectedly| due to connection timeout)?$/;

/**
 * Whether a failed job may be tried again. Only failures known to be transient are: an AppError
 * marked retryable, a Postgres connection (class 08) or concurrency failure, a network error,
 * a timeout or abort — looked for along the `cause` chain, as fetch and Kysely wrap them.
 * Anything else is a bug or a bad state that repeating would not fix.
 */
export function isRetryable(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && typeof e === 'object' && e !== null; depth++) {
    if (e instanceof AppError) return e.retryable;
    const { code, name, message } = e as { code?: unknown; name?: unknown; message?: unknown };
    if (typeof code === 'string' && (PG_CONNECTION_CLASS.test(code) || TRANSIENT_SQLSTATES.has(code) || TRANSIENT_NETWORK_CODES.has(code)))
      return true;
    if (name === 'AbortError' || name === 'TimeoutError') return true;
    if (typeof message === 'string' && PG_CONNECTION_LOST.test(message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
