import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deadLetterFields } from '../../core/dead-letter.ts';
import { viewOf } from './dead-letter-view.ts';
import { describeFilter, hasFilter, matches, rangeBounds } from './filters.ts';

const error = Object.assign(new Error('payload of 0190 is missing "id"'), { name: 'ValidationError' });
const view = viewOf(
  '1700000000000-0',
  deadLetterFields(
    { event_id: 'e1', event_type: 'user.created', payload: '{}' },
    {
      stage: 'consumer',
      originStream: 'identity',
      originId: '1699999999999-0',
      consumerGroup: 'g',
      error,
      attempts: 5,
      firstFailedAt: '2023-11-14T22:13:19Z',
      failedAt: '2023-11-14T22:13:20Z',
    },
  ),
);

describe('filters', () => {
  it('match on event type, error text (any case), fingerprint and time', () => {
    assert.equal(matches(view, {}), true);
    assert.equal(matches(view, { eventType: 'user.created' }), true);
    assert.equal(matches(view, { eventType: 'user.updated' }), false);
    assert.equal(matches(view, { error: 'MISSING "ID"' }), true);
    assert.equal(matches(view, { error: 'validationerror: payload' }), true);
    assert.equal(matches(view, { error: 'timeout' }), false);
    assert.equal(matches(view, { fingerprint: view.fingerprint.toUpperCase() }), true);
    assert.equal(matches(view, { fingerprint: '000000000000' }), false);
    assert.equal(matches(view, { sinceMs: 1_700_000_000_000 }), true);
    assert.equal(matches(view, { sinceMs: 1_700_000_000_001 }), false);
    assert.equal(matches(view, { beforeMs: 1_700_000_000_000 }), false);
    assert.equal(matches(view, { beforeMs: 1_700_000_000_001 }), true);
  });
  it('turn times into stream range bounds', () => {
    assert.deepEqual(rangeBounds({}), { start: '-', end: '+' });
    assert.deepEqual(rangeBounds({ sinceMs: 5, beforeMs: 9 }), { start: '5-0', end: '(9-0' });
  });
  it('describe themselves', () => {
    assert.equal(hasFilter({}), false);
    assert.equal(describeFilter({ eventType: 'a.b', error: 'x' }), 'event type a.b, error containing "x"');
  });
});
