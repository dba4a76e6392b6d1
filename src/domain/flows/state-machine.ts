import type { Selectable } from 'kysely';
import type { FlowsTable } from '../../infra/db/schema.ts';
import { defineStateMachine } from '../../infra/events/state-machine.ts';

/**
 * Flow states: `ENABLED` ⇄ `DISABLED`, and either → `DELETED` (kept as `DISABLED` with
 * `deleted_at`, so the row still explains the deposits it routed). Flows announce no events.
 */
export type FlowState = Selectable<FlowsTable>['status'] | 'DELETED';

export const FLOW_MACHINE = defineStateMachine<'flows', FlowState>({
  name: 'flow',
  table: 'flows',
  moves: [
    { from: 'ENABLED', to: 'DISABLED', event: null },
    { from: 'DISABLED', to: 'ENABLED', event: null },
    { from: 'ENABLED', to: 'DELETED', event: null },
    { from: 'DISABLED', to: 'DELETED', event: null },
  ],
  stateOf: (f) => (f.deleted_at ? 'DELETED' : f.status),
  columnsFor: (to, now) => (to === 'DELETED' ? { status: 'DISABLED', deleted_at: now } : { status: to }),
});
