import type { FeeSchedule } from './pricing.ts';
import type { FiatAsset } from '../lib/money.ts';

/** Fee schedule lookup. Per-partner schedules come with the trade stage; today one default. */
export interface Fees {
  forPartner(partnerId: string, currency: FiatAsset): Promise<FeeSchedule>;
}

export function createDefaultFees(schedule: FeeSchedule): Fees {
  return { forPartner: async () => schedule };
}
