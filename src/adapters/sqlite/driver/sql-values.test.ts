import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../../core/errors.ts';
import { numberedValues } from './sql-values.ts';

describe('numberedValues', () => {
  it('numbers the values from 1 and binds booleans, dates, objects and nullish values', () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    assert.deepEqual(numberedValues([true, false, at, { a: 1 }, [1], undefined, null, 2n, 'x', 1.5]), {
      1: 1,
      2: 0,
      3: '2026-01-02T03:04:05.678Z',
      4: '{"a":1}',
      5: '[1]',
      6: null,
      7: null,
      8: 2n,
      9: 'x',
      10: 1.5,
    });
  });

  it('rejects values SQLite cannot hold, naming the parameter', () => {
    assert.throws(
      () => numberedValues(['ok', Number.NaN]),
      (e) => e instanceof ValidationError && /\$2/.test(e.message),
    );
    assert.throws(() => numberedValues([() => 1]), ValidationError);
  });
});
