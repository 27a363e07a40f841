import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConsumedEvent } from '../consumer/handler.ts';
import { toRunnable } from '../consumer/handler.ts';
import { lintProfileHandlers } from '../consumer/lint-profile-handler.ts';
import { ValidationError } from '../core/errors.ts';
import { withHandlerFault } from './handler-fault.ts';

const event = (payload: ConsumedEvent['payload']): ConsumedEvent =>
  ({
    eventId: '01900000-0000-7000-8000-000000000001',
    eventType: 'user.created',
    topic: 'identity',
    aggregateType: 'user',
    aggregateId: 'a',
    payload,
    occurredAt: '2024-01-01T00:00:00.000Z',
    outboxId: '1',
    headers: {},
    schemaVersion: 1,
    stream: 'identity',
    streamId: '1-0',
    deliveries: 1,
  }) as ConsumedEvent;

const good = { id: '01900000-0000-7000-8000-0000000000aa', email: 'a@example.com' };

describe('handler fault', () => {
  it('fails every event with one defect while on, and passes them through when off', () => {
    const fault = { failing: true, aggregates: new Set<string>() };
    const handlers = withHandlerFault(lintProfileHandlers, fault);
    const created = toRunnable(handlers['user.created'] as NonNullable<(typeof handlers)['user.created']>);
    assert.throws(() => created.prepare(event(good)), TypeError);
    fault.failing = false;
    assert.equal((created.prepare(event(good)) as { email: string }).email, 'a@example.com');
  });

  it('lets the real handler reject bad data first, so the DLQ tells the two apart', () => {
    const handlers = withHandlerFault(lintProfileHandlers, { failing: true, aggregates: new Set() });
    const created = toRunnable(handlers['user.created'] as NonNullable<(typeof handlers)['user.created']>);
    assert.throws(() => created.prepare(event({ id: 'x', email: '' })), ValidationError);
  });

  it('fails only the events of the listed aggregates while the defect is off', () => {
    const fault = { failing: false, aggregates: new Set(['u-held']) };
    const created = toRunnable(
      withHandlerFault(lintProfileHandlers, fault)['user.created'] as NonNullable<
        (typeof lintProfileHandlers)['user.created']
      >,
    );
    assert.throws(() => created.prepare({ ...event(good), aggregateId: 'u-held' }), TypeError);
    assert.equal(
      (created.prepare({ ...event(good), aggregateId: 'u-other' }) as { email: string }).email,
      'a@example.com',
    );
  });

  it('keeps one wrapper per handler object, so its event types still share batches', () => {
    const handlers = withHandlerFault(lintProfileHandlers, { failing: false, aggregates: new Set() });
    assert.equal(handlers['user.created'], handlers['user.disabled']);
  });
});
