// One small synchronous SQLite driver interface over node:sqlite (Node >= 22.5, Deno) and better-sqlite3,
// opened the same way for every process that shares a file: WAL, a busy timeout, NORMAL sync.
import { ConfigError, coerceError } from '../../../core/errors.ts';
import { openBetterSqlite3 } from './driver-better-sqlite3.ts';
import { openNodeSqlite } from './driver-node-sqlite.ts';
import { sqliteErrorKind } from './errors.ts';
import { defineSqlFunctions } from './sql-functions.ts';

export type SqlValue = null | number | bigint | string | Uint8Array;
/**
 * Values by number for Postgres-style placeholders: SQLite reads `$1` as the parameter named `1`,
 * and both drivers bind it from the key `1` of an object (test/helpers/sqlite-binding.ts checks it).
 */
export type NumberedValues = Readonly<Record<number, SqlValue>>;
/** Anonymous `?` values in order, or one object of numbered values for `$n`. */
export type SqlParams = SqlValue[] | [NumberedValues];
export type RunResult = { readonly changes: number; readonly lastInsertRowid: number };
export type Row = Record<string, unknown>;

export type Statement = {
  run(...params: SqlParams): RunResult;
  get<R = Row>(...params: SqlParams): R | undefined;
  all<R = Row>(...params: SqlParams): R[];
  /** The rows of a query, or none after any other statement (raw SQL whose kind is unknown). */
  rows<R = Row>(...params: SqlParams): R[];
};

export type DriverName = 'node:sqlite' | 'better-sqlite3';

export type SqliteDriver = {
  readonly name: DriverName;
  exec(sql: string): void;
  /** Prepared once per SQL text and kept, so hot paths never re-parse. */
  prepare(sql: string): Statement;
  readonly inTransaction: boolean;
  /** Registers a deterministic scalar SQL function on this connection. */
  defineFunction(name: string, fn: (...args: SqlValue[]) => SqlValue): void;
  close(): void;
};

/** What an implementation hands back before the shared statement cache is put in front of it. */
export type RawDriver = Omit<SqliteDriver, 'prepare'> & { prepare(sql: string): Statement };

export type OpenSqliteOptions = {
  readonly file: string;
  /** `auto` (default) takes node:sqlite where the runtime has it, better-sqlite3 otherwise. */
  readonly driver?: 'auto' | DriverName;
  /** better-sqlite3's native addon: the loaded module object or a path to the .node file. */
  readonly nativeBinding?: string | object;
  readonly busyTimeoutMs?: number;
  /** A connection that only reads (it refuses writes), e.g. the shim's snapshot reader. */
  readonly queryOnly?: boolean;
  /**
   * Opens the file read-only (it must exist; nothing is created, no journal mode set): tools that
   * only read work on a read-only file and never change one.
   */
  readonly readOnly?: boolean;
  /** `wal` (default) for shared data; `delete` for a lock file that should stay a single file. */
  readonly journalMode?: 'wal' | 'delete';
};

const statementCacheSize = 500;

const withStatementCache = (raw: RawDriver): SqliteDriver => {
  const cache = new Map<string, Statement>();
  return {
    name: raw.name,
    exec: (sql) => raw.exec(sql),
    prepare: (sql) => {
      let statement = cache.get(sql);
      if (!statement) {
        statement = raw.prepare(sql);
        // Raw queries from handlers could grow the cache without bound; drop the oldest.
        if (cache.size >= statementCacheSize) cache.delete(cache.keys().next().value as string);
        cache.set(sql, statement);
      }
      return statement;
    },
    get inTransaction() {
      return raw.inTransaction;
    },
    defineFunction: (name, fn) => raw.defineFunction(name, fn),
    close: () => {
      cache.clear();
      raw.close();
    },
  };
};

/**
 * Runs `statement` again while the file is busy. Switching a fresh file to WAL needs an exclusive
 * lock, and SQLite answers "database is locked" at once, without its busy handler, when several
 * processes open the file together.
 */
const execPatiently = async (db: SqliteDriver, statement: string, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (let retry = 1; ; retry += 1) {
    try {
      db.exec(statement);
      return;
    } catch (error) {
      if (sqliteErrorKind(error) !== 'busy' || Date.now() >= deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(5 * retry, 50)));
  }
};

const configure = async (db: SqliteDriver, options: OpenSqliteOptions): Promise<void> => {
  const busyTimeoutMs = Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5_000));
  db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
  if (options.file !== ':memory:' && options.journalMode !== 'delete' && !options.readOnly) {
    await execPatiently(db, 'PRAGMA journal_mode = WAL', Math.max(busyTimeoutMs, 1_000));
  }
  if (options.readOnly) return;
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA foreign_keys = ON');
  defineSqlFunctions(db);
  if (options.queryOnly) db.exec('PRAGMA query_only = ON');
};

const openRaw = async (options: OpenSqliteOptions): Promise<RawDriver> => {
  const choice = options.driver ?? 'auto';
  const readOnly = options.readOnly === true;
  if (choice === 'better-sqlite3') return openBetterSqlite3(options.file, options.nativeBinding, readOnly);
  const native = await openNodeSqlite(options.file, readOnly);
  if (native) return native;
  if (choice === 'node:sqlite') {
    throw new Error('node:sqlite is not available in this runtime (Node >= 22.5 and Deno 2 have it)');
  }
  return openBetterSqlite3(options.file, options.nativeBinding, readOnly);
};

/** Opens and configures a connection; an unusable file is a configuration problem (exit 78). */
export const openSqlite = async (options: OpenSqliteOptions): Promise<SqliteDriver> => {
  let raw: RawDriver;
  try {
    raw = await openRaw(options);
  } catch (error) {
    throw new ConfigError([`cannot open SQLite file ${options.file}: ${coerceError(error).message}`]);
  }
  const db = withStatementCache(raw);
  try {
    await configure(db, options);
  } catch (error) {
    db.close();
    throw new ConfigError([`cannot use SQLite file ${options.file}: ${coerceError(error).message}`]);
  }
  return db;
};

/** Runs `work` inside a savepoint of the open transaction: a throw undoes only what `work` wrote. */
export const withSavepoint = <T>(db: SqliteDriver, name: string, work: () => T): T => {
  db.exec(`SAVEPOINT ${name}`);
  try {
    const result = work();
    db.exec(`RELEASE ${name}`);
    return result;
  } catch (error) {
    if (db.inTransaction) {
      db.exec(`ROLLBACK TO ${name}`);
      db.exec(`RELEASE ${name}`);
    }
    throw error;
  }
};
