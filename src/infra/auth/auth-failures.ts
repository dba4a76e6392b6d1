import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../lib/clock.ts';
import { createRateLimiter } from './rate-limit.ts';

/**
 * Throttling of failed authentication: after `perMinuteMax` failures within a wall-clock
 * minute from one source address, or naming one API key, further requests from that address
 * or with that key are refused (429, Retry-After) until the minute ends — before any secret is
 * looked at, so guessing secrets or operator tokens costs a minute per `perMinuteMax` tries.
 * In memory and per process (bounded like the request rate limit); 0 turns it off.
 *
 * Per key is a trade-off: someone who knows an API key (it is not secret; the secret is) can
 * hold that key at 429 by failing on purpose. The per-address half alone would let a botnet
 * guess without limit, so both count (docs/security.md).
 */
export interface AuthFailureThrottle {
  /** Seconds to wait when the address or key is throttled, else null. */
  retryAfter(source: { address: string; apiKey: string | null }): number | null;
  /** Counts one failed authentication; `reason` is its error code (metric label). */
  record(source: { address: string; apiKey: string | null }, reason: string): void;
}

/** Bounds the memory an attacker can make one presented key string take. */
const KEY_CHARS_MAX = 128;

export function createAuthFailureThrottle(deps: {
  clock: Clock;
  perMinuteMax: number;
  metrics: Registry;
  keysMax?: number;
}): AuthFailureThrottle {
  const windows = createRateLimiter({ keysMax: deps.keysMax ?? 100_000 });
  const failures = new Counter({
    name: 'openramp_auth_failures_total',
    help: 'Failed authentications by reason (error code)',
    labelNames: ['reason'],
    registers: [deps.metrics],
  });
  const throttled = new Counter({
    name: 'openramp_auth_throttled_total',
    help: 'Requests refused because their source address or API key failed authentication too often',
    registers: [deps.metrics],
  });
  const keysOf = (s: { address: string; apiKey: string | null }) => [
    `a:${s.address}`,
    ...(s.apiKey ? [`k:${s.apiKey.slice(0, KEY_CHARS_MAX)}`] : []),
  ];
  return {
    retryAfter(source) {
      if (deps.perMinuteMax === 0) return null;
      const nowMs = deps.clock.now().getTime();
      let wait: number | null = null;
      for (const k of keysOf(source)) {
        const w = windows.peek(k, deps.perMinuteMax, nowMs);
        if (w !== null) wait = Math.max(wait ?? 0, w);
      }
      if (wait !== null) throttled.inc();
      return wait;
    },
    record(source, reason) {
      failures.inc({ reason });
      if (deps.perMinuteMax === 0) return;
      const nowMs = deps.clock.now().getTime();
      for (const k of keysOf(source)) windows.hit(k, deps.perMinuteMax, nowMs);
    },
  };
}
