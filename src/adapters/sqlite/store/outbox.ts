// SQLite side of the outbox port (mirrors adapters/postgres/outbox.ts): the statement files of outbox/
// handed out inside one relay transaction; the policy that strings them together is the relay's.
import { MmError } from '../../../core/errors.ts';
import type { OutboxRelay, OutboxWriter, RelayStatements } from '../../../ports/outbox.ts';
import type { SqliteConnection } from '../driver/connection.ts';
import type { SqliteDriver } from '../driver/driver.ts';
import { translateSqliteError } from '../driver/errors.ts';
import { claimBatch, isAnythingDue } from './outbox/claim-batch.ts';
import { readDeadRow, releaseDeadRow } from './outbox/dead-rows.ts';
import { insertEvents } from './outbox/insert-events.ts';
import { readBacklog } from './outbox/read-backlog.ts';
import { reinstateRows } from './outbox/reinstate-rows.ts';
import type { RelayLock } from './outbox/relay-lock.ts';
import { watchInserts } from './outbox/watch-inserts.ts';
import type { TxScope } from './scope.ts';

export const createSqliteOutboxWriter = (scope: TxScope): OutboxWriter => ({
  insert: async (events) => {
    if (events.length === 0) return;
    await scope.run((db) => insertEvents(db, events));
    scope.touch('outbox');
  },
});

/** Statements of a relay transaction that holds the relay lock but found nothing due: no write lock taken. */
const idle: RelayStatements = {
  takeRelayLock: async () => true,
  claimBatch: async () => [],
  reinstate: async () => {
    throw new MmError('INTERNAL', 'nothing was claimed in this relay transaction');
  },
};

/** Statements of a relay transaction that did not get the relay lock. */
const standby: RelayStatements = {
  takeRelayLock: async () => false,
  claimBatch: async () => {
    throw new MmError('INTERNAL', 'a claim needs the relay lock');
  },
  reinstate: async () => {
    throw new MmError('INTERNAL', 'a claim needs the relay lock');
  },
};

const writing = (db: SqliteDriver): RelayStatements => ({
  takeRelayLock: async () => true,
  claimBatch: ({ limit }) => claimBatch(db, limit),
  reinstate: async (rows) => {
    try {
      reinstateRows(db, rows);
    } catch (error) {
      throw translateSqliteError(error, 'database');
    }
  },
});

export const createSqliteOutboxRelay = (
  connection: SqliteConnection,
  lock: RelayLock,
  watchers: Set<() => void>,
): OutboxRelay => ({
  // The file's write lock waits its turn and blocks every other writer of the file, so it is taken
  // last: after the relay lock (which answers at once) and only when something is due (an idle relay
  // polls often). The relay lock is released after the commit, so the next relay sees the outcome.
  withRelayTransaction: async (work) => {
    if (!(await lock.tryAcquire())) return work(standby);
    try {
      if (!(await connection.read(isAnythingDue, 'database'))) return await work(idle);
      return await connection.transaction((db) => work(writing(db)), 'database');
    } finally {
      lock.release();
    }
  },

  backlog: (options = {}) => connection.read((db) => readBacklog(db, options.topic), 'database'),

  deadRow: (ref) => connection.read((db) => readDeadRow(db, ref), 'database'),

  releaseDeadRow: (ref) => connection.write((db) => releaseDeadRow(db, ref), 'database'),

  watch: (onInsert) => watchInserts(connection, watchers, onInsert),
});
