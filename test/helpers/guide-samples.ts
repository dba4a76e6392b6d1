import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { REFERENCE, referencePath } from './reference.ts';

/**
 * Support for running the integration guide's sample clients (docs/api-contract.md) unmodified apart from
 * base URL, host and credentials: extraction of the fenced code blocks from the guide at test
 * time, exact-once string replacement, and child processes that are always bounded in time and
 * killed (whole process group) on timeout or when the test file ends.
 */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const guidePath = referencePath(REFERENCE.guide);

export interface GuideSamples {
  python: string;
  node: string;
  typescript: string;
}

interface FencedBlock {
  info: string;
  code: string;
}

/** Fenced code blocks (CommonMark rules for backtick fences, incl. indented fences) of a markdown text. */
export function fencedBlocks(markdown: string): FencedBlock[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: FencedBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( {0,3})(`{3,})([^`]*)$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const fence = open[2]!;
    const info = open[3]!.trim();
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j]!;
      const close = /^ {0,3}(`{3,})\s*$/.exec(line);
      if (close && close[1]!.length >= fence.length) break;
      let strip = 0;
      while (strip < indent && line[strip] === ' ') strip++;
      body.push(line.slice(strip));
    }
    if (j >= lines.length) throw new Error(`unterminated code fence "${fence}${info}" at line ${i + 1} of the guide`);
    blocks.push({ info, code: `${body.join('\n')}\n` });
    i = j;
  }
  return blocks;
}

/** The three sample clients under `## Complete Code Example`, found by their info strings. */
export function loadGuideSamples(file = guidePath): GuideSamples {
  const markdown = readFileSync(file, 'utf8');
  const heading = '## Complete Code Example';
  const lines = markdown.split(/\r?\n/);
  const start = lines.findIndex((l) => l.trim() === heading);
  if (start === -1) throw new Error(`guide has no "${heading}" section (${file})`);
  let end = lines.findIndex((l, k) => k > start && /^## /.test(l));
  if (end === -1) end = lines.length;
  const blocks = fencedBlocks(lines.slice(start + 1, end).join('\n'));
  const pick = (prefix: string): string => {
    const found = blocks.filter((b) => b.info === prefix || b.info.startsWith(`${prefix} `));
    if (found.length !== 1)
      throw new Error(
        `expected exactly one \`\`\`${prefix} block under "${heading}", found ${found.length} (info strings: ${blocks.map((b) => JSON.stringify(b.info)).join(', ')})`,
      );
    return found[0]!.code;
  };
  return { python: pick('python Python'), node: pick('javascript Node.js'), typescript: pick('typescript TypeScript') };
}

function occurrences(haystack: string, needle: string): number {
  let n = 0;
  for (let k = haystack.indexOf(needle); k !== -1; k = haystack.indexOf(needle, k + needle.length)) n++;
  return n;
}

/** Replaces `from` by `to`, failing loudly unless `from` occurs exactly once. */
export function replaceOnce(code: string, from: string, to: string, label: string): string {
  const n = occurrences(code, from);
  if (n !== 1)
    throw new Error(
      `${label}: expected exactly one occurrence of ${JSON.stringify(from)} in the guide's sample, found ${n}; the guide changed, update test/guide-samples.test.ts`,
    );
  return code.replace(from, () => to);
}

/** Asserts that the sample contains `needle` exactly once (for things the test relies on but does not change). */
export function expectOnce(code: string, needle: string, label: string): void {
  const n = occurrences(code, needle);
  if (n !== 1)
    throw new Error(
      `${label}: expected exactly one occurrence of ${JSON.stringify(needle)} in the guide's sample, found ${n}; the guide changed, update test/guide-samples.test.ts`,
    );
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

const live = new Set<ChildProcess>();

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL'); // detached: the child leads its own process group
  } catch {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/** Kills every sample process still running (call from `after`). */
export function killAllSampleProcesses(): void {
  for (const child of live) killGroup(child);
}
process.once('exit', killAllSampleProcesses);

/** Removes a directory now and, should the test process die before `after`, at exit. */
export function removeOnExit(dir: string): () => void {
  const remove = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', remove);
  return remove;
}

/** Runs a command asynchronously (the server under test lives in this process) with a hard timeout. */
export function runProcess(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    live.add(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, opts.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      killGroup(child);
      live.delete(child);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      killGroup(child); // reap anything the child left in its group
      live.delete(child);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

export const RESULT_MARKER = 'GUIDE_SAMPLE_RESULT ';

/** The JSON a driver printed after RESULT_MARKER; throws with the process output otherwise. */
export function resultOf(r: RunResult, label: string): any {
  const describe = () =>
    `${label}: exit ${r.code}${r.signal ? ` (signal ${r.signal})` : ''}${r.timedOut ? ' after TIMEOUT' : ''}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
  if (r.timedOut || r.code !== 0) throw new Error(describe());
  const line = r.stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(RESULT_MARKER));
  if (!line) throw new Error(`no result line\n${describe()}`);
  return JSON.parse(line.slice(RESULT_MARKER.length));
}

/** Environment for sample processes: credentials as the samples read them, and no proxy for loopback. */
export function sampleEnv(creds: { apiKey: string; apiSecret: string }, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (/^(http|https|all)_proxy$/i.test(k)) delete env[k];
  delete env.NODE_OPTIONS; // the test runner's loaders/flags are not the partner's environment
  delete env.NODE_TEST_CONTEXT;
  return {
    ...env,
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONIOENCODING: 'utf-8',
    COINUT_API_KEY: creds.apiKey,
    COINUT_API_SECRET: creds.apiSecret,
    ...extra,
  };
}
