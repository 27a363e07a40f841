// One writer and one snapshot reader per SQLite file per process, shared by the store and the stream
// shim. Writes queue behind each other: a connection holds one transaction at a time, and a second
// writer in this process would wait on the file lock *synchronously* (busy_timeout) while the first
// awaits, stalling both. A store or bus call made inside a transaction's callback joins it.
import { AsyncLocalStorage } from 'node:async_hooks';
import { resolve } from 'node:path';
import { MmError } from '../../../core/errors.ts';
import { type ChangeFeed, createChangeFeed, type Topic } from './change-feed.ts';
import { type OpenSqliteOptions, openSqlite, type SqliteDriver, withSavepoint } from './driver.ts';
import { type SqliteDependency, sqliteErrorKind, translateSqliteError } from './errors.ts';

export type SqliteConnection = {
  /** The file as opened (absolute), or `:memory:`. */
  readonly file: string;
  readonly writer: SqliteDriver;
  readonly feed: ChangeFeed;
  /** A write transaction (BEGIN IMMEDIATE) around an async callback; refused inside another one. */
  transaction<T>(work: (db: SqliteDriver) => Promise<T>, dependency: SqliteDependency): Promise<T>;
  /** Synchronous writes as one transaction, or as a savepoint of the caller's transaction. */
  write<T>(work: (db: SqliteDriver) => T, dependency: SqliteDependency): Promise<T>;
  /** Synchronous reads of one committed snapshot, or inside the caller's transaction (seeing its writes). */
  read<T>(work: (db: SqliteDriver) => T, dependency: SqliteDependency): Promise<T>;
  /** True inside the callback of a transaction on this connection. */
  inTransaction(): boolean;
  /** Announces a change to waiters once the surrounding transaction commits. */
  touch(topic: Topic): void;
  /** A savepoint name unique within the current transaction. */
  nextSavepoint(): string;
  /** Another handle on the same connection, released on its own. */
  retain(): SqliteConnection;
  /** Gives the connection back; the last holder closes it once queued writes are done. */
  release(): Promise<void>;
};

// `open` turns false when the transaction ends: work started inside it that runs later (a timer, a
// promise left behind) carries the context on, and must queue like anyone else instead of joining.
type TxContext = { readonly owner: object; readonly touched: Set<Topic>; savepoints: number; open: boolean };

const context = new AsyncLocalStorage<TxContext>();

const rollbackQuietly = (db: SqliteDriver): void => {
  try {
    if (db.inTransaction) db.exec('ROLLBACK');
  } catch {
    // the connection already dropped the transaction (I/O error); nothing left to undo
  }
};

/** Synchronous work as a promise, its failure translated. */
const attempt = <T>(work: () => T, dependency: SqliteDependency): Promise<T> => {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(translateSqliteError(error, dependency));
  }
};

/** One immediate retry (the holder is usually done within a millisecond), then 1, 1, 2, 2, 4 ... 8 ms. */
const lockRetryPause = (attempt: number): Promise<void> =>
  new Promise((resolve) => {
    if (attempt === 0) setImmediate(resolve);
    else setTimeout(resolve, Math.min(2 ** Math.floor((attempt - 1) / 2), 8));
  });

const createConnection = (
  file: string,
  writer: SqliteDriver,
  reader: SqliteDriver,
  busyTimeoutMs: number,
  close: () => void,
): SqliteConnection => {
  const owner = {};
  const feed = createChangeFeed(reader);
  let tail: Promise<unknown> = Promise.resolve();
  const enqueue = <T>(job: () => Promise<T>): Promise<T> => {
    const run = tail.then(job, job);
    tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  };
  const own = (): TxContext | undefined => {
    const current = context.getStore();
    return current?.owner === owner && current.open ? current : undefined;
  };

  // The writer's own busy_timeout is 0: SQLite's busy handler would sleep with the event loop blocked
  // (up to the whole timeout behind another process's long transaction: no HTTP, no health checks).
  // Waiting here keeps the process serving meanwhile.
  const begin = async (statement: string, dependency: SqliteDependency): Promise<void> => {
    const deadline = Date.now() + busyTimeoutMs;
    for (let retry = 0; ; retry += 1) {
      try {
        writer.exec(statement);
        return;
      } catch (error) {
        if (sqliteErrorKind(error) !== 'busy' || Date.now() >= deadline) {
          throw translateSqliteError(error, dependency);
        }
      }
      await lockRetryPause(retry);
    }
  };

  const runTransaction = async <T>(
    statement: string,
    work: (ctx: TxContext) => T | Promise<T>,
    dependency: SqliteDependency,
  ): Promise<T> => {
    const ctx: TxContext = { owner, touched: new Set(), savepoints: 0, open: true };
    await begin(statement, dependency);
    try {
      const result = await context.run(ctx, () => work(ctx));
      writer.exec('COMMIT');
      ctx.open = false;
      if (ctx.touched.size > 0) feed.announce(ctx.touched);
      return result;
    } catch (error) {
      ctx.open = false;
      rollbackQuietly(writer);
      throw translateSqliteError(error, dependency);
    }
  };

  return {
    file,
    writer,
    feed,
    transaction: (work, dependency) => {
      if (own()) {
        return Promise.reject(
          new MmError('INTERNAL', 'a transaction is already open on this SQLite file here; use tx.savepoint'),
        );
      }
      return enqueue(() => runTransaction('BEGIN IMMEDIATE', () => work(writer), dependency));
    },
    write: (work, dependency) => {
      const ctx = own();
      if (ctx) {
        ctx.savepoints += 1;
        const name = `mm_sp_${ctx.savepoints}`;
        return attempt(() => withSavepoint(writer, name, () => work(writer)), dependency);
      }
      return enqueue(() => runTransaction('BEGIN IMMEDIATE', () => work(writer), dependency));
    },
    read: (work, dependency) => {
      if (own()) return attempt(() => work(writer), dependency);
      // A private in-memory database has a single connection: its reads queue with the writes.
      if (reader === writer) return enqueue(() => runTransaction('BEGIN', () => work(writer), dependency));
      return attempt(() => {
        reader.exec('BEGIN');
        try {
          return work(reader);
        } finally {
          rollbackQuietly(reader);
        }
      }, dependency);
    },
    inTransaction: () => own() !== undefined,
    touch: (topic) => {
      const ctx = own();
      if (ctx) ctx.touched.add(topic);
      else feed.announce([topic]);
    },
    nextSavepoint: () => {
      const ctx = own();
      if (!ctx) throw new MmError('INTERNAL', 'a savepoint needs an open transaction');
      ctx.savepoints += 1;
      return `mm_sp_${ctx.savepoints}`;
    },
    retain: () => {
      throw new MmError('INTERNAL', 'retain a connection through acquireConnection');
    },
    release: async () => {
      await enqueue(async () => close());
    },
  };
};

export type AcquireOptions = Omit<OpenSqliteOptions, 'queryOnly'>;

const shared = new Map<string, Promise<Holder>>();

const defaultBusyTimeoutMs = 5_000;

const open = async (options: AcquireOptions, file: string): Promise<SqliteConnection> => {
  const busyTimeoutMs = options.busyTimeoutMs ?? defaultBusyTimeoutMs;
  const writer = await openSqlite({ ...options, file });
  if (file === ':memory:') return createConnection(file, writer, writer, busyTimeoutMs, () => writer.close());
  writer.exec('PRAGMA busy_timeout = 0');
  let reader: SqliteDriver;
  try {
    reader = await openSqlite({ ...options, file, queryOnly: true });
  } catch (error) {
    writer.close();
    throw error;
  }
  return createConnection(file, writer, reader, busyTimeoutMs, () => {
    reader.close();
    writer.close();
  });
};

type Holder = { readonly connection: SqliteConnection; refs: number };

/** A counted handle on a connection; the last release runs `onLast`. */
const handleOf = (holder: Holder, onLast: () => Promise<void>): SqliteConnection => {
  holder.refs += 1;
  let released = false;
  return {
    ...holder.connection,
    retain: () => handleOf(holder, onLast),
    release: async () => {
      if (released) return;
      released = true;
      holder.refs -= 1;
      if (holder.refs === 0) await onLast();
    },
  };
};

/**
 * The process-wide connection for `options.file` (opened on first use, closed when the last holder
 * releases it). `:memory:` is never shared: each acquisition is its own database (use `retain`).
 */
export const acquireConnection = async (options: AcquireOptions): Promise<SqliteConnection> => {
  if (options.file === ':memory:') {
    const connection = await open(options, ':memory:');
    return handleOf({ connection, refs: 0 }, () => connection.release());
  }
  const file = resolve(options.file);
  let entry = shared.get(file);
  if (!entry) {
    const opening = open(options, file).then((connection) => ({ connection, refs: 0 }));
    opening.catch(() => {
      if (shared.get(file) === opening) shared.delete(file);
    });
    shared.set(file, opening);
    entry = opening;
  }
  const current = entry;
  const holder = await current;
  return handleOf(holder, async () => {
    // Forgotten first, so a later acquisition opens a fresh connection instead of this closing one.
    if (shared.get(file) === current) shared.delete(file);
    await holder.connection.release();
  });
};
