// The driver over node:sqlite (DatabaseSync), built into Node >= 22.5 and Deno 2; no native addon needed.
import { builtinModule } from '../../../core/runtime.ts';
import type { RawDriver, Row, SqlParams, SqlValue, Statement } from './driver.ts';

// @types/node for Node 20 does not describe node:sqlite; this is the part we use.
type NodeStatement = {
  run(...params: SqlParams): { changes: number | bigint; lastInsertRowid: number | bigint };
  get(...params: SqlParams): unknown;
  all(...params: SqlParams): unknown[];
};
type DatabaseSync = {
  exec(sql: string): void;
  prepare(sql: string): NodeStatement;
  function(name: string, options: { deterministic: boolean }, fn: (...args: SqlValue[]) => SqlValue): void;
  close(): void;
  readonly isTransaction?: boolean;
};
type NodeSqliteModule = {
  DatabaseSync: { new (path: string, options?: { readOnly?: boolean }): DatabaseSync; prototype: object };
};

// A variable specifier keeps bundlers and the type checker from resolving a module Node 20 lacks.
const moduleName = 'node:sqlite';

const importModule = async (): Promise<NodeSqliteModule | undefined> => {
  try {
    return (await import(moduleName)) as NodeSqliteModule;
  } catch {
    return undefined; // Node 20, or Node 22 before the module lost its flag
  }
};

const loadModule = async (): Promise<NodeSqliteModule | undefined> => {
  // getBuiltinModule first: a single executable has no loader behind import().
  const loaded = builtinModule<NodeSqliteModule>(moduleName) ?? (await importModule());
  // The schema calls SQL functions defined in JavaScript (mm_partition_hash); releases before
  // DatabaseSync#function (Node 22.13 / 23.5) cannot run it, so better-sqlite3 serves instead.
  return loaded && typeof Reflect.get(loaded.DatabaseSync.prototype, 'function') === 'function'
    ? loaded
    : undefined;
};

/** Whether this runtime has node:sqlite, so better-sqlite3 (and its native addon) is not needed. */
export const hasNodeSqlite = async (): Promise<boolean> => (await loadModule()) !== undefined;

const wrapStatement = (statement: NodeStatement): Statement => ({
  run: (...params) => {
    const result = statement.run(...params);
    return { changes: Number(result.changes), lastInsertRowid: Number(result.lastInsertRowid) };
  },
  get: <R = Row>(...params: SqlParams) => statement.get(...params) as R | undefined,
  all: <R = Row>(...params: SqlParams) => statement.all(...params) as R[],
  // node:sqlite runs any statement through all() and returns no rows for writes.
  rows: <R = Row>(...params: SqlParams) => statement.all(...params) as R[],
});

/** Opens `file` with node:sqlite; resolves undefined when the runtime lacks it. */
export const openNodeSqlite = async (file: string, readOnly = false): Promise<RawDriver | undefined> => {
  const sqlite = await loadModule();
  if (!sqlite) return undefined;
  const db = readOnly ? new sqlite.DatabaseSync(file, { readOnly: true }) : new sqlite.DatabaseSync(file);
  let depth = 0; // older node:sqlite lacks isTransaction; BEGIN/COMMIT are tracked as a fallback
  return {
    name: 'node:sqlite',
    exec: (sql) => {
      db.exec(sql);
      if (/^\s*BEGIN\b/i.test(sql)) depth = 1;
      else if (/^\s*(COMMIT|END|ROLLBACK)\s*;?\s*$/i.test(sql)) depth = 0;
    },
    prepare: (sql) => wrapStatement(db.prepare(sql)),
    get inTransaction() {
      return db.isTransaction ?? depth > 0;
    },
    defineFunction: (name, fn) => db.function(name, { deterministic: true }, fn),
    close: () => db.close(),
  };
};
