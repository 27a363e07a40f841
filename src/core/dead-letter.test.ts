import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deadLetterFields, errorFingerprint, normaliseErrorMessage, parseDeadLetter } from './dead-letter.ts';

describe('dead letters', () => {
  it('keep the original fields verbatim and add the failure', () => {
    const original = { event_id: 'e1', payload: '{"a":1}', dlq_stage: 'stale' };
    const error = new TypeError('payload.email must be a string');
    const fields = deadLetterFields(original, {
      stage: 'consumer',
      originStream: 'identity',
      originId: '1700000000000-0',
      consumerGroup: 'markdown-lint-consumer',
      error,
      attempts: 5,
      firstFailedAt: '2026-11-29T00:00:00.000Z',
      failedAt: '2026-11-29T00:01:00.000Z',
    });
    assert.equal(fields.event_id, 'e1');
    assert.equal(fields.payload, '{"a":1}');
    assert.equal(fields.dlq_stage, 'consumer');
    assert.equal(fields.dlq_error_class, 'TypeError');
    assert.equal(fields.dlq_attempts, '5');
    const parsed = parseDeadLetter(fields);
    assert.deepEqual(parsed.original, { event_id: 'e1', payload: '{"a":1}' });
    assert.equal(parsed.originId, '1700000000000-0');
    assert.equal(parsed.fingerprint, errorFingerprint('TypeError', error.message));
  });

  it('group failures by cause, not by ids or values', () => {
    const a =
      'user 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b: "bob@example.com" is 1234 bytes over at 1700000000000-3';
    const b =
      'user 0190ffff-c3d4-7e5f-8a9b-0c1d2e3f4a5c: "eve@example.com" is 99 bytes over at 1700000000999-0';
    assert.equal(normaliseErrorMessage(a), 'user <uuid>: <value> is <n> bytes over at <stream-id>');
    assert.equal(errorFingerprint('PermanentError', a), errorFingerprint('PermanentError', b));
    assert.notEqual(errorFingerprint('PermanentError', a), errorFingerprint('TypeError', a));
  });

  it('bounds the stack', () => {
    const error = new Error('x');
    error.stack = 'y'.repeat(10_000);
    const fields = deadLetterFields(
      {},
      {
        stage: 'relay',
        originStream: 'identity',
        error,
        attempts: 1,
        firstFailedAt: '',
        failedAt: '',
      },
    );
    assert.equal(fields.dlq_error_stack?.length, 4_000);
  });
});
