/**
 * All business time flows through a Clock so tests and the sandbox (`/sandbox/time/advance`)
 * can move time without sleeping. Never call `new Date()` on a business path.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that runs with wall time plus an offset that can only move forward. */
export interface AdjustableClock extends Clock {
  advance(ms: number): void;
  offsetMs(): number;
}

export function createAdjustableClock(base: Clock = systemClock): AdjustableClock {
  let offset = 0;
  return {
    now: () => new Date(base.now().getTime() + offset),
    advance: (ms) => {
      if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError('clock can only advance by a non-negative integer of ms');
      offset += ms;
    },
    offsetMs: () => offset,
  };
}
