import http from 'node:http';

/**
 * A small closed-loop HTTP load generator: `concurrency` keep-alive connections issue requests
 * back to back for `durationMs`; returns throughput and latency percentiles.
 */
export interface LoadResult {
  requests: number;
  errors: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

export async function runLoad(opts: {
  port: number;
  path: string;
  headers: () => Record<string, string>;
  concurrency: number;
  durationMs: number;
  warmupMs?: number;
}): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const latencies: number[] = [];
  let errors = 0;
  let recording = false;
  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = process.hrtime.bigint();
      const req = http.request(
        { host: '127.0.0.1', port: opts.port, path: opts.path, method: 'GET', agent, headers: opts.headers() },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (recording) {
              if (res.statusCode !== 200) errors++;
              latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
            }
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end();
    });
  let stop = false;
  const worker = async () => {
    while (!stop) await one();
  };
  const workers = Array.from({ length: opts.concurrency }, worker);
  await new Promise((r) => setTimeout(r, opts.warmupMs ?? 1000));
  recording = true;
  const start = Date.now();
  await new Promise((r) => setTimeout(r, opts.durationMs));
  recording = false;
  const elapsed = Date.now() - start;
  stop = true;
  await Promise.all(workers);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))] ?? NaN;
  return { requests: latencies.length, errors, rps: (latencies.length * 1000) / elapsed, p50Ms: pct(50), p99Ms: pct(99) };
}
