import type { Selectable } from 'kysely';
import type { PayoutsTable } from '../../infra/db/schema.ts';
import { defineStateMachine } from '../../infra/events/state-machine.ts';

/**
 * Payout states (docs/state-machines.md, docs/rails.md): created `PENDING` (no event; it may wait
 * for treasury funds) → `SUBMITTED` in a payment file → `SETTLED` on the bank's confirmation;
 * `RETURNED` by the bank, before or after settlement. A returned payout is retried as a new
 * payout (the next attempt), never moved back.
 */
export type PayoutStatus = Selectable<PayoutsTable>['status'];

export const PAYOUT_MACHINE = defineStateMachine<'payouts', PayoutStatus>({
  name: 'payout',
  table: 'payouts',
  moves: [
    { from: 'PENDING', to: 'SUBMITTED', event: 'PAYOUT_SUBMITTED' },
    { from: 'SUBMITTED', to: 'SETTLED', event: 'PAYOUT_SETTLED' },
    { from: 'SUBMITTED', to: 'RETURNED', event: 'PAYOUT_RETURNED' },
    { from: 'SETTLED', to: 'RETURNED', event: 'PAYOUT_RETURNED' },
  ],
  stateOf: (p) => p.status,
  columnsFor: (to) => ({ status: to }),
});
