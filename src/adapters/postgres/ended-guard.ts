// A transaction's statements after it ended: postgres.js would still send them on the connection it
// held, which is back in the pool by then, so they would run outside any transaction (or inside the
// next one to take that connection) and commit. The guard refuses them, as the SQLite store does.
import type postgres from 'postgres';
import { transactionEnded } from '../../core/errors.ts';

export type GuardedTransaction = {
  readonly sql: postgres.TransactionSql;
  /** From now on every statement through `sql` is refused. */
  end(): void;
};

export const guardTransaction = (tx: postgres.TransactionSql): GuardedTransaction => {
  let open = true;
  const check = (): void => {
    if (!open) throw transactionEnded();
  };
  const sql = new Proxy(tx, {
    // sql`…` (a statement, or a fragment of one built while it is open)
    apply: (target, thisArg, args) => {
      check();
      return Reflect.apply(target, thisArg, args);
    },
    get: (target, property, receiver) => {
      const value = Reflect.get(target, property, receiver);
      if (property !== 'unsafe' && property !== 'savepoint') return value;
      return (...args: unknown[]) => {
        check();
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    sql,
    end: () => {
      open = false;
    },
  };
};
