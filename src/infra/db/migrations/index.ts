import type { Migration } from 'kysely';
import * as m0001 from './0001_foundation.ts';
import * as m0002 from './0002_deposits.ts';
import * as m0003 from './0003_webhooks.ts';
import * as m0004 from './0004_trades_ledger.ts';
import * as m0005 from './0005_payouts.ts';
import * as m0006 from './0006_pricing.ts';
import * as m0007 from './0007_hardening.ts';
import * as m0010 from './0010_idempotency.ts';
import * as m0011 from './0011_payout_holds.ts';
import * as m0012 from './0012_key_checks.ts';

/** Numbered migrations, applied in key order. Append; never edit a landed migration. */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_deposits': m0002,
  '0003_webhooks': m0003,
  '0004_trades_ledger': m0004,
  '0005_payouts': m0005,
  '0006_pricing': m0006,
  '0007_hardening': m0007,
  '0010_idempotency': m0010,
  '0011_payout_holds': m0011,
  '0012_key_checks': m0012,
};
