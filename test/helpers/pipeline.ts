import assert from 'node:assert/strict';
import type { AdjustableClock } from '../../src/infra/lib/clock.ts';
import type { Network } from '../../src/adapters/chains/networks.ts';
import type { DepositRow } from '../../src/domain/deposits/deposits.ts';
import { call, onboard, type TestContext } from './harness.ts';

/**
 * Drivers for the money pipeline in tests: set up a customer who can offramp, send sandbox
 * deposits, and run the workers (chain, scanners, jobs, batcher, sandbox bank, webhooks) by hand,
 * one round at a time, on the test's adjustable clock. Tests call these instead of copying the
 * steps, so a change to the pipeline's shape is made once, here.
 */

type Creds = { apiKey: string; apiSecret: string };
type Token = 'USDT' | 'USDC';

/** The clock the app runs on; the drivers move it, so the test must have passed an adjustable one. */
function clockOf(ctx: TestContext): AdjustableClock {
  const clock = ctx.openramp.services.sandboxClock;
  assert.ok(clock, 'the pipeline drivers need createTestContext({ clock: createAdjustableClock(...) })');
  return clock;
}

/** Opens (or returns the existing) offramp flow from a customer's token on a network to their bank account. */
export async function openOfframpFlow(
  ctx: TestContext,
  o: { customerId: string; bankAccountId: string; network?: Network; currency?: Token; creds?: Creds },
): Promise<{ flowId: string; depositAddress: string }> {
  const r = await call(ctx, {
    method: 'POST',
    url: '/autoramp-flow/offramp',
    body: { from: { customerId: o.customerId, currency: o.currency ?? 'USDT', network: o.network ?? 'TRX' }, to: o.bankAccountId },
    ...(o.creds ? { creds: o.creds } : {}),
  });
  assert.equal(r.status, 200, r.body);
  return { flowId: r.json.flowId as string, depositAddress: r.json.data.depositAddress as string };
}

/** A CONFIRMED customer with a verified bank account (EUR unless `bank` says otherwise) and one offramp flow (USDT on TRX by default). */
export async function offrampCustomer(ctx: TestContext, o: Parameters<typeof onboard>[1] & { network?: Network; currency?: Token } = {}) {
  const c = await onboard(ctx, o);
  const flow = await openOfframpFlow(ctx, {
    customerId: c.customerId,
    bankAccountId: c.bankAccountId,
    ...(o.network ? { network: o.network } : {}),
    ...(o.currency ? { currency: o.currency } : {}),
    ...(o.creds ? { creds: o.creds } : {}),
  });
  return { ...c, ...flow };
}

/** Puts a token transfer to `to` on the sandbox chain through `POST /deposit/mock`; returns its txid. */
export async function mockDeposit(
  ctx: TestContext,
  o: { to: string; amount: string; network?: Network; currency?: Token; creds?: Creds },
): Promise<string> {
  const m = await call(ctx, {
    method: 'POST',
    url: '/deposit/mock',
    body: {
      currency: o.currency ?? 'USDT',
      amount: o.amount,
      senderName: 'S',
      senderAccountNo: 'x',
      receiverAccountNo: o.to,
      network: o.network ?? 'TRX',
    },
    ...(o.creds ? { creds: o.creds } : {}),
  });
  assert.equal(m.status, 200, m.body);
  return m.json.data.txid as string;
}

/** The deposit row of a sandbox transfer, or undefined while no scanner has seen it. */
export async function depositOfTx(ctx: TestContext, txid: string): Promise<DepositRow | undefined> {
  return ctx.openramp.services.db.selectFrom('deposits').selectAll().where('tx_hash', '=', `0x${txid}`).executeTakeFirst();
}

/**
 * Sends a mock deposit and mines and scans (no jobs run) until it is CONFIRMED; returns the row.
 * Each round moves the clock by `blockMs` so the sandbox chain mines; it stops as soon as the
 * finality depth is reached, so the test does not depend on how many blocks that takes.
 */
export async function depositAndConfirm(
  ctx: TestContext,
  o: { to: string; amount: string; network?: Network; currency?: Token; blockMs?: number },
): Promise<DepositRow> {
  const s = ctx.openramp.services;
  const network = o.network ?? 'TRX';
  const txid = await mockDeposit(ctx, o);
  for (let i = 0; i < 20; i++) {
    clockOf(ctx).advance(o.blockMs ?? 5000);
    await s.sandboxChain!.produceBlocks();
    await s.scanners[network].tick();
    const d = await depositOfTx(ctx, txid);
    if (d?.status === 'CONFIRMED') return d;
  }
  assert.fail(`deposit ${txid} was not CONFIRMED after 20 rounds: ${JSON.stringify(await depositOfTx(ctx, txid))}`);
}

/** Runs due jobs until none is due. A job that stays due forever fails the test instead of hanging it. */
export async function runJobsUntilIdle(ctx: TestContext): Promise<void> {
  for (let i = 0; i < 1000; i++) if ((await ctx.openramp.services.jobs.runDue()) === 0) return;
  assert.fail('jobs were still due after 1000 runs: a job keeps rescheduling itself as due now');
}

export interface RoundOptions {
  /** How far to move the clock first (ms); 0 leaves time to the test. */
  advanceMs?: number;
  /** The sandbox bank settles submitted payouts at once (true) or on their expected arrival date. */
  settleImmediately?: boolean;
  /** Also run one webhook delivery pass. */
  deliverWebhooks?: boolean;
  /** Swallow a failing stage, as a crashed worker would, and go on with the next (crash tests). */
  tolerateFailures?: boolean;
}

/** One round of everything the background workers do, in pipeline order. */
export async function pipelineRound(ctx: TestContext, o: RoundOptions = {}): Promise<void> {
  const s = ctx.openramp.services;
  const stage = async (run: () => Promise<unknown>) => {
    if (!o.tolerateFailures) return void (await run());
    await run().catch(() => {});
  };
  const advanceMs = o.advanceMs ?? 3000;
  if (advanceMs > 0) clockOf(ctx).advance(advanceMs);
  await s.sandboxChain!.produceBlocks();
  for (const n of s.sandboxNetworks) await stage(() => s.scanners[n].tick());
  await runJobsUntilIdle(ctx);
  await stage(() => s.payouts.runBatcher());
  await stage(() => s.payouts.runSandboxBank({ settleImmediately: o.settleImmediately ?? true }));
  if (o.deliverWebhooks) await stage(() => s.webhookDispatcher.runOnce());
}

/** `rounds` pipeline rounds. */
export async function runPipeline(ctx: TestContext, rounds: number, o: RoundOptions = {}): Promise<void> {
  for (let i = 0; i < rounds; i++) await pipelineRound(ctx, o);
}
