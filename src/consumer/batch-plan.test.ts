import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type StreamFields, toStreamFields } from '../core/envelope.ts';
import { PermanentError, ValidationError } from '../core/errors.ts';
import { uuidv7 } from '../core/ids.ts';
import { type Delivery, planBatch, runsOf } from './batch-plan.ts';
import { createFailureMemory } from './failure-memory.ts';
import type { HandlerMap } from './handler.ts';
import { lintProfileHandlers } from './lint-profile-handler.ts';
import { dlqStreamOfPartition, settleBatch } from './settle.ts';

let seq = 0;
const entry = (fields: StreamFields, deliveries = 1): Delivery => ({
  stream: 'identity',
  entry: { id: `1700000000000-${seq++}`, fields },
  deliveries,
});
const user = (
  type = 'user.created',
  eventId = uuidv7(),
  payload?: unknown,
  id: string = uuidv7(),
): StreamFields => {
  return toStreamFields({
    eventId,
    eventType: type,
    topic: 'identity',
    aggregateType: 'user',
    aggregateId: id,
    payload: (payload ?? { id, email: 'a@example.com' }) as never,
    occurredAt: new Date().toISOString(),
    headers: {},
    schemaVersion: 1,
  });
};

describe('planBatch', () => {
  it('sorts a batch into work, repeats, unhandled, failed and dead letters', () => {
    const repeated = uuidv7();
    const deliveries = [
      entry(user('user.created', repeated)),
      entry(user('user.created', repeated.toUpperCase())),
      entry({ event_id: 'nope', payload: '{' }),
      entry(user('user.deleted')),
      entry(user('user.updated', uuidv7(), { email: 'missing id' })),
      entry(user('user.disabled')),
    ];
    const plan = planBatch(deliveries, { handlers: lintProfileHandlers, group: 'g', strict: false });
    assert.equal(plan.work.length, 2);
    assert.equal(plan.repeats.length, 1, 'the same event id in another case is the same event');
    assert.equal(plan.unhandled.length, 1);
    assert.equal(plan.failed.length, 1);
    assert.ok(plan.failed[0]?.error instanceof ValidationError);
    assert.equal(plan.deadLetters.length, 1);
    assert.match(plan.deadLetters[0]?.error.message ?? '', /unparseable event: .*event_id is not a UUID/);
    assert.equal(runsOf(plan.work).length, 1, 'one handler object for all user events: one run');
  });

  it('dead-letters unhandled types under --strict', () => {
    const plan = planBatch([entry(user('user.deleted'))], { handlers: {}, group: 'g', strict: true });
    assert.equal(plan.deadLetters.length, 1);
    assert.ok(plan.deadLetters[0]?.error instanceof PermanentError);
    assert.match(
      plan.deadLetters[0]?.error.message ?? '',
      /no handler for event type user\.deleted in group g/,
    );
  });

  it('keeps runs of different handlers in stream order', () => {
    const a = async () => {};
    const b = async () => {};
    const handlers: HandlerMap = { 'user.created': a, 'user.updated': b };
    const plan = planBatch(
      [
        entry(user('user.created')),
        entry(user('user.created')),
        entry(user('user.updated')),
        entry(user('user.created')),
      ],
      { handlers, group: 'g', strict: false },
    );
    assert.deepEqual(
      runsOf(plan.work).map((run) => run.length),
      [2, 1, 1],
    );
  });
});

describe('settleBatch', () => {
  it('acks what committed, keeps retryable failures pending and dead-letters the last attempt', () => {
    // Failures of the apply step that may pass next time (plain errors) keep their retries.
    const failing = entry(user(), 2);
    const lastTry = entry(user(), 5);
    const good = entry(user());
    const dup = entry(user());
    const plan = planBatch([good, failing, lastTry, dup], {
      handlers: lintProfileHandlers,
      group: 'g',
      strict: false,
    });
    const [goodKey, failingKey, lastTryKey] = plan.work.map((w) => w.key) as [string, string, string];
    const failures = createFailureMemory();
    failures.remember('identity', lastTry.entry.id, '2024-01-01T00:00:00.000Z');
    const applyFailures = new Map([
      [failingKey, new Error('deadlock detected')],
      [lastTryKey, new Error('deadlock detected')],
    ]);
    const settlement = settleBatch(
      plan,
      { recorded: new Set([goodKey]), failures: applyFailures, deferred: new Set(), redone: false },
      { group: 'g', maxDeliveries: 5, failures, now: new Date('2024-01-02T00:00:00Z') },
    );
    assert.deepEqual(settlement.acks.get('identity'), [good.entry.id, dup.entry.id]);
    assert.equal(settlement.retrying.length, 1);
    assert.equal(settlement.deadLettered.length, 1);
    assert.equal(settlement.duplicatesBy.get('identity'), 1);
    const dead = settlement.deadLettered[0];
    assert.equal(dead?.fields.dlq_stage, 'consumer');
    assert.equal(dead?.fields.dlq_attempts, '5');
    assert.equal(dead?.fields.dlq_first_failed_at, '2024-01-01T00:00:00.000Z');
    assert.equal(dead?.fields.dlq_failed_at, '2024-01-02T00:00:00.000Z');
    assert.deepEqual(
      settlement.writes.map((w) => w.op),
      ['add', 'ack'],
    );
    assert.equal(failures.firstFailedAt('identity', failing.entry.id), '2024-01-02T00:00:00.000Z');
    assert.equal(failures.firstFailedAt('identity', lastTry.entry.id), undefined);
  });

  it('dead-letters a permanent failure on its first delivery', () => {
    const invalid = entry(user('user.updated', uuidv7(), { broken: true }), 1);
    const refused = entry(user(), 1);
    const plan = planBatch([invalid, refused], { handlers: lintProfileHandlers, group: 'g', strict: false });
    const refusedKey = plan.work[0]?.key as string;
    const settlement = settleBatch(
      plan,
      {
        recorded: new Set(),
        failures: new Map([[refusedKey, new PermanentError('never')]]),
        deferred: new Set(),
        redone: false,
      },
      { group: 'g', maxDeliveries: 5, failures: createFailureMemory(), now: new Date() },
    );
    assert.equal(settlement.retrying.length, 0);
    assert.deepEqual(
      settlement.deadLettered.map((d) => [
        d.delivery.entry.id,
        d.fields.dlq_error_class,
        d.fields.dlq_attempts,
      ]),
      [
        [invalid.entry.id, 'ValidationError', '1'],
        [refused.entry.id, 'PermanentError', '1'],
      ],
    );
  });
});

describe('per-aggregate order in a batch', () => {
  it('parks what the gate holds back and what follows a failed check of its aggregate', () => {
    const a = uuidv7();
    const b = uuidv7();
    const deliveries = [
      entry(user('user.created', uuidv7(), undefined, a)),
      entry(user('user.updated', uuidv7(), { email: 'no id' }, b)),
      entry(user('user.updated', uuidv7(), undefined, b)),
      entry(user('user.updated', uuidv7(), undefined, a)),
    ];
    const heldBack = deliveries[3]?.entry.id;
    const plan = planBatch(deliveries, {
      handlers: lintProfileHandlers,
      group: 'g',
      strict: false,
      gate: (item) => (item.id === heldBack ? 'park' : 'run'),
    });
    assert.equal(plan.work.length, 1);
    assert.equal(plan.failed.length, 1);
    assert.equal(plan.failed[0]?.aggregateKey, `user/${b}`);
    assert.deepEqual(
      plan.parked.map((p) => p.delivery.entry.id),
      [deliveries[2]?.entry.id, heldBack],
    );
  });

  it('parks deferred events, acknowledges parked entries, and takes released ones out of parking', () => {
    const a = uuidv7();
    const fromStream = entry(user('user.created', uuidv7(), undefined, a));
    const deferred = entry(user('user.updated', uuidv7(), undefined, a));
    const released = { ...entry(user()), parked: true };
    const releasedLast = {
      ...entry(user('user.updated', uuidv7(), { broken: true })),
      deliveries: 5,
      parked: true,
    };
    const plan = planBatch([fromStream, deferred, released, releasedLast], {
      handlers: lintProfileHandlers,
      group: 'g',
      strict: false,
    });
    const [first, second, third] = plan.work;
    const lastKey = plan.failed[0]?.eventId?.toLowerCase();
    const settlement = settleBatch(
      plan,
      {
        recorded: new Set([third?.key as string]),
        failures: new Map([[first?.key as string, new Error('boom')]]),
        deferred: new Set([second?.key as string]),
        redone: true,
      },
      { group: 'g', maxDeliveries: 5, failures: createFailureMemory(), now: new Date() },
    );
    assert.equal(settlement.retrying.length, 1);
    assert.deepEqual(
      settlement.parked.map((p) => p.key),
      [second?.key],
    );
    assert.deepEqual(settlement.acks.get('identity'), [deferred.entry.id], 'parked, then acknowledged');
    assert.deepEqual(settlement.unparked, [third?.key]);
    assert.deepEqual(settlement.deadUnparked, [lastKey], 'a dead letter leaves parking once written');
    assert.deepEqual(
      settlement.writes.map((w) => w.op),
      ['add'],
      'a released event has no pending entry to acknowledge',
    );
    assert.deepEqual(
      settlement.done.map((p) => p.key),
      [third?.key],
    );
  });

  it('sends dead letters of a partition stream to the topic dead-letter stream', () => {
    assert.equal(dlqStreamOfPartition('identity:3'), 'identity.dlq');
    assert.equal(dlqStreamOfPartition('identity'), 'identity.dlq');
  });
});
