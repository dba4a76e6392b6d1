import type { Kysely, Selectable, Transaction, Updateable } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Clock } from '../lib/clock.ts';
import { AppError, invariantBroken } from '../lib/errors.ts';
import type { EventType, NewEvent, Outbox } from './outbox.ts';

/**
 * The one way a stateful object changes state (docs/state-machines.md). Each machine is a table
 * of allowed moves, each naming the event it announces; `transition()` refuses a move the table
 * lacks (INVARIANT_BROKEN: the caller's own checks should have stopped it), writes the new
 * state with `version + 1` only if the row is still at the version and status it was read at
 * (CONCURRENT_UPDATE otherwise, which a retry resolves), and appends the event to the outbox in
 * the same transaction, so an event exists if and only if its state change commits.
 */
export type MachineTable = 'deposits' | 'trades' | 'payouts' | 'flows';

export interface Move<S extends string> {
  from: S;
  to: S;
  /** The event the move announces; null when the object has no events (flows). */
  event: EventType | null;
}

export interface MachineSpec<T extends MachineTable, S extends string> {
  /** The object's name in messages ("deposit"). */
  name: string;
  table: T;
  moves: readonly Move<S>[];
  /** The state a row is in: its status, or derived from more columns (a deleted flow). */
  stateOf(row: Selectable<DB[T]>): S;
  /** The columns that put a row into `to`. */
  columnsFor(to: S, now: Date): Updateable<DB[T]>;
}

type Row<T extends MachineTable> = Selectable<DB[T]> & { id: string; status: string; version: number; partner_id: string };

export interface StateMachine<T extends MachineTable, S extends string> {
  readonly spec: MachineSpec<T, S>;
  /** The allowed move from → to, or INVARIANT_BROKEN. */
  assertMove(from: S, to: S): Move<S>;
  canMove(from: S, to: S): boolean;
}

export function defineStateMachine<T extends MachineTable, S extends string>(spec: MachineSpec<T, S>): StateMachine<T, S> {
  const byKey = new Map(spec.moves.map((m) => [`${m.from}→${m.to}`, m]));
  return {
    spec,
    canMove: (from, to) => byKey.has(`${from}→${to}`),
    assertMove(from, to) {
      const move = byKey.get(`${from}→${to}`);
      if (!move) throw invariantBroken(`${spec.name}: no move from ${from} to ${to}`);
      return move;
    },
  };
}

export interface TransitionDeps<T extends MachineTable> {
  clock: Clock;
  /** How the object's events are written; null for objects without events (flows). */
  events: {
    outbox: Outbox;
    objectType: NewEvent['objectType'];
    /** The event payload: the object's detail at its new version, read inside the transaction. */
    payload(tx: Kysely<DB>, row: Row<T>): Promise<Record<string, unknown>> | Record<string, unknown>;
  } | null;
}

export type Transition<T extends MachineTable, S extends string> = (
  tx: Transaction<DB> | Kysely<DB>,
  row: Row<T>,
  to: S,
  /** Other columns the move sets (reasons, timestamps); never status or version. */
  set?: Omit<Updateable<DB[T]>, 'status' | 'version'>,
) => Promise<Row<T>>;

export function createTransition<T extends MachineTable, S extends string>(
  machine: StateMachine<T, S>,
  deps: TransitionDeps<T>,
): { transition: Transition<T, S>; announce(tx: Kysely<DB>, row: Row<T>, event: EventType): Promise<void> } {
  const { spec } = machine;

  async function announce(tx: Kysely<DB>, row: Row<T>, event: EventType) {
    const ev = deps.events;
    if (!ev) throw invariantBroken(`${spec.name}: has no events (asked to announce ${event})`);
    await ev.outbox.append(tx, {
      partnerId: row.partner_id,
      type: event,
      objectType: ev.objectType,
      objectId: row.id,
      objectVersion: row.version,
      payload: await ev.payload(tx, row),
    });
  }

  async function transition(tx: Kysely<DB>, row: Row<T>, to: S, set?: Omit<Updateable<DB[T]>, 'status' | 'version'>) {
    const move = machine.assertMove(spec.stateOf(row), to);
    const now = deps.clock.now();
    // The four tables share id/status/version/updated_at; Kysely cannot type an update over a
    // union of tables, so the query is built on one of them and the result is the row's own type.
    const q = tx as unknown as Kysely<Pick<DB, 'flows'>>;
    const updated = (await q
      .updateTable(spec.table as 'flows')
      .set({ updated_at: now, ...(set as object), ...(spec.columnsFor(to, now) as object), version: row.version + 1 })
      .where('id', '=', row.id)
      .where('version', '=', row.version)
      .where('status', '=', row.status as 'ENABLED')
      .returningAll()
      .executeTakeFirst()) as unknown as Row<T> | undefined;
    if (!updated)
      throw new AppError(
        'CONCURRENT_UPDATE',
        `${spec.name} ${row.id} changed while being moved from ${move.from} to ${move.to} (expected version ${row.version}); read it again`,
      );
    if (move.event) await announce(tx, updated, move.event);
    return updated;
  }

  return { transition: transition as Transition<T, S>, announce };
}
