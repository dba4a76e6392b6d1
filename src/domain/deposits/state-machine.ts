import type { Selectable } from 'kysely';
import type { DepositsTable } from '../../infra/db/schema.ts';
import { defineStateMachine } from '../../infra/events/state-machine.ts';
import { AMOUNT_MAX, amountRefusal, formatAmount, isCryptoAsset, minor } from '../../infra/lib/money.ts';

/**
 * Deposit states (docs/state-machines.md): `RECEIVED` (seen, confirmations n/N) → `CONFIRMED`
 * (final, credited) | `ACTION_REQUIRED` (final but held, with a reason) | `REJECTED` (orphaned by
 * a reorg, or refunded). A transfer re-mined after a reorg returns to RECEIVED.
 */
export type DepositStatus = Selectable<DepositsTable>['status'];

export const DEPOSIT_MACHINE = defineStateMachine<'deposits', DepositStatus>({
  name: 'deposit',
  table: 'deposits',
  moves: [
    { from: 'RECEIVED', to: 'CONFIRMED', event: 'DEPOSIT_APPROVED' },
    { from: 'RECEIVED', to: 'ACTION_REQUIRED', event: 'DEPOSIT_ACTION_REQUIRED' },
    { from: 'RECEIVED', to: 'REJECTED', event: 'DEPOSIT_REJECTED' }, // CHAIN_REORG
    { from: 'REJECTED', to: 'RECEIVED', event: 'DEPOSIT_RECEIVED' }, // re-mined in the new branch
    { from: 'ACTION_REQUIRED', to: 'REJECTED', event: 'DEPOSIT_REJECTED' }, // REFUNDED
  ],
  stateOf: (d) => d.status,
  columnsFor: (to) => ({ status: to }),
});

/** The facts `advance` decides a deposit's fate from; all read before deciding. */
export interface AdvanceFacts {
  deposit: { status: DepositStatus; blockNumber: bigint; amount: bigint; currency: string; network: string };
  /** Highest final block of the deposit's network (the chain's finality rule, applied by the scanner). */
  finalNumber: bigint;
  /** The flow the deposit routes to now, if any. */
  flow: { id: string; status: 'ENABLED' | 'DISABLED'; deletedAt: Date | null } | null;
  customerStatus: string;
  /** The token's minimum deposit; null when the token has none configured. */
  minimum: bigint | null;
}

export type AdvanceDecision =
  /** Nothing to do: already decided, or not final yet. */
  | { kind: 'none' }
  /** Final but cannot be traded: held for the partner, with the reason. */
  | { kind: 'action-required'; reason: string; flowId: string | null }
  /** Final and routed: credited; traded alone, or held below the token's minimum until a group reaches it. */
  | { kind: 'confirm'; flowId: string; belowMinimum: boolean };

/** What `advance` does with one deposit. Pure: the caller performs the writes it implies. */
export function decideAdvance(f: AdvanceFacts): AdvanceDecision {
  const d = f.deposit;
  if (d.status !== 'RECEIVED' || d.blockNumber > f.finalNumber) return { kind: 'none' };
  const flow = f.flow;
  let reason: string | null = null;
  if (!flow) reason = `NO_FLOW: no offramp flow for ${d.currency} on ${d.network}; refund or open a flow`;
  else if (flow.deletedAt) reason = `FLOW_DELETED: flow ${flow.id} was deleted`;
  else if (flow.status !== 'ENABLED') reason = `FLOW_DISABLED: flow ${flow.id} is disabled`;
  else if (f.customerStatus !== 'CONFIRMED') reason = `CUSTOMER_NOT_CONFIRMED: customer is ${f.customerStatus}`;
  else if (isCryptoAsset(d.currency) && amountRefusal(d.currency, d.amount) !== null)
    // Beyond what one payout may carry: traded, it could not be paid out in one payment.
    reason = `LIMIT_EXCEEDED: ${formatAmount(d.currency, minor(d.currency, d.amount))} ${d.currency} is above the ${formatAmount(d.currency, minor(d.currency, AMOUNT_MAX[d.currency]))} one deposit may carry; refund it or contact support`;
  if (reason !== null) return { kind: 'action-required', reason, flowId: flow?.id ?? null };
  return { kind: 'confirm', flowId: flow!.id, belowMinimum: f.minimum !== null && d.amount < f.minimum };
}

/** Held small deposits of one flow become one trade once together they reach the minimum. */
export function heldGroupReachesMinimum(heldAmounts: readonly bigint[], minimum: bigint | null): boolean {
  if (minimum === null) return false;
  return heldAmounts.reduce((s, a) => s + a, 0n) >= minimum;
}
