import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { signRequest } from '../src/infra/auth/signature.ts';
import { runLoad, type LoadResult } from './load.ts';

/**
 * Signed `GET /customer/detail` against a bare Fastify JSON route, measured in the same run
 * (docs/quality-bars.md: ≥ 50 % of the bare route's throughput, p99 ≤ 20 ms, on Postgres).
 */
export async function benchApi(opts: {
  durationMs: number;
  concurrency: number;
}): Promise<{ markdown: string; ratio: number; signed: LoadResult; bare: LoadResult; db: string }> {
  const url = process.env.DATABASE_URL || '';
  const schema = url ? `bench_${randomBytes(4).toString('hex')}` : '';
  if (url) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`create schema ${schema}`);
    await c.end();
  }
  // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of the server process there.
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...prof, '--import', 'tsx', path.join(import.meta.dirname, 'api-target.ts')], {
    env: { ...process.env, BENCH_PG_SCHEMA: schema },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const info = await new Promise<{
      openrampPort: number;
      barePort: number;
      customerId: string;
      apiKey: string;
      apiSecret: string;
      db: string;
    }>((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        const nl = buf.indexOf('\n');
        if (nl !== -1) resolve(JSON.parse(buf.slice(0, nl)));
      });
      child.on('exit', (code) => reject(new Error(`bench target exited ${code}`)));
    });
    const route = '/customer/detail';
    const query = `id=${info.customerId}`;
    const host = `127.0.0.1:${info.openrampPort}`;
    const signedHeaders = () => {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const nonce = randomUUID();
      return {
        host,
        'x-api-key': info.apiKey,
        'x-timestamp': timestamp,
        'x-nonce': nonce,
        'x-signature': signRequest(info.apiSecret, { method: 'GET', host, path: route, query, bodySha256Hex: '', timestamp, nonce }),
      };
    };
    const bare = await runLoad({ port: info.barePort, path: `${route}?${query}`, headers: () => ({}), ...opts });
    const signed = await runLoad({ port: info.openrampPort, path: `${route}?${query}`, headers: signedHeaders, ...opts });
    const ratio = signed.rps / bare.rps;
    const row = (name: string, r: LoadResult) =>
      `| ${name} | ${r.rps.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors} |`;
    const markdown = [
      `### Signed API read vs bare Fastify (${info.db}, ${opts.concurrency} connections, ${opts.durationMs / 1000} s each)`,
      '',
      '| target | req/s | p50 ms | p99 ms | errors |',
      '| --- | --- | --- | --- | --- |',
      row('bare Fastify JSON route (baseline)', bare),
      row('signed GET /customer/detail', signed),
      '',
      `Ratio signed/bare: **${(ratio * 100).toFixed(1)} %** (target ≥ 50 %); signed p99 ${signed.p99Ms.toFixed(2)} ms (target ≤ 20 ms).`,
    ].join('\n');
    return { markdown, ratio, signed, bare, db: info.db };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    if (url) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    }
  }
}
