// SQLite side of the outbox port (mirrors adapters/postgres/outbox.ts): the statement files of outbox/
// handed out inside one relay transaction; the policy that strings them together is the relay's.
import { MmError } from '../../../core/errors.ts';
import type { ClaimScope, OutboxRelay, OutboxWriter, RelayStatements } from '../../../ports/outbox.ts';
import type { SqliteConnection } from '../driver/connection.ts';
import type { SqliteDriver } from '../driver/driver.ts';
import { translateSqliteError } from '../driver/errors.ts';
import { createSqliteFences } from './leases.ts';
import { claimBatch, isAnythingDue } from './outbox/claim-batch.ts';
import { readDeadRow, releaseDeadRow } from './outbox/dead-rows.ts';
import { insertEvents } from './outbox/insert-events.ts';
import { readBacklog } from './outbox/read-backlog.ts';
import { reinstateRows } from './outbox/reinstate-rows.ts';
import { watchInserts } from './outbox/watch-inserts.ts';
import { createTxScope, type TxScope } from './scope.ts';

export const createSqliteOutboxWriter = (scope: TxScope): OutboxWriter => ({
  insert: async (events) => {
    if (events.length === 0) return;
    await scope.run((db) => insertEvents(db, events));
    scope.touch('outbox');
  },
});

/** Statements of a relay transaction that found nothing due in its scope: no write lock taken. */
const idle: RelayStatements = {
  joinRelays: async () => true,
  claimBatch: async () => [],
  reinstate: async () => {
    throw new MmError('INTERNAL', 'nothing was claimed in this relay transaction');
  },
};

/**
 * Inside the file's write transaction, which SQLite serialises: no take of the scope's leases (a write)
 * can slip in before the commit, and no partition switch (withRelaysPaused) runs meanwhile.
 */
const writing = (db: SqliteDriver, scope: ClaimScope | undefined): RelayStatements => {
  let joined: Promise<boolean> | undefined;
  return {
    joinRelays: () => {
      joined ??= scope
        ? createSqliteFences(
            createTxScope(
              db,
              () => true,
              () => {},
            ),
          )
            .assertHeld(scope.fences)
            .then(() => true)
        : Promise.resolve(true);
      return joined;
    },
    claimBatch: ({ limit }) => claimBatch(db, limit, scope),
    reinstate: async (rows) => {
      try {
        reinstateRows(db, rows);
      } catch (error) {
        throw translateSqliteError(error, 'database');
      }
    },
  };
};

export const createSqliteOutboxRelay = (
  connection: SqliteConnection,
  watchers: Set<() => void>,
): OutboxRelay => ({
  // The file's write lock waits its turn and blocks every other writer of the file, so it is taken
  // only when something of the scope is due (an idle relay polls often). Relays on one file take
  // turns: each drain holds the write lock from its first claim to its commit.
  withRelayTransaction: async (work, scope) => {
    if (scope?.partitions.length === 0) return work(idle);
    if (!(await connection.read((db) => isAnythingDue(db, scope), 'database'))) return work(idle);
    return connection.transaction((db) => work(writing(db, scope)), 'database');
  },

  // The bus of local mode shares this connection, so what `work` reads and writes of the streams
  // joins the write transaction that keeps every drain out.
  withRelaysPaused: async (work) => ({
    value: await connection.transaction(() => work(), 'database'),
  }),

  backlog: (options = {}) => connection.read((db) => readBacklog(db, options.topic), 'database'),

  deadRow: (ref) => connection.read((db) => readDeadRow(db, ref), 'database'),

  releaseDeadRow: (ref) => connection.write((db) => releaseDeadRow(db, ref), 'database'),

  watch: (onInsert) => watchInserts(connection, watchers, onInsert),
});
