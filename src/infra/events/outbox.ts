import type { Kysely, Transaction } from 'kysely';
import type { Resealer } from '../keys/master-key.ts';
import { resealPages, resealPayload } from '../db/sealed-columns.ts';
import type { DB } from '../db/schema.ts';
import type { IdGenerator } from '../lib/ids.ts';
import type { Clock } from '../lib/clock.ts';
import type { FieldSealer } from '../db/sealed-columns.ts';

/**
 * Transactional outbox: every state change writes its event in the same database transaction
 * (docs/state-machines.md). The payload is the object's detail representation at that version, so webhooks
 * (a later stage) deliver exactly what `GET /<resource>/detail` would have shown — except for our own
 * bank-account events, which carry masked identifiers (docs/security.md). Personal fields are stored sealed.
 */
export type EventType =
  | 'CUSTOMER_APPROVED'
  | 'CUSTOMER_REJECTED'
  | 'CUSTOMER_DELETED'
  | 'DEPOSIT_ADDRESS_APPROVED'
  | 'DEPOSIT_ADDRESS_REJECTED'
  | 'BANK_ACCOUNT_VERIFIED'
  | 'BANK_ACCOUNT_REJECTED'
  | 'DEPOSIT_RECEIVED'
  | 'DEPOSIT_APPROVED'
  | 'DEPOSIT_REJECTED'
  | 'DEPOSIT_ACTION_REQUIRED'
  | 'TRADE_CREATED'
  | 'TRADE_SETTLED'
  | 'PAYOUT_HELD'
  | 'PAYOUT_RELEASED'
  | 'PAYOUT_CANCELLED'
  | 'PAYOUT_SUBMITTED'
  | 'PAYOUT_SETTLED'
  | 'PAYOUT_RETURNED';

/** Events a partner may subscribe to: the contract's names plus our extensions. */
export const SUBSCRIBABLE_EVENTS: readonly EventType[] = [
  'CUSTOMER_APPROVED',
  'CUSTOMER_REJECTED',
  'CUSTOMER_DELETED',
  'DEPOSIT_ADDRESS_APPROVED',
  'DEPOSIT_ADDRESS_REJECTED',
  'DEPOSIT_RECEIVED',
  'DEPOSIT_APPROVED',
  'DEPOSIT_REJECTED',
  'TRADE_CREATED',
  'TRADE_SETTLED',
  'BANK_ACCOUNT_VERIFIED',
  'BANK_ACCOUNT_REJECTED',
  'DEPOSIT_ACTION_REQUIRED',
  'PAYOUT_HELD',
  'PAYOUT_RELEASED',
  'PAYOUT_CANCELLED',
  'PAYOUT_SUBMITTED',
  'PAYOUT_SETTLED',
  'PAYOUT_RETURNED',
];

export interface NewEvent {
  partnerId: string;
  type: EventType;
  objectType: 'customer' | 'bank_account' | 'deposit_address' | 'deposit' | 'trade' | 'payout';
  objectId: string;
  objectVersion: number;
  payload: Record<string, unknown>;
}

export interface Outbox {
  /** Must be called with the transaction that makes the state change. */
  append(tx: Transaction<DB> | Kysely<DB>, event: NewEvent): Promise<string>;
}

export function createOutbox(deps: {
  ids: IdGenerator;
  clock: Clock;
  /** Personal fields of a payload are stored sealed; the database handle opens them on read. */
  sealer: Pick<FieldSealer, 'sealPayload'>;
}): Outbox {
  return {
    async append(tx, e) {
      const id = deps.ids.next('event');
      await tx
        .insertInto('events')
        .values({
          id,
          partner_id: e.partnerId,
          type: e.type,
          object_type: e.objectType,
          object_id: e.objectId,
          object_version: e.objectVersion,
          payload: JSON.stringify(deps.sealer.sealPayload({ ...e.payload, version: e.objectVersion })),
          created_at: deps.clock.now(),
        })
        .execute();
      return id;
    },
  };
}

/** Master-key rotation: re-seals the personal fields of every stored event payload. */
export const resealEventPayloads: Resealer = (tx, { from, to }) =>
  resealPages(
    (after, size) => {
      let q = tx.selectFrom('events').select(['id', 'payload']).orderBy('id').limit(size);
      if (after !== null) q = q.where('id', '>', String(after));
      return q.execute();
    },
    async (r) => {
      const payload = (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as Record<string, unknown>;
      await tx
        .updateTable('events')
        .set({ payload: JSON.stringify(resealPayload(payload, from.sealer, to.sealer)) })
        .where('id', '=', r.id)
        .execute();
    },
  );
