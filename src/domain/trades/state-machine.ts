import type { Selectable } from 'kysely';
import type { TradesTable } from '../../infra/db/schema.ts';
import { defineStateMachine } from '../../infra/events/state-machine.ts';

/**
 * Trade states (docs/state-machines.md): created `CREATED` (announced TRADE_CREATED) → `SETTLED`
 * once booked. A trade that could not lawfully proceed is created `CANCELED` (also announced
 * TRADE_CREATED, with its reason) and never moves.
 */
export type TradeStatus = Selectable<TradesTable>['status'];

export const TRADE_MACHINE = defineStateMachine<'trades', TradeStatus>({
  name: 'trade',
  table: 'trades',
  moves: [{ from: 'CREATED', to: 'SETTLED', event: 'TRADE_SETTLED' }],
  stateOf: (t) => t.status,
  columnsFor: (to) => ({ status: to }),
});
