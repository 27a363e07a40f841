// Translates SQLite errors (better-sqlite3 codes, node:sqlite errcodes or bare messages) into mm's
// error classes; nothing above adapters sees an SQLITE_* code.
import {
  ConflictError,
  coerceError,
  MmError,
  TransientError,
  ValidationError,
} from '../../../core/errors.ts';

export type SqliteErrorKind = 'busy' | 'unavailable' | 'unique' | 'constraint' | 'not-migrated' | 'other';

// Primary result codes (the low byte of an extended code), from sqlite3.h.
const primaryKinds: Readonly<Record<number, SqliteErrorKind>> = {
  5: 'busy', // SQLITE_BUSY
  6: 'busy', // SQLITE_LOCKED
  7: 'unavailable', // SQLITE_NOMEM
  10: 'unavailable', // SQLITE_IOERR
  13: 'unavailable', // SQLITE_FULL
  14: 'unavailable', // SQLITE_CANTOPEN
  15: 'unavailable', // SQLITE_PROTOCOL
  18: 'constraint', // SQLITE_TOOBIG
  19: 'constraint', // SQLITE_CONSTRAINT
  20: 'constraint', // SQLITE_MISMATCH
};
const uniqueExtended = new Set([2067, 1555]); // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY

const namedKinds: ReadonlyArray<[RegExp, SqliteErrorKind]> = [
  [/^SQLITE_(BUSY|LOCKED)/, 'busy'],
  [/^SQLITE_(IOERR|FULL|CANTOPEN|PROTOCOL|NOMEM)/, 'unavailable'],
  [/^SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)$/, 'unique'],
  [/^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG)/, 'constraint'],
];

// Deno's node:sqlite reports only a generic code, so the message decides there.
const messageKinds: ReadonlyArray<[RegExp, SqliteErrorKind]> = [
  [/database is locked|database table is locked|database is busy/i, 'busy'],
  [/disk I\/O error|database or disk is full|unable to open database file/i, 'unavailable'],
  [/UNIQUE constraint failed/i, 'unique'],
  [
    /constraint failed|datatype mismatch|cannot store \w+ value in \w+ column|string or blob too big/i,
    'constraint',
  ],
  [/no such table/i, 'not-migrated'],
];

export const sqliteErrorKind = (thrown: unknown): SqliteErrorKind => {
  const { code, errcode } = (thrown ?? {}) as { code?: unknown; errcode?: unknown };
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  if (typeof errcode === 'number') {
    if (uniqueExtended.has(errcode)) return 'unique';
    const kind = primaryKinds[errcode & 0xff];
    if (kind) return kind;
  }
  if (typeof code === 'string') {
    for (const [pattern, kind] of namedKinds) if (pattern.test(code)) return kind;
  }
  for (const [pattern, kind] of messageKinds) if (pattern.test(message)) return kind;
  return 'other';
};

export type SqliteDependency = 'database' | 'bus';

const unavailableLabel: Record<SqliteDependency, string> = {
  database: 'database unavailable',
  bus: 'stream store unavailable',
};

export const translateSqliteError = (thrown: unknown, dependency: SqliteDependency = 'database'): Error => {
  if (thrown instanceof MmError) return thrown;
  const error = coerceError(thrown);
  switch (sqliteErrorKind(thrown)) {
    case 'busy':
    case 'unavailable':
      return new TransientError(`${unavailableLabel[dependency]}: ${error.message}`, {
        cause: error,
        dependency,
        clientDetail: unavailableLabel[dependency],
      });
    // SQLite's own text stays in the logs; a client reads what the service says instead.
    case 'unique':
      return new ConflictError(error.message, { cause: error, clientDetail: 'conflicts with existing data' });
    case 'constraint':
      return new ValidationError(error.message, {
        cause: error,
        clientDetail: 'a value the database cannot store',
      });
    case 'not-migrated':
      return new MmError('INTERNAL', `database is not migrated (run mm-backend migrate): ${error.message}`, {
        cause: error,
      });
    case 'other':
      return error;
  }
};
