// SQLite side of the outbox port (mirrors adapters/postgres/outbox.ts): the statement files of outbox/
// handed out inside one relay transaction, which takes the file's write lock only at the first claim
// (after the relay lock and a look); the policy that strings them together is the relay's.
import type { OutboxRelay, OutboxWriter } from '../../../ports/outbox.ts';
import type { SqliteConnection } from '../driver/connection.ts';
import { translateSqliteError } from '../driver/errors.ts';
import { claimBatch } from './outbox/claim-batch.ts';
import { insertEvents } from './outbox/insert-events.ts';
import { readBacklog } from './outbox/read-backlog.ts';
import { reinstateRows } from './outbox/reinstate-rows.ts';
import { type RelayLock, transactionRelayLock } from './outbox/relay-lock.ts';
import { watchInserts } from './outbox/watch-inserts.ts';
import type { TxScope } from './scope.ts';

export const createSqliteOutboxWriter = (scope: TxScope): OutboxWriter => ({
  insert: async (events) => {
    if (events.length === 0) return;
    await scope.run((db) => insertEvents(db, events));
    scope.touch('outbox');
  },
});

export const createSqliteOutboxRelay = (
  connection: SqliteConnection,
  lock: RelayLock,
  watchers: Set<() => void>,
): OutboxRelay => ({
  withRelayTransaction: async (work) => {
    const relayLock = transactionRelayLock(lock);
    try {
      return await connection.lazyTransaction(
        (tx) =>
          work({
            takeRelayLock: relayLock.take,
            claimBatch: ({ limit }) => claimBatch(connection, tx, limit),
            reinstate: async (rows) => {
              const db = await tx.begin();
              try {
                reinstateRows(db, rows);
              } catch (error) {
                throw translateSqliteError(error, 'database');
              }
            },
          }),
        'database',
      );
    } finally {
      // After the commit: another relay claims only once this transaction's outcome is in the file.
      await relayLock.end();
    }
  },

  backlog: () => connection.read(readBacklog, 'database'),

  watch: (onInsert) => watchInserts(connection, watchers, onInsert),
});
