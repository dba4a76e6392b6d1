/**
 * A background loop: run, wait `intervalMs`, run again — never two runs at once. `stop()`
 * stops scheduling and waits for the run in progress, so shutdown finishes its work.
 */
export interface PollLoop {
  start(): void;
  stop(): Promise<void>;
}

export function createPollLoop(opts: { intervalMs: number; run: () => Promise<unknown>; onError: (err: unknown) => void }): PollLoop {
  let timer: NodeJS.Timeout | null = null;
  let current: Promise<unknown> = Promise.resolve();
  let stopped = true;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      current = opts.run().catch(opts.onError).finally(schedule);
    }, opts.intervalMs);
    timer.unref?.();
  };
  return {
    start() {
      if (!stopped) return;
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
