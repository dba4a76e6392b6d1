import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { mnemonicToSeedSync, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { HDKey } from '@scure/bip32';
import { parseMasterKey, type Config } from '../config.ts';
import { migrateToLatest } from '../infra/db/database.ts';
import { createFieldSealer } from '../infra/db/sealed-columns.ts';
import { createSecretBox } from '../infra/lib/secret-box.ts';
import { createLogger } from '../infra/lib/logger.ts';
import { rotateMasterKey, type KeyPair } from '../infra/keys/master-key.ts';
import { resealPartnerSecrets } from '../domain/partners/partners.ts';
import { resealCustomers } from '../domain/customers/customers.ts';
import { resealBankAccounts } from '../domain/bank-accounts/bank-accounts.ts';
import { resealPayoutBatches } from '../domain/payouts/payouts.ts';
import { resealIdempotencyResponses } from '../infra/idempotency/store.ts';
import { resealEventPayloads } from '../infra/events/outbox.ts';
import { openConfiguredDatabase, resolveSecrets } from '../runtime.ts';
import type { NetworkFamily } from '../adapters/chains/addresses.ts';

/**
 * `openramp keys …` and `openramp xpub derive`: the secrets an operator creates once, offline or
 * at a maintenance window. docs/operations.md, "Production set-up".
 */

/** `keys generate`: a fresh master key and operator token, as JSON (the operator stores them in a secret manager). */
export function generateKeys(): { masterKey: string; operatorToken: string } {
  return { masterKey: randomBytes(32).toString('hex'), operatorToken: `opt_${randomBytes(32).toString('base64url')}` };
}

/** Reads standard input to its end (a secret never comes from arguments or the environment). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The master key file of a data folder (sandbox and single-host set-ups keep the key there). */
export const MASTER_KEY_FILE = 'master.key';

/**
 * `keys rotate-master`: re-seals every API and webhook secret and all sealed personal data under
 * the new key, in one transaction, then writes the new key-check value. The new key is read from
 * standard input. Every server on the database must be stopped first.
 */
export async function rotateMaster(config: Config, newKeyText: string): Promise<{ rows: Record<string, number>; keyFile: string | null }> {
  const logger = createLogger({ level: 'error' });
  const newKey = parseMasterKey(newKeyText.split('\n')[0] ?? '', 'the new master key (standard input)');
  const oldKey = resolveSecrets(config, logger).masterKey;
  if (oldKey.equals(newKey)) throw new Error('the new master key is the current one');
  const keys: KeyPair = {
    from: { box: createSecretBox(oldKey), sealer: createFieldSealer(oldKey) },
    to: { box: createSecretBox(newKey), sealer: createFieldSealer(newKey) },
  };
  // With the key in the data folder, the new one is written beside it first and takes its place
  // once the transaction has committed.
  const keyFile = config.masterKey === null ? path.join(config.dataDir, MASTER_KEY_FILE) : null;
  const pending = keyFile ? `${keyFile}.next` : null;
  if (pending) writeFileSync(pending, `${newKey.toString('hex')}\n`, { mode: 0o600 });
  const database = await openConfiguredDatabase(config);
  try {
    await migrateToLatest(database.db);
    const rows = await rotateMasterKey(database.db, keys, {
      partners: resealPartnerSecrets,
      customers: resealCustomers,
      bankAccounts: resealBankAccounts,
      payoutBatches: resealPayoutBatches,
      idempotencyResponses: resealIdempotencyResponses,
      events: resealEventPayloads,
    });
    if (keyFile && pending) renameSync(pending, keyFile);
    return { rows, keyFile };
  } catch (err) {
    if (pending && existsSync(pending)) renameSync(pending, `${pending}.failed`);
    throw err;
  } finally {
    await database.close();
  }
}

/** BIP44 account paths of the families OpenRamp derives deposit addresses for. */
export const ACCOUNT_PATHS: Record<NetworkFamily, (account: number) => string> = {
  EVM: (account) => `m/44'/60'/${account}'`,
  TRON: (account) => `m/44'/195'/${account}'`,
};

/**
 * `xpub derive`: the account-level xpub of a BIP39 mnemonic, for `OPENRAMP_XPUB_EVM` and
 * `OPENRAMP_XPUB_TRON`. Run it on an offline machine; the private keys stay with the mnemonic.
 */
export function deriveAccountXpubs(
  mnemonicText: string,
  opts: { account?: number; passphrase?: string } = {},
): Record<NetworkFamily, { path: string; xpub: string }> {
  const mnemonic = mnemonicText.trim().toLowerCase().split(/\s+/).join(' ');
  if (!validateMnemonic(mnemonic, wordlist))
    throw new Error('standard input is not a valid BIP39 English mnemonic (12–24 words with a valid checksum)');
  const account = opts.account ?? 0;
  const root = HDKey.fromMasterSeed(mnemonicToSeedSync(mnemonic, opts.passphrase ?? ''));
  const out = {} as Record<NetworkFamily, { path: string; xpub: string }>;
  for (const family of ['EVM', 'TRON'] as const) {
    const p = ACCOUNT_PATHS[family](account);
    out[family] = { path: p, xpub: root.derive(p).publicExtendedKey };
  }
  return out;
}
