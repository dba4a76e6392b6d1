import type { EventType } from '../../src/infra/events/outbox.ts';
import type { TestContext } from './harness.ts';

/**
 * Appends outbox events the way the services do (inside a transaction), for tests that need
 * many events or types the services cannot produce yet (trades). Returns the event ids in order.
 */
export async function appendEvents(
  ctx: Pick<TestContext, 'openramp'>,
  partnerId: string,
  n: number,
  opts: { type?: EventType; payload?: (i: number) => Record<string, unknown> } = {},
): Promise<string[]> {
  const { db, outbox } = ctx.openramp.services;
  const type = opts.type ?? 'CUSTOMER_APPROVED';
  const objectType = type.startsWith('TRADE_')
    ? 'trade'
    : type.startsWith('DEPOSIT_ADDRESS')
      ? 'deposit_address'
      : type.startsWith('DEPOSIT_')
        ? 'deposit'
        : type.startsWith('BANK_')
          ? 'bank_account'
          : type.startsWith('PAYOUT_')
            ? 'payout'
            : 'customer';
  const ids: string[] = [];
  await db.transaction().execute(async (tx) => {
    for (let i = 0; i < n; i++) {
      const payload = opts.payload?.(i) ?? { id: `obj_${partnerId.slice(-6)}_${i}`, status: 'CONFIRMED', n: i };
      ids.push(await outbox.append(tx, { partnerId, type, objectType, objectId: String(payload.id), objectVersion: 1, payload }));
    }
  });
  return ids;
}
