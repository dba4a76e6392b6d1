import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';

/**
 * Personal data encrypted at rest (docs/security.md, "Personal data at rest").
 *
 * The owning module seals a value before it writes it (`customers` seals a date of birth, city and
 * address; `bank-accounts` the account number, IBAN, holder name and addresses; the batcher the
 * stored copy of each payment file; the idempotency store each stored response; the outbox the
 * same fields inside an event's payload). Reads need no code: the database handle carries
 * {@link SealedColumnsPlugin}, which opens every sealed value of the columns and payload fields
 * listed below, so every module sees plaintext and the tables hold only ciphertext.
 *
 * What is queried stays plain: customer names (the `realName` filter and payee matching) and email
 * addresses (lookup by email), ids, statuses, currencies and amounts.
 *
 * Format `pii1.<iv>.<tag>.<ciphertext>` (base64url, AES-256-GCM), under a key derived from the
 * master key with HKDF, so it is never the key that seals API and webhook secrets. A value
 * without the prefix (a row written before sealing existed) is read as it is.
 */
export const SEALED_PREFIX = 'pii1.';

/** Table columns whose values are sealed, by owning table. */
export const SEALED_COLUMNS = {
  customers: ['dob', 'city', 'address'],
  bank_accounts: ['account_no', 'account_name', 'iban', 'bank_address', 'beneficiary_address', 'inter_bank_account_no'],
  // The stored copy of each payment file: it names every payee with account and address.
  payout_batches: ['file_content'],
  // A stored first response, replayed for a repeated Idempotency-Key: often a customer's detail.
  idempotency_keys: ['response_body'],
} as const;

/** Fields of an event's stored payload that are sealed (the detail representations' names). */
export const SEALED_PAYLOAD_FIELDS = [
  'dob',
  'dateOfBirth',
  'city',
  'address',
  'accountNo',
  'accountName',
  'iban',
  'bankAddress',
  'beneficiaryAddress',
] as const;

const COLUMN_NAMES = new Set<string>(Object.values(SEALED_COLUMNS).flat());
const PAYLOAD_FIELDS = new Set<string>(SEALED_PAYLOAD_FIELDS);

export interface FieldSealer {
  seal(value: string): string;
  sealNullable(value: string | null): string | null;
  /** Opens a sealed value; a value without the prefix is returned as it is. Throws when the key does not open it. */
  open(value: string): string;
  /** A copy of an event payload with its personal fields sealed. */
  sealPayload(payload: Record<string, unknown>): Record<string, unknown>;
}

export function createFieldSealer(masterKey: Buffer): FieldSealer {
  if (masterKey.length !== 32) throw new Error('master key must be 32 bytes');
  const key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'openramp personal data v1', 32));
  const seal = (value: string) => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const ct = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return `${SEALED_PREFIX}${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${ct.toString('base64url')}`;
  };
  const open = (value: string) => {
    if (!value.startsWith(SEALED_PREFIX)) return value;
    const [iv, tag, ct] = value.slice(SEALED_PREFIX.length).split('.');
    if (!iv || !tag || ct === undefined) throw new Error('sealed value: unrecognised format');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('sealed value: the master key (OPENRAMP_MASTER_KEY) does not open the stored personal data');
    }
  };
  const sealPayload = (payload: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...payload };
    for (const [k, v] of Object.entries(out)) {
      if (PAYLOAD_FIELDS.has(k) && typeof v === 'string' && v !== '') out[k] = seal(v);
      // A nested detail (a flow's bank account) is sealed the same way.
      else if (v !== null && typeof v === 'object' && !Array.isArray(v)) out[k] = sealPayload(v as Record<string, unknown>);
    }
    return out;
  };
  return { seal, open, sealNullable: (value) => (value === null ? null : seal(value)), sealPayload };
}

function openPayload(sealer: FieldSealer, payload: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(payload)) {
    let opened: unknown = v;
    if (typeof v === 'string' && v.startsWith(SEALED_PREFIX) && PAYLOAD_FIELDS.has(k)) opened = sealer.open(v);
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) opened = openPayload(sealer, v as Record<string, unknown>);
    if (opened !== v) {
      out ??= { ...payload };
      out[k] = opened;
    }
  }
  return out ?? payload;
}

/**
 * Opens sealed values in every result row: the columns of {@link SEALED_COLUMNS} (by name, only
 * values carrying the prefix, so another table's `address` column is never touched) and the
 * sealed fields of a `payload` column, whether the driver returns it parsed or as text.
 */
export class SealedColumnsPlugin implements KyselyPlugin {
  constructor(private readonly sealer: FieldSealer) {}

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const rows = args.result.rows;
    if (rows.length === 0) return args.result;
    return { ...args.result, rows: rows.map((row) => this.openRow(row)) };
  }

  private openRow(row: UnknownRow): UnknownRow {
    let out: UnknownRow | null = null;
    for (const [k, v] of Object.entries(row)) {
      let opened: unknown = v;
      if (typeof v === 'string' && COLUMN_NAMES.has(k) && v.startsWith(SEALED_PREFIX)) opened = this.sealer.open(v);
      else if (k === 'payload' && v !== null) {
        if (typeof v === 'object' && !Array.isArray(v)) opened = openPayload(this.sealer, v as Record<string, unknown>);
        else if (typeof v === 'string' && v.includes(SEALED_PREFIX)) {
          const parsed: unknown = JSON.parse(v);
          if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
            opened = JSON.stringify(openPayload(this.sealer, parsed as Record<string, unknown>));
        }
      }
      if (opened !== v) {
        out ??= { ...row };
        out[k] = opened;
      }
    }
    return out ?? row;
  }
}

/** Re-seals one stored value under another key; a plain (legacy) value is sealed for the first time. */
export function resealValue(value: string | null, from: FieldSealer, to: FieldSealer): string | null {
  return value === null ? null : to.seal(from.open(value));
}

/** Re-seals the personal fields of a stored event payload (and seals any still plain). */
export function resealPayload(payload: Record<string, unknown>, from: FieldSealer, to: FieldSealer): Record<string, unknown> {
  return to.sealPayload(openPayload(from, payload));
}

/**
 * Walks a table in primary-key order, a page at a time, and rewrites each row the owner's
 * `update` changes (a master-key rotation). The owner names its table in `page` and `update`.
 */
export async function resealPages<R extends { id: string | number }>(
  page: (after: string | number | null, size: number) => Promise<R[]>,
  update: (row: R) => Promise<void>,
  size = 500,
): Promise<number> {
  let after: string | number | null = null;
  let n = 0;
  for (;;) {
    const rows = await page(after, size);
    for (const row of rows) {
      await update(row);
      n++;
    }
    if (rows.length < size) return n;
    after = rows[rows.length - 1]!.id;
  }
}
