import { sql, type Kysely } from 'kysely';
import type { DB } from '../../infra/db/schema.ts';
import type { Clock } from '../../infra/lib/clock.ts';
import { AppError, notFound } from '../../infra/lib/errors.ts';
import { ASSET_SCALE, formatDecimal, minor, parseAmount, type FiatAsset } from '../../infra/lib/money.ts';
import { RAILS, RAIL_IDS, chooseRail, type RailId } from '../rails/rails.ts';
import type { FeeSchedule } from './pricing.ts';
import { partnerExists } from '../../domain/partners/partners.ts';

/**
 * Fee schedules (docs/pricing.md): per partner a spread and an optional partner fee in basis points of
 * the gross fiat amount, and a fixed fee per payout rail in minor units of the rail's currency.
 * A partner without a schedule of its own gets the default schedule from configuration; a
 * partner schedule that names only some rails takes the default fixed fee for the others.
 */
export const FEE_BPS_MAX = 1000;

export interface DefaultFeeSchedule {
  spreadBps: number;
  partnerFeeBps: number;
  /** Minor units of each rail's currency. */
  fixedFeeMinor: Record<RailId, bigint>;
}

export const ZERO_FEES: DefaultFeeSchedule = {
  spreadBps: 0,
  partnerFeeBps: 0,
  fixedFeeMinor: Object.fromEntries(RAIL_IDS.map((r) => [r, 0n])) as Record<RailId, bigint>,
};

export interface FeeScheduleInput {
  spreadBps: number;
  partnerFeeBps: number;
  fixedFeeMinor: Partial<Record<RailId, bigint>>;
}

/** The effective schedule of a partner. */
export interface PartnerFeeSchedule {
  partnerId: string;
  /** True when the partner has no schedule of its own (configuration defaults apply). */
  isDefault: boolean;
  spreadBps: number;
  partnerFeeBps: number;
  fixedFees: Record<RailId, { currency: FiatAsset; amountMinor: bigint; source: 'partner' | 'default' }>;
  version: number | null;
  updatedAt: Date | null;
}

export interface Fees {
  /**
   * The partner's fees for a payout in `currency` over `rail`. Without `rail`, the schedule
   * resolves the rail at quote time: computeQuote chooses it with `chooseRail` on the gross
   * amount (at the time of this call) and applies that rail's fixed fee. `q`: the transaction
   * when called inside one.
   */
  forPartner<T extends FiatAsset>(partnerId: string, currency: T, rail?: RailId, q?: Kysely<DB>): Promise<FeeSchedule<T>>;
}

export interface FeeSchedules extends Fees {
  get(partnerId: string): Promise<PartnerFeeSchedule>;
  /** Replaces the partner's schedule. */
  set(partnerId: string, input: FeeScheduleInput): Promise<PartnerFeeSchedule>;
  /** Drops the partner's schedule (back to the defaults); false when it had none. */
  remove(partnerId: string): Promise<boolean>;
}

function checkBps(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > FEE_BPS_MAX)
    throw new AppError(
      'INVALID_PARAMETERS',
      `${field}: must be an integer from 0 to ${FEE_BPS_MAX} (basis points), got ${JSON.stringify(v)}`,
    );
  return v;
}

/**
 * Validates an operator's schedule: bps integers 0–1000; fixed fees per rail as decimal strings
 * in the rail's currency ("0.25" EUR for SEPA_INSTANT), at most its minor-unit decimals.
 */
export function parseFeeScheduleInput(body: { spreadBps?: unknown; partnerFeeBps?: unknown; fixedFees?: unknown }): FeeScheduleInput {
  const spreadBps = checkBps('spreadBps', body.spreadBps);
  const partnerFeeBps = body.partnerFeeBps === undefined ? 0 : checkBps('partnerFeeBps', body.partnerFeeBps);
  const fixedFeeMinor: Partial<Record<RailId, bigint>> = {};
  const fixed = body.fixedFees ?? {};
  if (typeof fixed !== 'object' || fixed === null || Array.isArray(fixed))
    throw new AppError('INVALID_PARAMETERS', 'fixedFees: must be an object of rail → decimal string');
  for (const [rail, value] of Object.entries(fixed)) {
    if (!(RAIL_IDS as readonly string[]).includes(rail))
      throw new AppError('INVALID_PARAMETERS', `fixedFees.${rail}: unknown rail (one of ${RAIL_IDS.join(', ')})`);
    const currency = RAILS[rail as RailId].currency;
    const amount = typeof value === 'string' ? parseAmount(currency, value) : null;
    if (amount === null)
      throw new AppError(
        'INVALID_PARAMETERS',
        `fixedFees.${rail}: must be a decimal string in ${currency} with at most ${ASSET_SCALE[currency]} decimals, e.g. "0.25", got ${JSON.stringify(value)}`,
      );
    fixedFeeMinor[rail as RailId] = amount;
  }
  return { spreadBps, partnerFeeBps, fixedFeeMinor };
}

export function partnerFeeScheduleView(s: PartnerFeeSchedule) {
  return {
    partnerId: s.partnerId,
    isDefault: s.isDefault,
    spreadBps: s.spreadBps,
    partnerFeeBps: s.partnerFeeBps,
    fixedFees: Object.fromEntries(
      RAIL_IDS.map((r) => [
        r,
        {
          currency: s.fixedFees[r].currency,
          amount: formatDecimal(s.fixedFees[r].amountMinor, ASSET_SCALE[s.fixedFees[r].currency]),
          source: s.fixedFees[r].source,
        },
      ]),
    ),
    version: s.version,
    updateTime: s.updatedAt ? s.updatedAt.toISOString() : null,
  };
}

export function createFees(deps: { db: Kysely<DB>; clock: Clock; defaults: DefaultFeeSchedule }): FeeSchedules {
  const { db, clock, defaults } = deps;

  /** One statement, so a schedule replaced concurrently is read wholly old or wholly new. */
  async function load(partnerId: string, q: Kysely<DB>): Promise<PartnerFeeSchedule> {
    const rows = await q
      .selectFrom('partner_fee_schedules as s')
      .leftJoin('partner_rail_fees as f', 'f.partner_id', 's.partner_id')
      .select(['s.partner_id', 's.spread_bps', 's.partner_fee_bps', 's.version', 's.updated_at', 'f.rail', 'f.fixed_fee'])
      .where('s.partner_id', '=', partnerId)
      .execute();
    // No schedule of its own: the partner (if it exists) pays the configured default.
    if (rows.length === 0 && !(await partnerExists(q, partnerId))) throw notFound('partner', partnerId);
    const row = rows[0] ?? null;
    const ownFee = new Map(rows.filter((r) => r.rail !== null && r.fixed_fee !== null).map((r) => [r.rail!, BigInt(r.fixed_fee!)]));
    const fixedFees = {} as PartnerFeeSchedule['fixedFees'];
    for (const rail of RAIL_IDS) {
      const mine = ownFee.get(rail);
      fixedFees[rail] = {
        currency: RAILS[rail].currency,
        amountMinor: mine ?? defaults.fixedFeeMinor[rail],
        source: mine === undefined ? 'default' : 'partner',
      };
    }
    return {
      partnerId,
      isDefault: !row,
      spreadBps: row ? row.spread_bps! : defaults.spreadBps,
      partnerFeeBps: row ? row.partner_fee_bps! : defaults.partnerFeeBps,
      fixedFees,
      version: row ? row.version! : null,
      updatedAt: row ? row.updated_at! : null,
    };
  }

  return {
    async forPartner(partnerId, currency, rail, q = db) {
      const s = await load(partnerId, q);
      const base = { spreadBps: s.spreadBps, partnerFeeBps: s.partnerFeeBps };
      if (rail !== undefined) {
        if (RAILS[rail].currency !== currency) throw new AppError('INTERNAL', `rail ${rail} does not pay out ${currency}`);
        return { ...base, rail, fixedFeeMinor: minor(currency, s.fixedFees[rail].amountMinor) };
      }
      const at = clock.now();
      return {
        ...base,
        rail: null,
        fixedFeeMinor: minor(currency, 0n),
        // The rail the payout will use for this gross amount (a zero gross is never paid out;
        // price it as the smallest payment). chooseRail returns a rail of `currency`, so its fee
        // is in `currency` too.
        forGross: (gross) => {
          const r = chooseRail(currency, gross > 0n ? gross : 1n, at).id;
          return { rail: r, fixedFeeMinor: minor(currency, s.fixedFees[r].amountMinor) };
        },
      };
    },

    get: (partnerId) => load(partnerId, db),

    async set(partnerId, input) {
      checkBps('spreadBps', input.spreadBps);
      checkBps('partnerFeeBps', input.partnerFeeBps);
      const rails = RAIL_IDS.filter((r) => input.fixedFeeMinor[r] !== undefined);
      for (const r of rails)
        if (input.fixedFeeMinor[r]! < 0n) throw new AppError('INVALID_PARAMETERS', `fixedFees.${r}: must not be negative`);
      return db.transaction().execute(async (tx) => {
        if (!(await partnerExists(tx, partnerId))) throw notFound('partner', partnerId);
        const now = clock.now();
        // One upsert: it locks the partner's row, so concurrent replacements run one after the other.
        await tx
          .insertInto('partner_fee_schedules')
          .values({
            partner_id: partnerId,
            spread_bps: input.spreadBps,
            partner_fee_bps: input.partnerFeeBps,
            version: 1,
            created_at: now,
            updated_at: now,
          })
          .onConflict((oc) =>
            oc.column('partner_id').doUpdateSet((eb) => ({
              spread_bps: eb.ref('excluded.spread_bps'),
              partner_fee_bps: eb.ref('excluded.partner_fee_bps'),
              version: sql<number>`partner_fee_schedules.version + 1`,
              updated_at: eb.ref('excluded.updated_at'),
            })),
          )
          .execute();
        await tx.deleteFrom('partner_rail_fees').where('partner_id', '=', partnerId).execute();
        if (rails.length > 0) {
          await tx
            .insertInto('partner_rail_fees')
            .values(
              rails.map((r) => ({
                partner_id: partnerId,
                rail: r,
                currency: RAILS[r].currency,
                fixed_fee: input.fixedFeeMinor[r]!.toString(),
              })),
            )
            .execute();
        }
        return load(partnerId, tx);
      });
    },

    async remove(partnerId) {
      await load(partnerId, db); // not found → NOT_FOUND
      return db.transaction().execute(async (tx) => {
        await tx.deleteFrom('partner_rail_fees').where('partner_id', '=', partnerId).execute();
        const r = await tx.deleteFrom('partner_fee_schedules').where('partner_id', '=', partnerId).executeTakeFirst();
        return r.numDeletedRows > 0n;
      });
    },
  };
}
