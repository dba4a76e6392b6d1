import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { migrateToLatest, openDatabase } from '../src/infra/db/database.ts';
import { createOpenRamp } from '../src/app.ts';
import { createLogger } from '../src/infra/lib/logger.ts';
import { SANDBOX_XPUBS } from '../src/adapters/chains/addresses.ts';
import { createScanner, createScannerMetrics } from '../src/adapters/chains/scanner.ts';
import type { AddressBook } from '../src/adapters/chains/address-book.ts';
import type { BlockHeader, ChainClient, TransferLog } from '../src/adapters/chains/types.ts';
import { Registry } from 'prom-client';

/**
 * Scanner throughput with 1,000,000 deposit addresses held in memory against the same run with
 * 1,000 (docs/quality-bars.md): blocks of 1,000 Transfer logs from an in-memory chain, a handful of which
 * pay real customers (so deposits, events and cursor are written as in production).
 */
const LOGS_PER_BLOCK = 1000;
const HITS_PER_BLOCK = 5;

const hex20 = () => `0x${randomBytes(20).toString('hex')}`;
const hex32 = () => `0x${randomBytes(32).toString('hex')}`;

function fakeChain(blocks: number, token: string, customerAddrs: string[]): ChainClient {
  const headers: BlockHeader[] = [];
  const logs = new Map<bigint, TransferLog[]>();
  let parent = hex32();
  for (let n = 0n; n < BigInt(blocks); n++) {
    const h = { number: n, hash: hex32(), parentHash: parent, timestamp: 1_700_000_000 + Number(n) * 12 };
    parent = h.hash;
    headers.push(h);
    const list: TransferLog[] = [];
    for (let i = 0; i < LOGS_PER_BLOCK; i++) {
      // A few transfers pay our customers; the rest go elsewhere (lookups that miss).
      const to = i < HITS_PER_BLOCK ? customerAddrs[i % customerAddrs.length]! : hex20();
      list.push({ blockNumber: n, blockHash: h.hash, txHash: hex32(), logIndex: i, token, from: hex20(), to, value: 25_000_000n });
    }
    logs.set(n, list);
  }
  return {
    network: 'ETH',
    getHeadNumber: async () => BigInt(blocks - 1),
    getFinalizedNumber: async () => null,
    getBlock: async (n) => headers[Number(n)] ?? null,
    getTransferLogs: async ({ fromBlock, toBlock }) => {
      const out: TransferLog[] = [];
      for (let n = fromBlock; n <= toBlock; n++) out.push(...(logs.get(n) ?? []));
      return out;
    },
  };
}

export async function benchScanner(opts: { blocks: number }): Promise<{ markdown: string; ratio: number }> {
  const url = process.env.DATABASE_URL || null;
  const schema = url ? `bench_${randomBytes(4).toString('hex')}` : null;
  if (url) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`create schema ${schema}`);
    await c.end();
  }
  const database = await openDatabase({ databaseUrl: url, pgSchema: schema });
  try {
    await migrateToLatest(database.db, schema);
    const config = loadConfig({ OPENRAMP_SANDBOX_KYC_DELAY_MS: '0', OPENRAMP_LOG_LEVEL: 'silent' });
    const logger = createLogger({ level: 'silent' });
    const openramp = await createOpenRamp({
      config,
      database,
      logger,
      secrets: { masterKey: randomBytes(32), operatorToken: 'x'.repeat(32), xpubs: { ...SANDBOX_XPUBS } },
    });
    const s = openramp.services;
    const partner = await s.partners.create('Bench');
    const customerAddrs: { id: string; addr: string }[] = [];
    for (let i = 0; i < HITS_PER_BLOCK; i++) {
      const { customer } = await s.customers.create(partner.partnerId, { name: `Bench ${i}`, email: `b${i}@example.com` });
      const bank = await s.bankAccounts.add(partner.partnerId, {
        customerId: customer.id,
        currency: 'EUR',
        bankName: 'B',
        iban: 'DE89370400440532013000',
        swift: 'DEUTDEFF',
      });
      const f = await s.flows.createOfframp(partner.partnerId, {
        customerId: customer.id,
        network: 'ETH',
        currency: 'USDT',
        bankAccountId: bank.id,
      });
      customerAddrs.push({ id: customer.id, addr: f.depositAddress.address.toLowerCase() });
    }
    const token = s.registry.tokenFor('ETH', 'USDT')!.contract;
    const rows: string[] = [];
    const rates: Record<number, number> = {};
    for (const size of [1_000, 1_000_000]) {
      // The address book as the scanner holds it: a Map from address to customer.
      const map = new Map<string, string>(customerAddrs.map((c) => [c.addr, c.id]));
      while (map.size < size) map.set(hex20(), customerAddrs[0]!.id);
      const book: AddressBook = {
        refresh: async () => 0,
        lookup: (a) => map.get(a),
        get size() {
          return map.size;
        },
      };
      const chain = fakeChain(
        opts.blocks,
        token,
        customerAddrs.map((c) => c.addr),
      );
      await s.db.deleteFrom('scanner_cursors').execute();
      await s.db.deleteFrom('chain_blocks').execute();
      await s.db.deleteFrom('events').where('object_type', '=', 'deposit').execute();
      await s.db.deleteFrom('jobs').execute();
      await s.db.deleteFrom('deposits').execute();
      const scanner = createScanner({
        network: 'ETH',
        db: s.db,
        client: chain,
        registry: s.registry,
        addresses: book,
        deposits: s.deposits,
        clock: s.clock,
        logger,
        metrics: createScannerMetrics(new Registry()),
        pollIntervalMs: 1000,
        rangeBlocksMax: 20,
        startBlock: 0n,
        lease: null,
      });
      const t0 = process.hrtime.bigint();
      const r = await scanner.tick();
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const logsPerS = (opts.blocks * LOGS_PER_BLOCK) / seconds;
      rates[size] = logsPerS;
      rows.push(
        `| ${size.toLocaleString('en')} | ${opts.blocks} × ${LOGS_PER_BLOCK} | ${r.matched} | ${seconds.toFixed(2)} | ${logsPerS.toFixed(0)} |`,
      );
      map.clear();
    }
    await openramp.close();
    const ratio = rates[1_000_000]! / rates[1_000]!;
    const markdown = [
      `### Scanner: 1,000,000 vs 1,000 deposit addresses (${database.kind})`,
      '',
      '| addresses held | blocks × logs | deposits recorded | seconds | logs/s |',
      '| --- | --- | --- | --- | --- |',
      ...rows,
      '',
      `Ratio 1M/1k: **${(ratio * 100).toFixed(1)} %** (target: block processing not slowed by the address count, ≈ 100 %).`,
    ].join('\n');
    return { markdown, ratio };
  } finally {
    await database.close();
    if (url) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    }
  }
}
