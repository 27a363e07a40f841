// The SQLite Store: one write transaction at a time per file and process (BEGIN IMMEDIATE, so several
// processes share the file without lock-upgrade deadlocks), translated errors, the same behaviour as
// the Postgres store.
import { MmError, TransientError } from '../../../core/errors.ts';
import type { Store, Tx } from '../../../ports/store.ts';
import { readMigrations } from '../../migration-files.ts';
import { type AcquireOptions, acquireConnection, type SqliteConnection } from '../driver/connection.ts';
import type { SqliteDriver } from '../driver/driver.ts';
import { translateSqliteError } from '../driver/errors.ts';
import { migrateSqlite } from '../driver/migrate.ts';
import { numberedValues } from '../driver/sql-values.ts';
import { createSqliteFences, createSqliteLeases } from './leases.ts';
import { createSqliteLedgerReader, createSqliteLedgerWriter } from './ledger.ts';
import { createSqliteLintProfiles } from './lint-profiles.ts';
import { createSqliteOutboxRelay, createSqliteOutboxWriter } from './outbox.ts';
import { connectionRunner, createSqliteParking, scopeRunner } from './parking.ts';
import { createTxScope, type TxScope } from './scope.ts';
import { createSqliteUsers } from './users.ts';

const savepoint = async <T>(
  db: SqliteDriver,
  name: string,
  scope: TxScope,
  work: () => Promise<T>,
): Promise<T> => {
  await scope.run(() => db.exec(`SAVEPOINT ${name}`));
  try {
    const result = await work();
    db.exec(`RELEASE ${name}`);
    return result;
  } catch (error) {
    if (db.inTransaction) {
      db.exec(`ROLLBACK TO ${name}`);
      db.exec(`RELEASE ${name}`);
    }
    throw translateSqliteError(error, 'database');
  }
};

const createTx = (connection: SqliteConnection, db: SqliteDriver, isOpen: () => boolean): Tx => {
  const scope = createTxScope(db, isOpen, (topic) => connection.touch(topic));
  const tx: Tx = {
    outbox: createSqliteOutboxWriter(scope),
    users: createSqliteUsers(scope),
    ledger: createSqliteLedgerWriter(scope),
    lintProfiles: createSqliteLintProfiles(scope),
    fences: createSqliteFences(scope),
    parking: createSqliteParking(scopeRunner(scope)),
    query: <Row>(sql: string, params: readonly unknown[] = []) =>
      scope.run((inner) => inner.prepare(sql).rows<Row>(numberedValues(params))),
    savepoint: (callback) => savepoint(db, connection.nextSavepoint(), scope, () => callback(tx)),
  };
  return tx;
};

/** Creates the store over an acquired connection, which it releases on close. */
export const createSqliteStore = (connection: SqliteConnection): Store => {
  const watchers = new Set<() => void>();
  let closed = false;
  return {
    kind: 'sqlite',
    withTransaction: (callback) =>
      connection.transaction(async (db) => {
        let open = true;
        try {
          return await callback(createTx(connection, db, () => open));
        } finally {
          open = false;
        }
      }, 'database'),
    outbox: createSqliteOutboxRelay(connection, watchers),
    ledger: createSqliteLedgerReader(connection),
    leases: createSqliteLeases(connection),
    parking: createSqliteParking(connectionRunner(connection)),
    migrate: () => migrateSqlite(connection, readMigrations('sqlite')),
    // The file stays open while another store or the shim of this process holds it; a closed store
    // must still say it cannot answer, as a closed Postgres client does.
    ping: () =>
      closed
        ? Promise.reject(
            new TransientError('database unavailable: the store is closed', { dependency: 'database' }),
          )
        : connection.read((db) => void db.prepare('SELECT 1').get(), 'database'),
    close: async () => {
      if (closed) return;
      closed = true;
      for (const stop of [...watchers]) stop();
      await connection.release();
    },
  };
};

export type SqliteStoreOptions = AcquireOptions & {
  /** Apply migrations/sqlite on open (default true), so every binary works on a fresh file. */
  readonly migrate?: boolean;
};

/** Opens `file` (shared with any other store or shim of this process on it) and migrates it. */
export const openSqliteStore = async (options: SqliteStoreOptions): Promise<Store> => {
  const connection = await acquireConnection(options);
  const store = createSqliteStore(connection);
  if (options.migrate !== false) {
    try {
      await store.migrate();
    } catch (error) {
      await store.close();
      throw error instanceof MmError ? error : translateSqliteError(error);
    }
  }
  return store;
};
