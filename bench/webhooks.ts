import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { migrateToLatest, openDatabase, type DatabaseHandle } from '../src/infra/db/database.ts';
import { createOpenRamp, type OpenRamp } from '../src/app.ts';
import { createLogger } from '../src/infra/lib/logger.ts';
import { SANDBOX_XPUBS } from '../src/adapters/chains/addresses.ts';

/**
 * Webhook delivery throughput (docs/quality-bars.md: ≥ 1,000 deliveries/s to a local receiver, unaffected
 * by a dead endpoint). Events are written through the outbox first; then the dispatcher (default
 * settings: 30 s timeout, 64 slots, 8 per partner) fans them out and delivers them to a receiver
 * in another process, and the clock runs until every healthy event was acknowledged. The second
 * run adds a partner whose endpoint accepts connections and never answers, with its events queued
 * ahead of everyone else's; its figure is reported as a ratio against the first run.
 *
 * Run alone: `node --import tsx bench/webhooks.ts` (set DATABASE_URL for Postgres).
 */
export interface WebhookRun {
  events: number;
  partners: number;
  seconds: number;
  perSecond: number;
  /** CPU time of the OpenRamp process (user + system) per delivery: less sensitive to other load on the machine. */
  cpuMsPerDelivery: number;
  deadConnections: number;
}

// A plain-JS receiver in its own process: answers 200 on one port, holds every connection on another.
const RECEIVER_SOURCE = `
const http = require('node:http');
const net = require('node:net');
let count = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { count++; res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"status":"SUCCESS"}'); });
});
server.keepAliveTimeout = 60000;
let held = 0;
const dead = net.createServer((s) => { held++; s.on('error', () => {}); s.resume(); });
server.listen(0, '127.0.0.1', () => dead.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port, deadPort: dead.address().port }) + '\\n');
}));
process.on('message', (m) => { if (m === 'count') process.send({ count, held }); });
`;

interface Receiver {
  port: number;
  deadPort: number;
  stats(): Promise<{ count: number; held: number }>;
  close(): Promise<void>;
}

async function startReceiverProcess(): Promise<Receiver> {
  const child: ChildProcess = spawn(process.execPath, ['-e', RECEIVER_SOURCE], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const ports = await new Promise<{ port: number; deadPort: number }>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl !== -1) resolve(JSON.parse(buf.slice(0, nl)));
    });
    child.once('exit', (code) => reject(new Error(`receiver exited ${code}`)));
  });
  return {
    ...ports,
    stats: () =>
      new Promise((resolve) => {
        child.once('message', (m) => resolve(m as { count: number; held: number }));
        child.send('count');
      }),
    async close() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

async function openBenchDatabase(): Promise<{ database: DatabaseHandle; drop(): Promise<void> }> {
  const url = process.env.DATABASE_URL || '';
  if (!url) {
    const database = await openDatabase({ databaseUrl: null });
    await migrateToLatest(database.db);
    return { database, drop: async () => database.close() };
  }
  const schema = `bench_wh_${randomBytes(4).toString('hex')}`;
  const admin = async (q: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(q);
    await c.end();
  };
  await admin(`create schema ${schema}`);
  const database = await openDatabase({ databaseUrl: url, pgSchema: schema, poolSizeMax: 10 });
  await migrateToLatest(database.db, schema);
  return {
    database,
    async drop() {
      await database.close();
      await admin(`drop schema if exists ${schema} cascade`);
    },
  };
}

async function appendMany(app: OpenRamp, rows: { partnerId: string; i: number }[]): Promise<void> {
  const { db, outbox } = app.services;
  const TX_EVENTS_MAX = 500;
  for (let start = 0; start < rows.length; start += TX_EVENTS_MAX) {
    await db.transaction().execute(async (tx) => {
      for (const r of rows.slice(start, start + TX_EVENTS_MAX)) {
        const id = `cus_bench${String(r.i).padStart(17, '0')}`;
        await outbox.append(tx, {
          partnerId: r.partnerId,
          type: 'CUSTOMER_APPROVED',
          objectType: 'customer',
          objectId: id,
          objectVersion: 1,
          payload: { id, status: 'CONFIRMED', name: 'Bench Customer', email: 'bench@example.com' },
        });
      }
    });
  }
}

async function run(receiver: Receiver, opts: { events: number; partners: number; withDead: boolean }): Promise<WebhookRun> {
  const { database, drop } = await openBenchDatabase();
  const config = loadConfig({
    OPENRAMP_MODE: 'sandbox',
    OPENRAMP_LOG_LEVEL: 'silent',
    OPENRAMP_DATA_DIR: '/nonexistent',
    OPENRAMP_WEBHOOK_SHUTDOWN_GRACE_MS: '0',
  });
  const app = await createOpenRamp({
    config,
    database,
    secrets: { masterKey: randomBytes(32), operatorToken: `opt_${randomBytes(24).toString('base64url')}`, xpubs: { ...SANDBOX_XPUBS } },
    logger: createLogger({ level: 'silent' }),
  });
  try {
    const rows: { partnerId: string; i: number }[] = [];
    if (opts.withDead) {
      // The dead partner's backlog is queued first: a FIFO sender would stall behind it.
      const dead = await app.services.partners.create('Dead Endpoint');
      await app.services.partners.setCallbackUrl(dead.partnerId, `http://127.0.0.1:${receiver.deadPort}/hooks`);
      for (let i = 0; i < Math.ceil(opts.events / opts.partners); i++) rows.push({ partnerId: dead.partnerId, i: rows.length });
    }
    const healthy: string[] = [];
    for (let p = 0; p < opts.partners; p++) {
      const partner = await app.services.partners.create(`Bench Partner ${p}`);
      await app.services.partners.setCallbackUrl(partner.partnerId, `http://127.0.0.1:${receiver.port}/hooks/${p}?tenant=${p}`);
      healthy.push(partner.partnerId);
    }
    for (let i = 0; i < opts.events; i++) rows.push({ partnerId: healthy[i % healthy.length]!, i: rows.length });
    await appendMany(app, rows);

    const before = await receiver.stats();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    app.services.webhookDispatcher.start();
    const deadlineMs = t0 + 300_000;
    let stats = before;
    while (stats.count - before.count < opts.events) {
      if (performance.now() > deadlineMs)
        throw new Error(`webhook bench: ${stats.count - before.count} of ${opts.events} delivered after 300 s`);
      await new Promise((r) => setTimeout(r, 20));
      stats = await receiver.stats();
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    await app.services.webhookDispatcher.stop();
    return {
      events: opts.events,
      partners: opts.partners,
      seconds,
      perSecond: opts.events / seconds,
      cpuMsPerDelivery: (cpu.user + cpu.system) / 1000 / opts.events,
      deadConnections: stats.held - before.held,
    };
  } finally {
    await app.close();
    await drop();
  }
}

export async function benchWebhooks(opts: {
  events: number;
  partners: number;
}): Promise<{ markdown: string; baseline: WebhookRun; withDead: WebhookRun; ratio: number; db: string }> {
  const db = process.env.DATABASE_URL ? 'postgres' : 'pglite';
  const receiver = await startReceiverProcess();
  try {
    // Warm-up (JIT, connection pools): not reported.
    await run(receiver, { ...opts, events: Math.min(opts.events, 1000), withDead: false });
    const baseline = await run(receiver, { ...opts, withDead: false });
    const withDead = await run(receiver, { ...opts, withDead: true });
    const ratio = withDead.perSecond / baseline.perSecond;
    const row = (name: string, r: WebhookRun) =>
      `| ${name} | ${r.events} | ${r.seconds.toFixed(2)} | ${r.perSecond.toFixed(0)} | ${r.cpuMsPerDelivery.toFixed(2)} | ${r.deadConnections} |`;
    const markdown = [
      `### Webhook deliveries to a local receiver (${db}, ${opts.partners} partners, default settings: 64 slots, 8 per partner, 30 s timeout)`,
      '',
      'Events are written first; the time runs from starting the dispatcher (fan-out included) to the last healthy acknowledgement.',
      '',
      '| run | healthy events | seconds | deliveries/s | sender CPU ms/delivery | connections held by the dead endpoint |',
      '| --- | --- | --- | --- | --- | --- |',
      row('all endpoints healthy (baseline)', baseline),
      row('plus one dead endpoint, its backlog queued first', withDead),
      '',
      `With a dead endpoint: **${(ratio * 100).toFixed(1)} %** of the baseline (target: unaffected); baseline ${baseline.perSecond.toFixed(0)} deliveries/s (target ≥ 1,000/s). ` +
        `Load average at the end: ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores (the receiver, the database and the sender share them).`,
    ].join('\n');
    return { markdown, baseline, withDead, ratio, db };
  } finally {
    await receiver.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await benchWebhooks({ events: Number(process.env.BENCH_WEBHOOK_EVENTS ?? 8000), partners: 10 });
  console.log(result.markdown);
  console.log(`(${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version})`);
}
