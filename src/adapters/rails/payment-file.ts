import { buildAba, buildCpa005, buildNacha, buildPain001 } from './formats/index.ts';
import type { Creditor, Debtor, FileBatch, PaymentFile } from './formats/types.ts';
import { RAILS, type RailId, type RailSpec } from './rails.ts';
import { AppError } from '../../infra/lib/errors.ts';
import type { FiatAsset } from '../../infra/lib/money.ts';

/**
 * One rail's payment file, and the question asked of it where data enters: would this rail's
 * file writer take this creditor? The writers are the single source of truth for what a file
 * needs (docs/rails.md), so the entry check runs the writer itself on a one-payment batch
 * instead of restating its rules.
 */
export function buildRailFile(rail: RailSpec, batch: FileBatch, sequence: number): PaymentFile {
  switch (rail.id as RailId) {
    case 'SEPA_INSTANT':
      return buildPain001({ ...batch, instant: true }, { serviceLevel: 'SEPA', localInstrument: 'INST' });
    case 'SEPA_CT':
      return buildPain001(batch, { serviceLevel: 'SEPA' });
    case 'FPS':
    case 'FAST':
      return buildPain001(batch, { serviceLevel: 'NURG' });
    case 'CHAPS':
    case 'MEPS':
    case 'WIRE':
      return buildPain001(batch, { serviceLevel: 'URGP' });
    case 'ACH':
      return buildNacha({ ...batch, fileIdModifier: String.fromCharCode(65 + (sequence % 26)) }, { secCode: 'PPD' });
    case 'ACH_SAME_DAY':
      return buildNacha({ ...batch, sameDay: true, fileIdModifier: String.fromCharCode(65 + (sequence % 26)) }, { secCode: 'PPD' });
    case 'EFT':
      return buildCpa005(batch, { fileCreationNumber: (sequence % 9999) + 1 });
    case 'NPP':
    case 'BECS':
      return buildAba(batch);
  }
}

/** Every rail a payout in this currency can be sent on. */
export function railsCarrying(currency: FiatAsset, rails: Record<RailId, RailSpec> = RAILS): RailSpec[] {
  return Object.values(rails).filter((r) => r.currency === currency);
}

/** The writer's refusal of one payment on one rail, or null when the file would be written. */
export function paymentRefusal(
  rail: RailSpec,
  x: { debtor: Debtor; creditor: Creditor; amountMinor: bigint; executionDate: string; createdAt: Date },
): string | null {
  try {
    buildRailFile(
      rail,
      {
        batchId: 'CHECK',
        createdAt: x.createdAt,
        executionDate: x.executionDate,
        debtor: x.debtor,
        instructions: [
          {
            payoutId: 'CHECK',
            endToEndId: 'CHECK',
            amountMinor: x.amountMinor,
            currency: rail.currency,
            creditor: x.creditor,
            remittance: 'OpenRamp payout CHECK',
          },
        ],
      },
      0,
    );
    return null;
  } catch (err) {
    // Only the writers' own refusals are answers; anything else is a bug and must surface.
    if (err instanceof AppError) return err.message;
    throw err;
  }
}

/**
 * What stops a creditor being paid on any rail of its currency: one line per refusing rail,
 * empty when every rail's file would carry it. Checked with the smallest amount, so only the
 * account's own details are judged.
 */
export function creditorRefusals(
  currency: FiatAsset,
  debtor: Debtor,
  creditor: Creditor,
  at: Date,
  rails: Record<RailId, RailSpec> = RAILS,
): { rail: RailId; reason: string }[] {
  const out: { rail: RailId; reason: string }[] = [];
  const executionDate = at.toISOString().slice(0, 10);
  for (const rail of railsCarrying(currency, rails)) {
    const reason = paymentRefusal(rail, { debtor, creditor, amountMinor: 1n, executionDate, createdAt: at });
    if (reason !== null) out.push({ rail: rail.id, reason });
  }
  return out;
}
