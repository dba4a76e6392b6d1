import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../../infra/db/schema.ts';
import type { Clock } from '../../infra/lib/clock.ts';
import { invariantBroken } from '../../infra/lib/errors.ts';
import { RAILS, localDate, type RailId } from '../../adapters/rails/rails.ts';
import { parseAba, parseCpa005, parseNacha, parsePain001 } from '../../adapters/rails/formats/readers/index.ts';
import type { PayoutRow } from './payouts.ts';

/**
 * The sandbox bank: it reads submitted payment files as a bank would (with the independent
 * parsers, so a file it cannot read stays unacknowledged), then settles their payouts on the
 * expected arrival date, or at once when asked.
 */

/** The per-payout references a bank file carries, read back with the independent parsers. */
export function fileReferences(format: string, content: string): string[] {
  switch (format) {
    case 'pain001':
      return parsePain001(content).paymentInfos.flatMap((p) => p.transactions.map((t) => t.endToEndId));
    case 'nacha':
      return parseNacha(content).batches.flatMap((b) => b.entries.map((e) => e.traceNumber));
    case 'cpa005':
      return parseCpa005(content).transactions.map((t) => t.crossReference);
    case 'aba':
      return parseAba(content)
        .details.filter((d) => d.transactionCode !== '13')
        .map((d) => d.lodgementReference);
    default:
      throw invariantBroken(`unknown file format ${format}`);
  }
}

export function createSandboxBank(o: {
  db: Kysely<DB>;
  clock: Clock;
  logger: Logger;
  /** Books a SUBMITTED payout as settled, inside the given transaction. */
  settle(tx: Transaction<DB>, p: PayoutRow): Promise<PayoutRow>;
}): { run(opts: { settleImmediately: boolean }): Promise<{ filesRead: number; settled: number }> } {
  const { db, clock } = o;
  return {
    async run({ settleImmediately }) {
      let filesRead = 0;
      const batches = await db
        .selectFrom('payout_batches')
        .selectAll()
        .where('status', '=', 'SUBMITTED')
        .orderBy('created_at')
        .limit(100)
        .execute();
      for (const b of batches) {
        // The sandbox bank reads the file as a bank would; a file it cannot read stays unacknowledged.
        try {
          const refs = fileReferences(b.file_format, b.file_content);
          if (refs.length !== b.payout_count) throw new Error(`file has ${refs.length} payments, batch says ${b.payout_count}`);
        } catch (err) {
          o.logger.error({ err, batchId: b.id }, 'sandbox bank could not read a payment file');
          continue;
        }
        await db
          .updateTable('payout_batches')
          .set({ status: 'ACKNOWLEDGED', acknowledged_at: clock.now() })
          .where('id', '=', b.id)
          .execute();
        filesRead++;
      }
      const submitted = await db
        .selectFrom('payouts')
        .innerJoin('payout_batches', 'payout_batches.id', 'payouts.batch_id')
        .select(['payouts.id', 'payouts.rail', 'payouts.expected_arrival_date'])
        .where('payouts.status', '=', 'SUBMITTED')
        .where('payout_batches.status', '=', 'ACKNOWLEDGED')
        .limit(1000)
        .execute();
      let settled = 0;
      for (const p of submitted) {
        const rail = RAILS[p.rail as RailId];
        const today = localDate(clock.now(), rail.timeZone);
        if (!settleImmediately && today < p.expected_arrival_date) continue;
        await db.transaction().execute(async (tx) => {
          const row = await tx.selectFrom('payouts').selectAll().where('id', '=', p.id).forUpdate().executeTakeFirstOrThrow();
          if (row.status !== 'SUBMITTED') return;
          await o.settle(tx, row);
          settled++;
        });
      }
      return { filesRead, settled };
    },
  };
}
