import type { Kysely, Transaction } from 'kysely';
import { ConfigError } from '../../config.ts';
import type { DB } from '../db/schema.ts';
import type { FieldSealer } from '../db/sealed-columns.ts';
import type { SecretBox } from '../lib/secret-box.ts';

/**
 * The master key (`OPENRAMP_MASTER_KEY`) seals API and webhook secrets and, through a derived
 * key, personal data. A server started under another key used to start fine and then answer
 * every signed request with 500. Now the database holds a key-check value — a known text sealed
 * under the key — and a server whose key cannot open it refuses to start, naming the setting.
 * docs/security.md, "The master key".
 */
const KEY_CHECK_TEXT = 'openramp master key check v1';
const KEY_CHECK_ID = 1;

export const WRONG_MASTER_KEY =
  'cannot open the secrets stored in this database: it is not the key they were sealed with. Start with the original key, ' +
  'or re-seal everything under a new one with `openramp keys rotate-master`';

/**
 * Refuses a master key that does not open this database's secrets. A database without a
 * key-check value (new, or from before it existed) gets one, after `canOpenStoredSecrets`
 * shows that the key opens what is already stored.
 */
export async function verifyMasterKey(db: Kysely<DB>, box: SecretBox, canOpenStoredSecrets: () => Promise<boolean>): Promise<void> {
  const row = await db.selectFrom('key_checks').select('sealed').where('id', '=', KEY_CHECK_ID).executeTakeFirst();
  if (row) {
    let opened: string | null = null;
    try {
      opened = box.open(row.sealed);
    } catch {
      opened = null;
    }
    if (opened !== KEY_CHECK_TEXT) throw new ConfigError('OPENRAMP_MASTER_KEY', WRONG_MASTER_KEY);
    return;
  }
  if (!(await canOpenStoredSecrets())) throw new ConfigError('OPENRAMP_MASTER_KEY', WRONG_MASTER_KEY);
  await db
    .insertInto('key_checks')
    .values({ id: KEY_CHECK_ID, sealed: box.seal(KEY_CHECK_TEXT), updated_at: new Date() })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/** Writes the key-check value under the new key (inside the rotation's transaction). */
export async function writeKeyCheck(tx: Transaction<DB>, box: SecretBox): Promise<void> {
  await tx
    .insertInto('key_checks')
    .values({ id: KEY_CHECK_ID, sealed: box.seal(KEY_CHECK_TEXT), updated_at: new Date() })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({ sealed: (eb) => eb.ref('excluded.sealed'), updated_at: (eb) => eb.ref('excluded.updated_at') }),
    )
    .execute();
}

/** What each owner of sealed data re-seals in a rotation: secrets under `box`, personal data under `sealer`. */
export interface KeyPair {
  from: { box: SecretBox; sealer: FieldSealer };
  to: { box: SecretBox; sealer: FieldSealer };
}

/** A resealer: an owner module's function that re-seals its rows inside the rotation's transaction; returns rows changed. */
export type Resealer = (tx: Transaction<DB>, keys: KeyPair) => Promise<number>;

/**
 * Re-seals everything under a new master key in one transaction, then writes the new key-check
 * value: either every secret and personal field moves to the new key, or none does. `db` must be
 * a handle without the sealed-columns plugin (the rows are read as stored).
 */
export async function rotateMasterKey(db: Kysely<DB>, keys: KeyPair, resealers: Record<string, Resealer>): Promise<Record<string, number>> {
  return db.transaction().execute(async (tx) => {
    const row = await tx.selectFrom('key_checks').select('sealed').where('id', '=', KEY_CHECK_ID).forUpdate().executeTakeFirst();
    if (row) {
      let opened: string | null = null;
      try {
        opened = keys.from.box.open(row.sealed);
      } catch {
        opened = null;
      }
      if (opened !== KEY_CHECK_TEXT) throw new ConfigError('OPENRAMP_MASTER_KEY', `the current key ${WRONG_MASTER_KEY}`);
    }
    const changed: Record<string, number> = {};
    for (const [name, reseal] of Object.entries(resealers)) changed[name] = await reseal(tx, keys);
    await writeKeyCheck(tx, keys.to.box);
    return changed;
  });
}
