import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConflictError, type MmError, TransientError, ValidationError } from '../../../core/errors.ts';
import { sqliteErrorKind, translateSqliteError } from './errors.ts';

const failure = (message: string, extra: Record<string, unknown> = {}): Error =>
  Object.assign(new Error(message), extra);

describe('SQLite error translation', () => {
  it('reads better-sqlite3 codes, node:sqlite errcodes and bare messages (Deno) alike', () => {
    const busy = [
      failure('database is locked', { code: 'SQLITE_BUSY' }),
      failure('database is locked', { code: 'ERR_SQLITE_ERROR', errcode: 5 }),
      failure('database is locked', { code: 'ERR_SQLITE_ERROR' }),
      failure('database table is locked', { code: 'SQLITE_LOCKED_SHAREDCACHE' }),
    ];
    for (const error of busy) assert.equal(sqliteErrorKind(error), 'busy');
    const unique = [
      failure('UNIQUE constraint failed: users.id', { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' }),
      failure('UNIQUE constraint failed: outbox.event_id', { code: 'ERR_SQLITE_ERROR', errcode: 2067 }),
      failure("UNIQUE constraint failed: index 'users_email_key'", { code: 'ERR_SQLITE_ERROR' }),
    ];
    for (const error of unique) assert.equal(sqliteErrorKind(error), 'unique');
    const constraint = [
      failure('CHECK constraint failed: status', { code: 'SQLITE_CONSTRAINT_CHECK' }),
      failure('NOT NULL constraint failed: users.email', { code: 'ERR_SQLITE_ERROR', errcode: 1299 }),
      failure('cannot store TEXT value in INTEGER column outbox.attempts', { code: 'ERR_SQLITE_ERROR' }),
    ];
    for (const error of constraint) assert.equal(sqliteErrorKind(error), 'constraint');
    assert.equal(sqliteErrorKind(failure('no such table: outbox')), 'not-migrated');
    assert.equal(sqliteErrorKind(failure('near "selec": syntax error', { code: 'SQLITE_ERROR' })), 'other');
  });

  it('turns them into the error classes services handle', () => {
    const busy = translateSqliteError(failure('database is locked', { code: 'SQLITE_BUSY' }), 'bus');
    assert.ok(busy instanceof TransientError && busy.dependency === 'bus');
    assert.match(busy.message, /^stream store unavailable: database is locked/);
    assert.ok(translateSqliteError(failure('UNIQUE constraint failed: x.y')) instanceof ConflictError);
    assert.ok(translateSqliteError(failure('CHECK constraint failed: r')) instanceof ValidationError);
    assert.equal((translateSqliteError(failure('no such table: users')) as MmError).code, 'INTERNAL');
    const own = new ValidationError('kept');
    assert.equal(translateSqliteError(own), own);
    const syntax = failure('near "selec": syntax error');
    assert.equal(translateSqliteError(syntax), syntax);
  });
});
