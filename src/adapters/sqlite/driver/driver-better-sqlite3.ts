// The driver over better-sqlite3, loaded only when needed: the bundles keep it external and must run
// under Deno (which has node:sqlite) without it.
import type BetterSqlite3 from 'better-sqlite3';
import { isSingleExecutable } from '../../../core/runtime.ts';
import type { RawDriver, Row, SqlParams, Statement } from './driver.ts';

type Constructor = new (file: string, options?: BetterSqlite3.Options) => BetterSqlite3.Database;

const load = async (): Promise<Constructor> => {
  const loaded = (await import('better-sqlite3')) as unknown as { default?: Constructor };
  return loaded.default ?? (loaded as unknown as Constructor);
};

const wrapStatement = (statement: BetterSqlite3.Statement<unknown[]>): Statement => ({
  run: (...params) => {
    const result = statement.run(...params);
    return { changes: result.changes, lastInsertRowid: Number(result.lastInsertRowid) };
  },
  get: <R = Row>(...params: SqlParams) => statement.get(...params) as R | undefined,
  all: <R = Row>(...params: SqlParams) => statement.all(...params) as R[],
  rows: <R = Row>(...params: SqlParams) => {
    if (statement.reader) return statement.all(...params) as R[];
    statement.run(...params);
    return [];
  },
});

/**
 * Opens `file` with better-sqlite3. `nativeBinding` (the addon object or a path to the .node file)
 * lets a single executable load the addon from a cache file instead of node_modules.
 */
export const openBetterSqlite3 = async (
  file: string,
  nativeBinding?: string | object,
  readOnly = false,
): Promise<RawDriver> => {
  if (nativeBinding === undefined && isSingleExecutable()) {
    // Its require() cannot search node_modules; src/wiring/sqlite-addon.ts provides the addon.
    throw new Error(
      'a single executable needs the SQLite addon it carries (nativeBinding) to use better-sqlite3',
    );
  }
  const Database = await load();
  const options = {
    ...(nativeBinding === undefined ? {} : { nativeBinding: nativeBinding as string }),
    ...(readOnly ? { readonly: true, fileMustExist: true } : {}),
  };
  const db = new Database(file, options);
  return {
    name: 'better-sqlite3',
    exec: (sql) => {
      db.exec(sql);
    },
    prepare: (sql) => wrapStatement(db.prepare<unknown[]>(sql)),
    get inTransaction() {
      return db.inTransaction;
    },
    defineFunction: (name, fn) => {
      db.function(name, { deterministic: true }, fn as (...args: unknown[]) => unknown);
    },
    close: () => db.close(),
  };
};
