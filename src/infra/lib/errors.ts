/**
 * The one error catalogue. Every failure that crosses a boundary is an AppError with a stable
 * `code`; the HTTP layer maps codes to status + contract envelope, and the job runner decides
 * retries from `retryable` (docs/errors.md).
 */
export type ContractStatus = 'INVALID_PARAMETERS' | 'UNAUTHORISED' | 'FAILED';

interface CatalogueEntry {
  httpStatus: number;
  contractStatus: ContractStatus;
  retryable: boolean;
}

export const ERROR_CATALOGUE = {
  INVALID_PARAMETERS: { httpStatus: 422, contractStatus: 'INVALID_PARAMETERS', retryable: false },
  PAYLOAD_TOO_LARGE: { httpStatus: 413, contractStatus: 'INVALID_PARAMETERS', retryable: false },
  UNAUTHORISED: { httpStatus: 401, contractStatus: 'UNAUTHORISED', retryable: false },
  NOT_FOUND: { httpStatus: 422, contractStatus: 'FAILED', retryable: false },
  ROUTE_NOT_FOUND: { httpStatus: 404, contractStatus: 'FAILED', retryable: false },
  CONFLICT: { httpStatus: 422, contractStatus: 'FAILED', retryable: false },
  PRECONDITION_FAILED: { httpStatus: 422, contractStatus: 'FAILED', retryable: false },
  FORBIDDEN_IN_MODE: { httpStatus: 422, contractStatus: 'FAILED', retryable: false },
  RATE_LIMITED: { httpStatus: 429, contractStatus: 'FAILED', retryable: true },
  DEPENDENCY_UNAVAILABLE: { httpStatus: 503, contractStatus: 'FAILED', retryable: true },
  INTERNAL: { httpStatus: 500, contractStatus: 'FAILED', retryable: true },
  // API-layer hardening (docs/security.md). Authentication failures keep the contract's 401
  // UNAUTHORISED; the code tells them apart for the partner (X-Error-Code header) and the metrics.
  UNKNOWN_API_KEY: { httpStatus: 401, contractStatus: 'UNAUTHORISED', retryable: false },
  TIMESTAMP_OUT_OF_WINDOW: { httpStatus: 401, contractStatus: 'UNAUTHORISED', retryable: false },
  NONCE_REPLAYED: { httpStatus: 401, contractStatus: 'UNAUTHORISED', retryable: false },
  SIGNATURE_MISMATCH: { httpStatus: 401, contractStatus: 'UNAUTHORISED', retryable: false },
  IP_NOT_ALLOWED: { httpStatus: 401, contractStatus: 'UNAUTHORISED', retryable: false },
  AUTH_THROTTLED: { httpStatus: 429, contractStatus: 'FAILED', retryable: true },
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
    this.headers = opts.headers ?? {};
  }
}

export const invalidParams = (message: string) => new AppError('INVALID_PARAMETERS', message);
export const notFound = (what: string, id: string) => new AppError('NOT_FOUND', `${what} not found: ${id}`);
export const preconditionFailed = (message: string) => new AppError('PRECONDITION_FAILED', message);
export const unauthorised = (message: string) => new AppError('UNAUTHORISED', message);

export function isRetryable(err: unknown): boolean {
  return err instanceof AppError ? err.retryable : true;
}
