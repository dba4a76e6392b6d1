import { mkdirSync, writeFileSync } from 'node:fs';
import type { FieldSealer } from '../../infra/db/sealed-columns.ts';
import path from 'node:path';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../../infra/db/schema.ts';
import type { Clock } from '../../infra/lib/clock.ts';
import type { IdGenerator } from '../../infra/lib/ids.ts';
import type { FiatAsset } from '../../infra/lib/money.ts';
import { RAILS, schedule, type RailId, type RailSpec } from '../../adapters/rails/rails.ts';
import { buildRailFile, paymentRefusal } from '../../adapters/rails/payment-file.ts';
import type { Debtor, FileBatch, PaymentFile } from '../../adapters/rails/formats/types.ts';
import { AppError } from '../../infra/lib/errors.ts';
import { creditorOf, findBankAccounts } from '../bank-accounts/bank-accounts.ts';
import { ACCOUNTS, type Ledger } from '../ledger/ledger.ts';
import type { Transition } from '../../infra/events/state-machine.ts';
import type { PayoutStatus } from './state-machine.ts';
import { INSUFFICIENT_TREASURY_FUNDS, type Treasury } from './treasury.ts';
import type { PayoutRow } from './payouts.ts';

/**
 * The batcher: pending payouts are grouped per rail and execution date, and a group whose
 * cut-off window is closing becomes one payment file in the rail's format, kept in the database
 * and written to `<outboxDir>/<rail>/` for the bank connection. Payouts the treasury cannot
 * cover wait in PENDING with INSUFFICIENT_TREASURY_FUNDS; a payout whose window closed while it
 * waited moves to the next window.
 *
 * One payout never stops the others. Each payout is put to its rail's file writer on its own
 * first; one the writer refuses (a detail the entry checks missed, an amount beyond the format)
 * leaves the batch for HELD with the writer's reason, and the batch goes out without it. A batch
 * the writer refuses as a whole (its total beyond a control field) goes out as the longest
 * prefix the writer takes; the rest wait for the next run. Each rail's batch is its own
 * transaction and its own try: a rail that fails is logged (once per distinct error) and the
 * other rails carry on.
 */
export interface BatcherOptions {
  db: Kysely<DB>;
  ids: IdGenerator;
  clock: Clock;
  ledger: Ledger;
  logger: Logger;
  treasury: Treasury;
  transition: Transition<'payouts', PayoutStatus>;
  /** Folder the bank connection picks files up from: <outboxDir>/<rail>/<file>. */
  outboxDir: string;
  debtors: Record<FiatAsset, Debtor>;
  /** Batches close this long before the rail's cut-off. */
  batchLeadMs: number;
  /** Sandbox: send every batch at once instead of waiting for the window to close. */
  batchImmediately: boolean;
  batchSizeMax: number;
  /** The stored copy of a payment file (names, IBANs, addresses) is sealed; reads open it. */
  sealer: Pick<FieldSealer, 'seal'>;
}

/** Closes due batches: treasury check, payment file, SUBMITTED. Returns payouts submitted. */
export function createBatcher(o: BatcherOptions): { run(): Promise<number> } {
  const { db, ids, clock, ledger } = o;
  /** Groups whose last run failed, with the error, so a failure repeated every run logs once. */
  const failing = new Map<string, { message: string; runs: number }>();

  async function hold(tx: Transaction<DB>, p: PayoutRow, rail: RailSpec, reason: string, now: Date) {
    o.logger.warn({ payoutId: p.id, partnerId: p.partner_id, rail: rail.id, reason }, 'payout held: the payment file writer refused it');
    await o.transition(tx, p, 'HELD', { hold_reason: reason, held_at: now, wait_reason: null, updated_at: now });
  }

  async function submitGroup(
    rail: RailSpec,
    executionDate: string,
    payoutIds: string[],
  ): Promise<{ submitted: number; file: { dir: string; name: string; content: string } | null }> {
    return db.transaction().execute(async (tx) => {
      const rows = await tx
        .selectFrom('payouts')
        .selectAll()
        .where('id', 'in', payoutIds)
        .where('status', '=', 'PENDING')
        .orderBy('created_at')
        .orderBy('id')
        .forUpdate()
        .skipLocked()
        .execute();
      if (rows.length === 0) return { submitted: 0, file: null };
      const now = clock.now();
      const debtor = o.debtors[rail.currency];
      const banks = await findBankAccounts(tx, [...new Set(rows.map((p) => p.bank_account_id))]);
      const bankById = new Map(banks.map((b) => [b.id, b]));

      // Each payout alone through the writer: what it refuses is held, not batched.
      const payable: { p: PayoutRow; ins: FileBatch['instructions'][number] }[] = [];
      for (const p of rows) {
        const bank = bankById.get(p.bank_account_id);
        if (!bank) throw new Error(`payout ${p.id}: bank account ${p.bank_account_id} does not exist`);
        const ins = {
          payoutId: p.id,
          endToEndId: p.id,
          amountMinor: BigInt(p.amount),
          currency: rail.currency,
          creditor: creditorOf(bank),
          remittance: `OpenRamp payout ${p.id}`,
        };
        const refusal = paymentRefusal(rail, {
          debtor,
          creditor: ins.creditor,
          amountMinor: ins.amountMinor,
          executionDate,
          createdAt: now,
        });
        if (refusal !== null) await hold(tx, p, rail, refusal, now);
        else payable.push({ p, ins });
      }

      let avail = await o.treasury.available(tx, rail.currency);
      const go: typeof payable = [];
      for (const x of payable) {
        const amount = BigInt(x.p.amount);
        if (amount <= avail) {
          avail -= amount;
          go.push(x);
        } else if (x.p.wait_reason !== INSUFFICIENT_TREASURY_FUNDS) {
          await tx
            .updateTable('payouts')
            .set({ wait_reason: INSUFFICIENT_TREASURY_FUNDS, updated_at: now })
            .where('id', '=', x.p.id)
            .execute();
        }
      }
      if (go.length === 0) return { submitted: 0, file: null };

      const seq = Number((await sql<{ n: string }>`select nextval('payout_file_sequence')::text as n`.execute(tx)).rows[0]!.n); // not money: a file sequence number
      const batchId = ids.next('payoutBatch');
      const build = (n: number) =>
        buildRailFile(rail, { batchId, createdAt: now, executionDate, debtor, instructions: go.slice(0, n).map((x) => x.ins) }, seq);
      const { file, count } = largestFile(go.length, build);
      const sent = go.slice(0, count).map((x) => x.p);
      if (count < go.length)
        o.logger.info({ rail: rail.id, batchId, sent: count, waiting: go.length - count }, 'batch split: the rest go in the next file');
      await tx
        .insertInto('payout_batches')
        .values({
          id: batchId,
          rail: rail.id,
          currency: rail.currency,
          execution_date: executionDate,
          file_format: rail.fileFormat,
          file_name: file.filename,
          file_content: o.sealer.seal(file.content),
          control_sum: file.controlSumMinor.toString(),
          payout_count: file.count,
          file_sequence: seq,
          status: 'SUBMITTED',
          created_at: now,
          acknowledged_at: null,
        })
        .execute();
      const refs = new Map(file.references.map((r) => [r.payoutId, r.reference]));
      for (const p of sent) {
        // The journal before the state change: the event is the step's last write.
        await ledger.post(tx, {
          kind: 'payout.submitted',
          refId: p.id,
          memo: `${rail.id} batch ${batchId}`,
          entries: [
            { account: ACCOUNTS.customerFiat(p.partner_id, p.customer_id), asset: p.currency, amount: BigInt(p.amount) },
            { account: ACCOUNTS.payoutsInTransit(), asset: p.currency, amount: -BigInt(p.amount) },
          ],
        });
        await o.transition(tx, p, 'SUBMITTED', {
          wait_reason: null,
          batch_id: batchId,
          bank_reference: refs.get(p.id) ?? null,
          submitted_at: now,
          updated_at: now,
        });
      }
      return { submitted: sent.length, file: { dir: path.join(o.outboxDir, rail.id), name: file.filename, content: file.content } };
    });
  }

  async function run() {
    const now = clock.now();
    const pending = await db
      .selectFrom('payouts')
      .selectAll()
      .where('status', '=', 'PENDING')
      .orderBy('created_at')
      .limit(o.batchSizeMax)
      .execute();
    const groups = new Map<string, { rail: RailSpec; date: string; ids: string[] }>();
    for (const p of pending) {
      const rail = RAILS[p.rail as RailId];
      if (!rail) continue;
      if (p.cutoff_at && p.cutoff_at.getTime() <= now.getTime()) {
        // Its window closed while it waited (e.g. for treasury funds): move to the next one.
        const sched = schedule(rail, new Date(now.getTime() + o.batchLeadMs));
        await db
          .updateTable('payouts')
          .set({
            execution_date: sched.executionDate,
            expected_arrival_date: sched.expectedArrivalDate,
            cutoff_at: sched.cutoffAt,
            updated_at: now,
          })
          .where('id', '=', p.id)
          .where('status', '=', 'PENDING')
          .execute();
        if (!o.batchImmediately) continue;
        p.execution_date = sched.executionDate;
      }
      const due = o.batchImmediately || rail.alwaysOn || p.cutoff_at === null || now.getTime() >= p.cutoff_at.getTime() - o.batchLeadMs;
      if (!due) continue;
      const key = `${rail.id}|${p.execution_date}`;
      const g = groups.get(key) ?? { rail, date: p.execution_date, ids: [] };
      g.ids.push(p.id);
      groups.set(key, g);
    }
    let submitted = 0;
    for (const [key, g] of groups) {
      let r: Awaited<ReturnType<typeof submitGroup>>;
      try {
        r = await submitGroup(g.rail, g.date, g.ids);
      } catch (err) {
        // This rail's batch is rolled back and retried next run; the other rails go on.
        const message = err instanceof Error ? err.message : String(err);
        const prev = failing.get(key);
        if (prev?.message === message) prev.runs++;
        else {
          failing.set(key, { message, runs: 1 });
          o.logger.error(
            { err, rail: g.rail.id, executionDate: g.date, payouts: g.ids.length },
            'payout batch failed; other rails continue',
          );
        }
        continue;
      }
      const prev = failing.get(key);
      if (prev) {
        failing.delete(key);
        o.logger.info({ rail: g.rail.id, executionDate: g.date, failedRuns: prev.runs }, 'payout batch recovered');
      }
      submitted += r.submitted;
      if (r.file) {
        // After commit: the file is safe in the database; the folder copy is for the bank link.
        // Payment files name people and accounts: owner-only folder and file.
        try {
          mkdirSync(r.file.dir, { recursive: true, mode: 0o700 });
          writeFileSync(path.join(r.file.dir, r.file.name), r.file.content, { mode: 0o600 });
        } catch (err) {
          o.logger.error({ err, file: r.file.name }, 'could not write payment file to the outbox folder (kept in the database)');
        }
      }
    }
    return submitted;
  }

  return { run };
}

/**
 * The file for the longest prefix of a batch the writer takes. Each payment was checked alone,
 * so a refusal of the whole is a file-level limit (a control total, a count); the prefix is
 * found by halving, a few builds at most.
 */
export function largestFile(n: number, build: (count: number) => PaymentFile): { file: PaymentFile; count: number } {
  try {
    return { file: build(n), count: n };
  } catch (err) {
    if (!(err instanceof AppError) || n <= 1) throw err;
  }
  let lo = 1; // builds (every single payment does)
  let hi = n; // does not
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    try {
      build(mid);
      lo = mid;
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      hi = mid;
    }
  }
  return { file: build(lo), count: lo };
}
