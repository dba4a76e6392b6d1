import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideAdvance, heldGroupReachesMinimum, DEPOSIT_MACHINE, type AdvanceFacts } from '../src/domain/deposits/state-machine.ts';
import { TRADE_MACHINE } from '../src/domain/trades/state-machine.ts';
import { PAYOUT_MACHINE } from '../src/domain/payouts/state-machine.ts';
import { FLOW_MACHINE } from '../src/domain/flows/state-machine.ts';
import { AppError } from '../src/infra/lib/errors.ts';

/** The pure half of deposits.advance, and the move tables every transition() is checked against. */
const facts = (over: Partial<Omit<AdvanceFacts, 'deposit'>> & { deposit?: Partial<AdvanceFacts['deposit']> } = {}): AdvanceFacts => ({
  finalNumber: 100n,
  flow: { id: 'flw_1', status: 'ENABLED', deletedAt: null },
  customerStatus: 'CONFIRMED',
  minimum: 10_000_000n,
  ...over,
  deposit: { status: 'RECEIVED', blockNumber: 90n, amount: 50_000_000n, currency: 'USDT', network: 'TRX', ...over.deposit },
});

describe('decideAdvance: what happens to a deposit when its block may be final', () => {
  it('waits while the block is above the final block, and ignores deposits already decided', () => {
    assert.deepEqual(decideAdvance(facts({ deposit: { blockNumber: 101n } })), { kind: 'none' });
    assert.equal(decideAdvance(facts({ deposit: { blockNumber: 100n } })).kind, 'confirm', 'the final block itself is final');
    for (const status of ['CONFIRMED', 'ACTION_REQUIRED', 'REJECTED'] as const)
      assert.deepEqual(decideAdvance(facts({ deposit: { status } })), { kind: 'none' }, status);
  });

  it('confirms a routed deposit and says whether it is below the token minimum', () => {
    assert.deepEqual(decideAdvance(facts()), { kind: 'confirm', flowId: 'flw_1', belowMinimum: false });
    assert.deepEqual(decideAdvance(facts({ deposit: { amount: 9_999_999n } })), { kind: 'confirm', flowId: 'flw_1', belowMinimum: true });
    assert.deepEqual(decideAdvance(facts({ deposit: { amount: 10_000_000n } })), { kind: 'confirm', flowId: 'flw_1', belowMinimum: false });
    assert.deepEqual(decideAdvance(facts({ deposit: { amount: 1n }, minimum: null })), {
      kind: 'confirm',
      flowId: 'flw_1',
      belowMinimum: false,
    });
  });

  it('holds a final deposit that cannot be traded, with the first reason that applies', () => {
    const held = (f: AdvanceFacts) => {
      const d = decideAdvance(f);
      assert.equal(d.kind, 'action-required');
      return d.kind === 'action-required' ? d : assert.fail();
    };
    assert.deepEqual(held(facts({ flow: null })), {
      kind: 'action-required',
      reason: 'NO_FLOW: no offramp flow for USDT on TRX; refund or open a flow',
      flowId: null,
    });
    const deleted = held(facts({ flow: { id: 'flw_2', status: 'DISABLED', deletedAt: new Date(0) }, customerStatus: 'REJECTED' }));
    assert.equal(deleted.reason, 'FLOW_DELETED: flow flw_2 was deleted');
    assert.equal(deleted.flowId, 'flw_2');
    assert.equal(
      held(facts({ flow: { id: 'flw_3', status: 'DISABLED', deletedAt: null } })).reason,
      'FLOW_DISABLED: flow flw_3 is disabled',
    );
    assert.equal(held(facts({ customerStatus: 'DELETED' })).reason, 'CUSTOMER_NOT_CONFIRMED: customer is DELETED');
  });

  it('groups held deposits once together they reach the minimum', () => {
    assert.equal(heldGroupReachesMinimum([4n, 5n], 10n), false);
    assert.equal(heldGroupReachesMinimum([4n, 5n, 1n], 10n), true);
    assert.equal(heldGroupReachesMinimum([100n], null), false, 'no minimum: nothing is ever held');
  });
});

describe('state machines: only the listed moves are allowed', () => {
  const refused = (fn: () => unknown) =>
    assert.throws(fn, (e: unknown) => e instanceof AppError && e.code === 'INVARIANT_BROKEN' && !e.retryable);

  it('deposits', () => {
    assert.equal(DEPOSIT_MACHINE.assertMove('RECEIVED', 'CONFIRMED').event, 'DEPOSIT_APPROVED');
    assert.equal(DEPOSIT_MACHINE.assertMove('RECEIVED', 'ACTION_REQUIRED').event, 'DEPOSIT_ACTION_REQUIRED');
    assert.equal(DEPOSIT_MACHINE.assertMove('REJECTED', 'RECEIVED').event, 'DEPOSIT_RECEIVED');
    assert.equal(DEPOSIT_MACHINE.assertMove('ACTION_REQUIRED', 'REJECTED').event, 'DEPOSIT_REJECTED');
    refused(() => DEPOSIT_MACHINE.assertMove('CONFIRMED', 'REJECTED'));
    refused(() => DEPOSIT_MACHINE.assertMove('CONFIRMED', 'RECEIVED'));
    refused(() => DEPOSIT_MACHINE.assertMove('ACTION_REQUIRED', 'CONFIRMED'));
  });

  it('trades', () => {
    assert.equal(TRADE_MACHINE.assertMove('CREATED', 'SETTLED').event, 'TRADE_SETTLED');
    refused(() => TRADE_MACHINE.assertMove('CANCELED', 'SETTLED'));
    refused(() => TRADE_MACHINE.assertMove('SETTLED', 'CREATED'));
  });

  it('payouts', () => {
    assert.equal(PAYOUT_MACHINE.assertMove('PENDING', 'SUBMITTED').event, 'PAYOUT_SUBMITTED');
    assert.equal(PAYOUT_MACHINE.assertMove('SUBMITTED', 'SETTLED').event, 'PAYOUT_SETTLED');
    assert.equal(PAYOUT_MACHINE.assertMove('SETTLED', 'RETURNED').event, 'PAYOUT_RETURNED');
    refused(() => PAYOUT_MACHINE.assertMove('PENDING', 'SETTLED'));
    refused(() => PAYOUT_MACHINE.assertMove('RETURNED', 'PENDING'));
  });

  it('flows (deleted is a state of its own)', () => {
    assert.equal(FLOW_MACHINE.canMove('ENABLED', 'DISABLED'), true);
    assert.equal(FLOW_MACHINE.canMove('DISABLED', 'DELETED'), true);
    refused(() => FLOW_MACHINE.assertMove('DELETED', 'ENABLED'));
    assert.deepEqual(FLOW_MACHINE.spec.columnsFor('DELETED', new Date(5)), { status: 'DISABLED', deleted_at: new Date(5) });
  });
});
