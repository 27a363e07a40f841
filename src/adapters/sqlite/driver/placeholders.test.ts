import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../../core/errors.ts';
import { bindInOrder, toSqlitePlaceholders, toSqlValues } from './placeholders.ts';

describe('toSqlitePlaceholders', () => {
  it('turns $n into ? and remembers which value each one takes', () => {
    assert.deepEqual(toSqlitePlaceholders('select * from t where b = $2 and a = $1 or c = $2 or d = $10'), {
      sql: 'select * from t where b = ? and a = ? or c = ? or d = ?',
      order: [2, 1, 2, 10],
    });
  });

  it('leaves string literals, quoted names and comments alone', () => {
    const sql = `select '$1', 'it''s $2', "col$3", [x$4], \`y$5\` -- $6\n, $7 /* $8 */ from t`;
    assert.deepEqual(toSqlitePlaceholders(sql), {
      sql: `select '$1', 'it''s $2', "col$3", [x$4], \`y$5\` -- $6\n, ? /* $8 */ from t`,
      order: [7],
    });
  });

  it('keeps a lone $ and unterminated text as they are', () => {
    assert.deepEqual(toSqlitePlaceholders('select $ || $a'), { sql: 'select $ || $a', order: [] });
    assert.deepEqual(toSqlitePlaceholders("select 'open $1"), { sql: "select 'open $1", order: [] });
  });
});

describe('bindInOrder', () => {
  it('binds the values in placeholder order, repeating as needed', () => {
    assert.deepEqual(bindInOrder(toSqlitePlaceholders('$2, $1, $2'), ['a', 'b']), ['b', 'a', 'b']);
  });

  it('passes values through for SQL written with ?', () => {
    assert.deepEqual(bindInOrder(toSqlitePlaceholders('? and ?'), [1, true]), [1, 1]);
  });

  it('refuses a placeholder without a value', () => {
    assert.throws(() => bindInOrder(toSqlitePlaceholders('$1, $3'), ['a', 'b']), /\$3/);
  });
});

describe('toSqlValues', () => {
  it('binds booleans, dates, objects and nullish values', () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    assert.deepEqual(toSqlValues([true, false, at, { a: 1 }, [1], undefined, null, 2n, 'x', 1.5]), [
      1,
      0,
      '2026-01-02T03:04:05.678Z',
      '{"a":1}',
      '[1]',
      null,
      null,
      2n,
      'x',
      1.5,
    ]);
  });

  it('rejects values SQLite cannot hold', () => {
    assert.throws(() => toSqlValues([Number.NaN]), ValidationError);
    assert.throws(() => toSqlValues([() => 1]), ValidationError);
  });
});
