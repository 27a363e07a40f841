import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../core/errors.ts';
import { parseReplayFrom, positionFor, previousStreamId } from './replay.ts';

describe('replay positions', () => {
  it('parses the four forms of --from', () => {
    assert.deepEqual(parseReplayFrom('start'), { kind: 'start' });
    assert.deepEqual(parseReplayFrom('end'), { kind: 'end' });
    assert.deepEqual(parseReplayFrom('1700000000000-5'), { kind: 'id', id: '1700000000000-5' });
    assert.deepEqual(parseReplayFrom('2024-01-31T12:00:00Z'), {
      kind: 'time',
      ms: Date.parse('2024-01-31T12:00:00Z'),
    });
    for (const bad of ['', '0', 'yesterday', '17-', '2024-13-45T99:00:00Z']) {
      assert.throws(() => parseReplayFrom(bad), UsageError, bad);
    }
  });

  it('positions the group just before the first entry to deliver again', () => {
    assert.equal(previousStreamId('1700000000000-5'), '1700000000000-4');
    assert.equal(previousStreamId('1700000000000-0'), '1699999999999-18446744073709551615');
    assert.equal(previousStreamId('0-0'), '0-0');
    assert.equal(positionFor({ kind: 'start' }, '5-0'), '0-0');
    assert.equal(positionFor({ kind: 'end' }, '5-0'), '5-0');
    assert.equal(positionFor({ kind: 'end' }, null), '0-0');
    assert.equal(
      positionFor({ kind: 'time', ms: 1700000000000 }, null),
      '1699999999999-18446744073709551615',
    );
  });
});
