#!/usr/bin/env node
// `npm test`: the whole suite with node's test runner. On PGlite (default) a migrated template
// database is built once and each test file starts from a copy; with DATABASE_URL set, each
// test file works in its own schema of that database and drops it afterwards.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const filter = process.argv.slice(2);
const files = readdirSync(path.join(root, 'test'))
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
  .sort()
  .map((f) => path.join('test', f));

const env = { ...process.env };
const tmp = mkdtempSync(path.join(tmpdir(), 'openramp-test-'));
try {
  if (!env.DATABASE_URL) {
    const dump = path.join(tmp, 'pglite-template.tar');
    const made = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/make-pglite-template.ts', dump], {
      cwd: root,
      stdio: 'inherit',
      env,
    });
    if (made.status !== 0) process.exit(made.status ?? 1);
    env.OPENRAMP_TEST_PGLITE_DUMP = dump;
  }
  console.log(`running ${files.length} test files on ${env.DATABASE_URL ? 'Postgres' : 'PGlite'}`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...files], {
    cwd: root,
    stdio: 'inherit',
    env,
  });
  process.exitCode = res.status ?? 1;
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
