/**
 * Per-key fixed-window rate limit (default 100 requests/minute). Counted per process: with N
 * API processes behind a balancer the effective limit is up to N× the setting, which is the
 * usual trade-off for keeping the hot path free of a database round trip.
 */
export interface RateLimiter {
  /** Counts one request; returns null when allowed, or the seconds to wait. */
  hit(key: string, limitPerMinute: number, nowMs: number): number | null;
  /** Like `hit` without counting: null while the key is within its limit this minute. */
  peek(key: string, limitPerMinute: number, nowMs: number): number | null;
}

export function createRateLimiter(opts: { keysMax?: number } = {}): RateLimiter {
  const windowMs = 60_000;
  const keysMax = opts.keysMax ?? 100_000;
  const windows = new Map<string, { start: number; count: number }>();
  return {
    hit(key, limit, nowMs) {
      const start = nowMs - (nowMs % windowMs);
      let w = windows.get(key);
      if (!w || w.start !== start) {
        w = { start, count: 0 };
        windows.delete(key);
        windows.set(key, w);
        if (windows.size > keysMax) {
          const oldest = windows.keys().next().value;
          if (oldest !== undefined) windows.delete(oldest);
        }
      }
      w.count += 1;
      if (w.count <= limit) return null;
      return Math.max(1, Math.ceil((start + windowMs - nowMs) / 1000));
    },
    peek(key, limit, nowMs) {
      const start = nowMs - (nowMs % windowMs);
      const w = windows.get(key);
      if (!w || w.start !== start || w.count < limit) return null;
      return Math.max(1, Math.ceil((start + windowMs - nowMs) / 1000));
    },
  };
}
