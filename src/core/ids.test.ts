import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from './errors.ts';
import { compareStreamIds, isUuid, nextStreamId, parseStreamId, streamIdTime, uuidv7 } from './ids.ts';

describe('uuidv7', () => {
  it('is a version 7, variant 1 UUID carrying the millisecond timestamp', () => {
    const id = uuidv7(1_700_000_000_123);
    assert.equal(isUuid(id), true);
    assert.equal(id[14], '7');
    assert.match(id[19] ?? '', /[89ab]/);
    assert.equal(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16) >= 1_700_000_000_123, true);
  });

  it('sorts in generation order, also within one millisecond', () => {
    const ids = Array.from({ length: 5_000 }, () => uuidv7(1_800_000_000_000));
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
  });
});

describe('stream ids', () => {
  it('compares numerically, not as text', () => {
    assert.equal(compareStreamIds('9-0', '10-0'), -1);
    assert.equal(compareStreamIds('10-2', '10-10'), -1);
    assert.equal(compareStreamIds('10-10', '10-10'), 0);
    assert.equal(compareStreamIds('11-0', '10-99'), 1);
    assert.equal(compareStreamIds('0-1', '0-0'), 1);
    assert.equal(compareStreamIds('1700000000000-5', '1700000000001-0'), -1);
  });

  it('agrees with numeric order on every pair, leading zeros included', () => {
    const ids = ['0-0', '0-1', '1-0', '07-1', '9-9', '10-0', '10-1', '010-2', '10-10', '99-0', '100-0'];
    const numeric = (id: string): [bigint, bigint] => {
      const [ms = '0', seq = '0'] = id.split('-');
      return [BigInt(ms), BigInt(seq)];
    };
    for (const a of ids)
      for (const b of ids) {
        const [am, as] = numeric(a);
        const [bm, bs] = numeric(b);
        const want = am !== bm ? (am < bm ? -1 : 1) : as !== bs ? (as < bs ? -1 : 1) : 0;
        assert.equal(compareStreamIds(a, b), want, `${a} vs ${b}`);
      }
  });

  it('gives the time and the next id', () => {
    assert.equal(streamIdTime('1700000000000-5'), 1_700_000_000_000);
    assert.equal(nextStreamId('1700000000000-5'), '1700000000000-6');
  });

  it('rejects text that is not a stream id with a ValidationError', () => {
    assert.throws(() => parseStreamId('not-an-id'), ValidationError);
    assert.throws(() => parseStreamId('1700000000000'), ValidationError);
  });
});
