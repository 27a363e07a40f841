import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../../core/errors.ts';
import {
  compareIds,
  formatId,
  maxId,
  nextAddId,
  parseId,
  parsePositionId,
  rangeEnd,
  rangeStart,
  zeroId,
} from './ids.ts';

describe('stream ids', () => {
  it('takes the clock for a new millisecond and counts up within one', () => {
    assert.deepEqual(nextAddId({ ms: 1000, seq: 4 }, 2000), { ms: 2000, seq: 0 });
    assert.deepEqual(nextAddId({ ms: 1000, seq: 4 }, 1000), { ms: 1000, seq: 5 });
  });

  it('never goes back when the clock does', () => {
    assert.deepEqual(nextAddId({ ms: 5000, seq: 0 }, 4000), { ms: 5000, seq: 1 });
    assert.deepEqual(nextAddId({ ms: 5000, seq: Number.MAX_SAFE_INTEGER }, 4000), { ms: 5001, seq: 0 });
  });

  it('parses full and ms-only ids and formats them back', () => {
    assert.deepEqual(parseId('1700000000000-3'), { ms: 1700000000000, seq: 3 });
    assert.deepEqual(parseId('17'), { ms: 17, seq: 0 });
    assert.deepEqual(parseId('17', 'max'), { ms: 17, seq: Number.MAX_SAFE_INTEGER });
    assert.equal(formatId({ ms: 1700000000000, seq: 3 }), '1700000000000-3');
    assert.throws(() => parseId('abc'), ValidationError);
    assert.throws(() => parseId('1-2-3'), ValidationError);
    const last = parsePositionId('1700000000000-18446744073709551615');
    assert.equal(compareIds(last, { ms: 1700000000000, seq: 1_000_000 }), 1);
    assert.equal(compareIds(last, { ms: 1700000000001, seq: 0 }), -1);
    assert.equal(formatId(last), '1700000000000-18446744073709551615');
  });

  it('orders by ms, then seq', () => {
    assert.equal(compareIds({ ms: 1, seq: 9 }, { ms: 2, seq: 0 }), -1);
    assert.equal(compareIds({ ms: 2, seq: 1 }, { ms: 2, seq: 0 }), 1);
    assert.equal(compareIds({ ms: 2, seq: 1 }, { ms: 2, seq: 1 }), 0);
  });

  it('reads range bounds the Redis way', () => {
    assert.deepEqual(rangeStart('-'), zeroId);
    assert.deepEqual(rangeEnd('+'), maxId);
    assert.deepEqual(rangeStart('(5-0'), { ms: 5, seq: 1 });
    assert.deepEqual(rangeEnd('(5-0'), { ms: 4, seq: Number.MAX_SAFE_INTEGER });
    assert.deepEqual(rangeStart('5'), { ms: 5, seq: 0 });
    assert.deepEqual(rangeEnd('5'), { ms: 5, seq: Number.MAX_SAFE_INTEGER });
    assert.deepEqual(rangeEnd('(5'), { ms: 5, seq: Number.MAX_SAFE_INTEGER - 1 });
    assert.equal(rangeEnd('(0-0'), null);
    assert.equal(rangeStart('(+'), null);
    assert.deepEqual(rangeStart('18446744073709551615-18446744073709551615'), maxId);
  });
});
