/**
 * The demo's API client: every call signed with the SDK, as a partner's integration signs it, and
 * every failure turned into a DemoError that says what to do (start the server, check the credentials).
 */
import { signRequest } from '../../../sdk/src/index.ts';
import { DemoError, type Json } from './shared.ts';

const API_TIMEOUT_MS = 30_000;

export interface ApiClientOptions {
  /** Base URL of the OpenRamp server, without a trailing slash. */
  base: string;
  apiKey: string;
  apiSecret: string;
  /** Aborts the calls that are `abortable` (all but those that put the webhook settings back). */
  signal?: AbortSignal | undefined;
}

/** `abortable: false` for the calls that put the webhook settings back after an interruption. */
export type Api = (method: 'GET' | 'POST', route: string, body?: unknown, options?: { abortable?: boolean }) => Promise<Json>;

/** Signed calls to `base`: each answers the parsed reply when it says SUCCESS, or throws a DemoError. */
export function apiClient(opts: ApiClientOptions): Api {
  const base = opts.base;
  return async function api(method, route, body, { abortable = true } = {}) {
    const url = `${base}${route}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {
      ...signRequest({ apiKey: opts.apiKey, apiSecret: opts.apiSecret, method, url, ...(payload !== undefined ? { body: payload } : {}) }),
    };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        ...(payload !== undefined ? { body: payload } : {}),
        signal: AbortSignal.any([AbortSignal.timeout(API_TIMEOUT_MS), ...(opts.signal && abortable ? [opts.signal] : [])]),
      });
    } catch (err) {
      if (abortable && opts.signal?.aborted) throw new DemoError('interrupted');
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new DemoError(
        `cannot reach OpenRamp at ${base} (${cause?.code ?? cause?.message ?? (err as Error).message}) during ${method} ${route}: is the server running? Start one with npm start`,
      );
    }
    const text = await res.text();
    let json: Json | null = null;
    try {
      json = JSON.parse(text) as Json;
    } catch {
      json = null;
    }
    if (!res.ok || !json || json.status !== 'SUCCESS') {
      const why = json?.message ?? text.slice(0, 300);
      const hint =
        res.status === 401 ? " — are the credentials current? (the sandbox partner file is written on the server's first start)" : '';
      throw new DemoError(`${method} ${route} failed: HTTP ${res.status} ${why}${hint}`);
    }
    return json;
  };
}
