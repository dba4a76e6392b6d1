// `npm run bench`: runs the benchmarks and writes docs/benchmarks.md. Every figure is a ratio
// against a baseline measured in the same run, so machines of different speed compare.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchApi } from './api.ts';

const durationMs = Number(process.env.BENCH_DURATION_MS ?? 8000);
const sections: string[] = [];
const api = await benchApi({ durationMs, concurrency: 32 });
sections.push(api.markdown);
console.log(api.markdown);

const doc = [
  '# Benchmarks',
  '',
  'Written by `npm run bench` (set `DATABASE_URL` to run on Postgres; otherwise PGlite). Figures are',
  'ratios against a baseline measured in the same run on the same machine.',
  '',
  `Last run: ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}.`,
  '',
  ...sections,
  '',
].join('\n');
writeFileSync(path.join(import.meta.dirname, '..', 'docs', 'benchmarks.md'), doc);
