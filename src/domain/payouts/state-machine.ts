import type { Selectable } from 'kysely';
import type { PayoutsTable } from '../../infra/db/schema.ts';
import { defineStateMachine } from '../../infra/events/state-machine.ts';

/**
 * Payout states (docs/state-machines.md, docs/rails.md): created `PENDING` (no event; it may wait
 * for treasury funds) → `SUBMITTED` in a payment file → `SETTLED` on the bank's confirmation;
 * `RETURNED` by the bank, before or after settlement. A payout the rail's file writer refuses is
 * taken out of its batch to `HELD` (with the reason) so the rest of the batch goes out; an
 * operator releases it back to `PENDING` (after correcting its bank account) or cancels it
 * (`CANCELLED`: nothing was sent, the money is owed to the customer again). A returned or
 * cancelled payout is retried as a new payout (the next attempt), never moved back.
 */
export type PayoutStatus = Selectable<PayoutsTable>['status'];

export const PAYOUT_STATUSES: readonly PayoutStatus[] = ['PENDING', 'HELD', 'SUBMITTED', 'SETTLED', 'RETURNED', 'CANCELLED'];

/** States whose payout no longer carries the trade's money: it is owed to the customer again. */
export const PAYOUT_RELEASED_MONEY: readonly PayoutStatus[] = ['RETURNED', 'CANCELLED'];

export const PAYOUT_MACHINE = defineStateMachine<'payouts', PayoutStatus>({
  name: 'payout',
  table: 'payouts',
  moves: [
    { from: 'PENDING', to: 'SUBMITTED', event: 'PAYOUT_SUBMITTED' },
    { from: 'PENDING', to: 'HELD', event: 'PAYOUT_HELD' },
    { from: 'HELD', to: 'PENDING', event: 'PAYOUT_RELEASED' },
    { from: 'HELD', to: 'CANCELLED', event: 'PAYOUT_CANCELLED' },
    { from: 'SUBMITTED', to: 'SETTLED', event: 'PAYOUT_SETTLED' },
    { from: 'SUBMITTED', to: 'RETURNED', event: 'PAYOUT_RETURNED' },
    { from: 'SETTLED', to: 'RETURNED', event: 'PAYOUT_RETURNED' },
  ],
  stateOf: (p) => p.status,
  columnsFor: (to) => ({ status: to }),
});
