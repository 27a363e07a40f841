// SQLite relay lock (mirrors postgres/outbox/relay-lock.ts): like Postgres's transaction-scoped
// advisory lock, a small side file (`<file>-relay-lock`) whose write lock is tried without waiting.
// Releasing it ends that file's transaction, and so does the operating system when the holder dies,
// so a killed relay never leaves it stuck. It is taken before the store's own write transaction begins:
// that one waits its turn, and a relay must learn at once that another relay drains.
import { type OpenSqliteOptions, openSqlite, type SqliteDriver } from '../../driver/driver.ts';
import { sqliteErrorKind, translateSqliteError } from '../../driver/errors.ts';

export type RelayLock = {
  /** True when this caller now holds the lock; false at once when anyone else (here or elsewhere) does. */
  tryAcquire(): Promise<boolean>;
  release(): void;
  close(): void;
};

export const relayLockFile = (file: string): string => `${file}-relay-lock`;

export const createRelayLock = (
  file: string,
  options: Pick<OpenSqliteOptions, 'driver' | 'nativeBinding'> = {},
): RelayLock => {
  let held = false;
  let opening: Promise<SqliteDriver> | undefined;
  let db: SqliteDriver | undefined;
  const release = (): void => {
    if (!held) return;
    held = false;
    try {
      if (db?.inTransaction) db.exec('ROLLBACK');
    } catch {
      // the lock goes with the connection in any case
    }
  };
  return {
    tryAcquire: async () => {
      if (held) return false;
      held = true; // taken before any await, so a concurrent drain in this process stands by
      if (file === ':memory:') return true;
      try {
        opening ??= openSqlite({
          ...options,
          file: relayLockFile(file),
          busyTimeoutMs: 0,
          journalMode: 'delete',
        });
        db = await opening;
        db.exec('BEGIN IMMEDIATE');
        return true;
      } catch (error) {
        held = false;
        if (sqliteErrorKind(error) === 'busy') return false;
        throw translateSqliteError(error, 'database');
      }
    },
    release,
    close: () => {
      release();
      db = undefined;
      opening?.then(
        (opened) => opened.close(),
        () => {},
      );
    },
  };
};
