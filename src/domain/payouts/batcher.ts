import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../../infra/db/schema.ts';
import type { Clock } from '../../infra/lib/clock.ts';
import type { IdGenerator } from '../../infra/lib/ids.ts';
import type { FiatAsset } from '../../infra/lib/money.ts';
import { RAILS, schedule, type RailId, type RailSpec } from '../../adapters/rails/rails.ts';
import { buildRailFile } from '../../adapters/rails/payment-file.ts';
import type { Debtor } from '../../adapters/rails/formats/types.ts';
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
}

/** Closes due batches: treasury check, payment file, SUBMITTED. Returns payouts submitted. */
export function createBatcher(o: BatcherOptions): { run(): Promise<number> } {
  const { db, ids, clock, ledger } = o;

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
      let avail = await o.treasury.available(tx, rail.currency);
      const go: PayoutRow[] = [];
      for (const p of rows) {
        const amount = BigInt(p.amount);
        if (amount <= avail) {
          avail -= amount;
          go.push(p);
        } else if (p.wait_reason !== INSUFFICIENT_TREASURY_FUNDS) {
          await tx
            .updateTable('payouts')
            .set({ wait_reason: INSUFFICIENT_TREASURY_FUNDS, updated_at: clock.now() })
            .where('id', '=', p.id)
            .execute();
        }
      }
      if (go.length === 0) return { submitted: 0, file: null };
      const banks = await findBankAccounts(tx, [...new Set(go.map((p) => p.bank_account_id))]);
      const bankById = new Map(banks.map((b) => [b.id, b]));
      const seq = Number((await sql<{ n: string }>`select nextval('payout_file_sequence')::text as n`.execute(tx)).rows[0]!.n); // not money: a file sequence number
      const batchId = ids.next('payoutBatch');
      const now = clock.now();
      const file = buildRailFile(
        rail,
        {
          batchId,
          createdAt: now,
          executionDate,
          debtor: o.debtors[rail.currency],
          instructions: go.map((p) => ({
            payoutId: p.id,
            endToEndId: p.id,
            amountMinor: BigInt(p.amount),
            currency: rail.currency,
            creditor: creditorOf(bankById.get(p.bank_account_id)!),
            remittance: `OpenRamp payout ${p.id}`,
          })),
        },
        seq,
      );
      await tx
        .insertInto('payout_batches')
        .values({
          id: batchId,
          rail: rail.id,
          currency: rail.currency,
          execution_date: executionDate,
          file_format: rail.fileFormat,
          file_name: file.filename,
          file_content: file.content,
          control_sum: file.controlSumMinor.toString(),
          payout_count: file.count,
          file_sequence: seq,
          status: 'SUBMITTED',
          created_at: now,
          acknowledged_at: null,
        })
        .execute();
      const refs = new Map(file.references.map((r) => [r.payoutId, r.reference]));
      for (const p of go) {
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
      return { submitted: go.length, file: { dir: path.join(o.outboxDir, rail.id), name: file.filename, content: file.content } };
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
    for (const g of groups.values()) {
      const r = await submitGroup(g.rail, g.date, g.ids);
      submitted += r.submitted;
      if (r.file) {
        // After commit: the file is safe in the database; the folder copy is for the bank link.
        try {
          mkdirSync(r.file.dir, { recursive: true });
          writeFileSync(path.join(r.file.dir, r.file.name), r.file.content);
        } catch (err) {
          o.logger.error({ err, file: r.file.name }, 'could not write payment file to the outbox folder (kept in the database)');
        }
      }
    }
    return submitted;
  }

  return { run };
}
