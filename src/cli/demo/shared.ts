/** What the demo's client, receiver and journey share: the JSON they read and the failure they report. */

// biome-ignore lint/suspicious/noExplicitAny: the demo reads untyped JSON answers from the server
export type Json = Record<string, any>;

/** A failure the user can act on: the message says what happened and what to do. */
export class DemoError extends Error {}

/** A value for a printed line: "–" for nothing. */
export const str = (v: unknown): string => (v === null || v === undefined || v === '' ? '–' : String(v));

/** Elapsed wall time for the demo's output, e.g. "12.3 s". Not money: milliseconds of a stopwatch. */
export function secondsText(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
