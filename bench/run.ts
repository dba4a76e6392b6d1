// `npm run bench`: runs the benchmarks and writes docs/benchmarks.md. Every figure is a ratio
// against a baseline measured in the same run, so machines of different speed compare.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchApi } from './api.ts';
import { benchWebhooks } from './webhooks.ts';
import { benchScanner } from './scanner.ts';

// BENCH_ONLY=api,scanner runs a subset.
const only = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
const wanted = (name: string) => only.length === 0 || only.includes(name);
const durationMs = Number(process.env.BENCH_DURATION_MS ?? 8000);
const sections: string[] = [];
const record = (markdown: string) => {
  sections.push(markdown);
  console.log(`${markdown}\n`);
};
if (wanted('api')) record((await benchApi({ durationMs, concurrency: 32 })).markdown);
if (wanted('scanner')) record((await benchScanner({ blocks: Number(process.env.BENCH_SCANNER_BLOCKS ?? 200) })).markdown);
if (wanted('webhooks')) record((await benchWebhooks({ events: Number(process.env.BENCH_WEBHOOK_EVENTS ?? 8000), partners: 10 })).markdown);

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
