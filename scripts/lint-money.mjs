#!/usr/bin/env node
// Money lint: amounts are bigint minor units end to end, so a float conversion inside a module
// that moves money is a bug waiting for a large enough amount. This fails on `parseFloat`,
// `Number(`, `toFixed` and `Math.round` in the money modules. A line that converts something
// that is not money (a row count, a sequence number) says so with a trailing
// `// not money: <why>` comment, which keeps every exception visible in review.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
export const MONEY_PATHS = [
  'src/domain/ledger',
  'src/domain/trades',
  'src/domain/payouts',
  'src/adapters/pricing',
  'src/infra/lib/money.ts',
];
const FORBIDDEN = /\bparseFloat\b|\bNumber\(|\.toFixed\(|\bMath\.round\(/;
const EXEMPT = /\/\/ not money: \S/;

function* files(p) {
  const abs = path.join(root, p);
  let st;
  try {
    st = statSync(abs);
  } catch {
    return;
  }
  if (st.isFile()) {
    if (abs.endsWith('.ts')) yield abs;
    return;
  }
  for (const e of readdirSync(abs)) yield* files(path.join(p, e));
}

const problems = [];
for (const p of MONEY_PATHS) {
  for (const f of files(p)) {
    readFileSync(f, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const code = line.replace(/^\s*(\/\/|\*).*$/, '');
        if (FORBIDDEN.test(code) && !EXEMPT.test(line)) problems.push(`${path.relative(root, f)}:${i + 1}: ${line.trim()}`);
      });
  }
}
if (problems.length > 0) {
  console.error(
    `money lint: ${problems.length} float conversion(s) in money modules (use bigint; mark non-money with "// not money: why"):`,
  );
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log('money lint: no float conversions in the money modules');
