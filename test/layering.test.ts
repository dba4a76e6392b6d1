import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { SHARED_READS, TABLE_OWNERS } from '../src/infra/db/ownership.ts';

/**
 * Each table has one owner module (src/infra/db/ownership.ts). This test reads the source of
 * every module and fails on each query that names a table its module does not own: Kysely
 * builder calls (selectFrom, insertInto, updateTable, deleteFrom, joins) and raw `sql` text
 * (from, join, into, update). Migrations create the tables and are not scanned.
 */
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const TABLES = new Set<string>(Object.keys(TABLE_OWNERS));

export interface TableRef {
  table: string;
  access: 'read' | 'write';
  line: number;
  text: string;
}

const BUILDER_CALL =
  /\b(selectFrom|insertInto|replaceInto|updateTable|deleteFrom|mergeInto|innerJoin|leftJoin|rightJoin|fullJoin|crossJoin|innerJoinLateral|leftJoinLateral)\(\s*(\[[^\]]*\]|'[^']*'|"[^"]*"|`[^`]*`)/g;
const WRITE_CALLS = new Set(['insertInto', 'replaceInto', 'updateTable', 'deleteFrom', 'mergeInto']);
const SQL_TAG = /\bsql\s*(<(?:[^<>`]|<[^<>`]*>)*>)?\s*`/g;
const SQL_WORD = /\b(from|join|into|update)\s+("?)([a-z_][a-z0-9_]*)\2/gi;

/** The literal text of the template starting after the backtick at `start`; `end` is past its closing backtick. */
function readTemplate(src: string, start: number): { text: string; end: number } {
  let text = '';
  let i = start;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\\') {
      text += src.slice(i, i + 2);
      i += 2;
    } else if (c === '`') {
      return { text, end: i + 1 };
    } else if (c === '$' && src[i + 1] === '{') {
      i = skipExpression(src, i + 2);
      text += ' ? '; // a parameter: never a table name
    } else {
      text += c;
      i += 1;
    }
  }
  return { text, end: i };
}

/** Index past the `}` closing an interpolation that starts at `start` (strings and nested templates skipped). */
function skipExpression(src: string, start: number): number {
  let depth = 1;
  let i = start;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '`') i = readTemplate(src, i + 1).end;
    else if (c === "'" || c === '"') {
      i += 1;
      while (i < src.length && src[i] !== c) i += src[i] === '\\' ? 2 : 1;
      i += 1;
    } else {
      if (c === '{') depth += 1;
      else if (c === '}' && --depth === 0) return i + 1;
      i += 1;
    }
  }
  return i;
}

const lineAt = (src: string, index: number) => src.slice(0, index).split('\n').length;

/** Every table a source file names in a query, with whether the query writes it. */
export function tableRefs(src: string): TableRef[] {
  const refs: TableRef[] = [];
  for (const m of src.matchAll(BUILDER_CALL)) {
    const call = m[1]!;
    const arg = m[2]!;
    const names = arg.startsWith('[') ? [...arg.matchAll(/['"`]([^'"`]+)['"`]/g)].map((x) => x[1]!) : [arg.slice(1, -1)];
    for (const name of names) {
      const table = name.trim().split(/\s+as\s+|\s+/)[0]!;
      refs.push({ table, access: WRITE_CALLS.has(call) ? 'write' : 'read', line: lineAt(src, m.index), text: m[0] });
    }
  }
  for (const m of src.matchAll(SQL_TAG)) {
    const start = m.index + m[0].length;
    const { text } = readTemplate(src, start);
    for (const w of text.matchAll(SQL_WORD)) {
      const table = w[3]!.toLowerCase();
      if (!TABLES.has(table)) continue; // a CTE, a function or a column
      const word = w[1]!.toLowerCase();
      const before = text.slice(0, w.index).trimEnd().toLowerCase();
      const write = word === 'into' || word === 'update' || (word === 'from' && before.endsWith('delete'));
      refs.push({
        table,
        access: write ? 'write' : 'read',
        line: lineAt(src, start) + text.slice(0, w.index).split('\n').length - 1,
        text: `sql\`… ${w[0]} …\``,
      });
    }
  }
  return refs.sort((a, b) => a.line - b.line);
}

/** `src/domain/customers/x.ts` → `src/domain/customers`; `src/api/routes/x.ts` → `src/api`; `src/app.ts` → itself. */
export function moduleOf(file: string): string {
  const parts = file.split('/');
  if (parts.length === 2) return file;
  if (parts[1] === 'domain' || parts[1] === 'adapters' || parts[1] === 'infra') return parts.slice(0, 3).join('/');
  return parts.slice(0, 2).join('/');
}

function sourceFiles(): string[] {
  return (readdirSync(path.join(root, 'src'), { recursive: true }) as string[])
    .map((f) => `src/${f.split(path.sep).join('/')}`)
    .filter((f) => f.endsWith('.ts') && !f.startsWith('src/infra/db/migrations/'))
    .sort();
}

interface Violation {
  file: string;
  line: number;
  table: string;
  access: 'read' | 'write';
  text: string;
  problem: string;
}

function findViolations(): Violation[] {
  const out: Violation[] = [];
  for (const file of sourceFiles()) {
    const mod = moduleOf(file);
    for (const ref of tableRefs(readFileSync(path.join(root, file), 'utf8'))) {
      const owner = (TABLE_OWNERS as Record<string, string>)[ref.table];
      if (owner === undefined) {
        out.push({ file, ...ref, problem: `table ${ref.table} has no owner in src/infra/db/ownership.ts` });
        continue;
      }
      if (owner === mod) continue;
      if (ref.access === 'read' && SHARED_READS.some((s) => s.module === mod && s.table === ref.table)) continue;
      out.push({ file, ...ref, problem: `${ref.access}s ${ref.table}, owned by ${owner}` });
    }
  }
  return out;
}

describe('layering: each table is queried only by its owner', () => {
  it('finds builder calls, joins and raw sql in source text', () => {
    // Source text with one kind of table reference per line (not compiled: it only has to be read).
    const src = readFileSync(path.join(root, 'test/fixtures/layering-sample.txt'), 'utf8');
    const refs = tableRefs(src).map((r) => `${r.line}:${r.table}:${r.access}`);
    assert.deepEqual(refs, [
      '1:customers:read',
      '3:bank_accounts:write',
      '5:flows:write',
      '5:jobs:write',
      '6:events:read',
      '6:partners:read',
      '6:flows:read',
      '7:trades:read',
      '7:payouts:read',
      '8:deposits:read',
      '8:flows:read',
      '9:ledger_entries:write',
      '10:payouts:write',
      '10:payout_batches:write',
    ]);
    assert.equal(moduleOf('src/domain/customers/customers.ts'), 'src/domain/customers');
    assert.equal(moduleOf('src/api/routes/deposits.ts'), 'src/api');
    assert.equal(moduleOf('src/adapters/chains/devnet/devnet.ts'), 'src/adapters/chains');
    assert.equal(moduleOf('src/app.ts'), 'src/app.ts');
  });

  it('every table the migrations create has an owner that exists', () => {
    const dir = path.join(root, 'src/infra/db/migrations');
    const created = new Set<string>();
    for (const f of readdirSync(dir)) {
      for (const m of readFileSync(path.join(dir, f), 'utf8').matchAll(
        /create\s+(?:unlogged\s+)?table\s+(?:if\s+not\s+exists\s+)?([a-z_]+)/gi,
      ))
        created.add(m[1]!.toLowerCase());
    }
    assert.ok(created.size > 0, 'no create table found in the migrations');
    assert.deepEqual([...created].sort(), [...TABLES].sort());
    for (const owner of new Set(Object.values(TABLE_OWNERS))) assert.ok(existsSync(path.join(root, owner)), `${owner} does not exist`);
    for (const s of SHARED_READS) assert.ok(s.reason.length > 20, `shared read ${s.module} → ${s.table} needs a reason`);
  });

  it('no module queries a table it does not own', () => {
    const violations = findViolations();
    assert.ok(
      sourceFiles().some((f) => tableRefs(readFileSync(path.join(root, f), 'utf8')).length > 0),
      'the scan found no queries at all',
    );
    assert.deepEqual(
      violations.map((v) => `${v.file}:${v.line} ${v.problem} (${v.text.replace(/\s+/g, ' ')})`),
      [],
      'move each query into the owning module and call its function (or, for a justified read, list it in SHARED_READS)',
    );
  });
});
