// The history a row carries back into the outbox: failures count and keep their first time, held rows
// keep theirs untouched.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OutboxRow } from '../ports/outbox.ts';
import { MAX_ERROR_CHARS, reinstatedRow } from './reinstated-row.ts';

const row = (history: Partial<OutboxRow> = {}): OutboxRow => ({
  id: '42',
  eventId: '0190b6a2-7c1e-7000-8000-000000000001',
  topic: 'identity',
  eventType: 'user.created',
  aggregateType: 'user',
  aggregateId: 'u-1',
  payloadJson: '{"n":1}',
  headersJson: '{}',
  occurredAt: '2024-01-01T00:00:00.000Z',
  attempts: 0,
  firstFailedAt: null,
  lastError: null,
  ...history,
});

const now = '2024-01-02T03:04:05.678Z';
const later = new Date('2024-01-02T03:05:00.000Z');

describe('reinstated row', () => {
  it('counts a failure, records its error and the time of the first one', () => {
    assert.deepEqual(reinstatedRow(row(), { id: '42', error: 'boom', nextAttemptAt: later }, now), {
      ...row(),
      attempts: 1,
      firstFailedAt: now,
      lastError: 'boom',
      nextAttemptAt: later,
    });
  });

  it('keeps the first failure time of a row that failed before', () => {
    const failed = row({ attempts: 2, firstFailedAt: '2024-01-01T10:00:00.000Z', lastError: 'old' });
    const back = reinstatedRow(failed, { id: '42', error: 'again', nextAttemptAt: later }, now);
    assert.deepEqual(
      [back.attempts, back.firstFailedAt, back.lastError],
      [3, '2024-01-01T10:00:00.000Z', 'again'],
    );
  });

  it('bounds the recorded error', () => {
    const back = reinstatedRow(
      row(),
      { id: '42', error: 'x'.repeat(MAX_ERROR_CHARS + 10), nextAttemptAt: later },
      now,
    );
    assert.equal(back.lastError?.length, MAX_ERROR_CHARS);
  });

  it('puts a held row back with its history unchanged, due when its blocker is', () => {
    const waiting = row({ attempts: 1, firstFailedAt: '2024-01-01T10:00:00.000Z', lastError: 'own error' });
    const back = reinstatedRow(waiting, { id: '42', error: 'held', nextAttemptAt: later, held: true }, now);
    assert.deepEqual(back, { ...waiting, nextAttemptAt: later });
  });
});
