import type { Kysely } from 'kysely';

/** A builder whose execute() Kysely's callers await (the transaction builder and what setIsolationLevel returns). */
type TransactionBuilderLike = { execute(cb: (tx: unknown) => Promise<unknown>): Promise<unknown> };

/**
 * Wraps `db.transaction()` so `afterCommit(tx)` runs once each transaction has committed, with
 * the transaction object the callback saw. Whatever it throws reaches the caller as if the
 * process had died right after the commit: the crash tests use it to lose everything a caller
 * would do next. Returns the undo.
 */
export function onEachCommit(db: Kysely<any>, afterCommit: (tx: unknown) => void): { restore(): void } {
  const transaction = db.transaction;
  const wrap = <B extends object>(builder: B): B =>
    new Proxy(builder, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        if (prop === 'execute')
          return async (cb: (tx: unknown) => Promise<unknown>) => {
            let seen: unknown;
            const out = await (target as unknown as TransactionBuilderLike).execute((tx) => {
              seen = tx;
              return cb(tx);
            });
            afterCommit(seen);
            return out;
          };
        // setIsolationLevel() and friends return a new builder: keep wrapping it.
        return (...args: unknown[]) => {
          const r = value.apply(target, args);
          return r && typeof r === 'object' && typeof r.execute === 'function' ? wrap(r) : r;
        };
      },
    });
  db.transaction = () => wrap(transaction.call(db));
  return {
    restore() {
      db.transaction = transaction;
    },
  };
}
