import type { Migration } from 'kysely';
import * as m0001 from './0001_foundation.ts';
import * as m0002 from './0002_deposits.ts';

/** Numbered migrations, applied in key order. Append; never edit a landed migration. */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_deposits': m0002,
};
