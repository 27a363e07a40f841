import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type EventEnvelope, isTopicName, parseStreamFields, toStreamFields } from './envelope.ts';
import { ValidationError } from './errors.ts';
import { uuidv7 } from './ids.ts';

const sample = (): EventEnvelope => ({
  eventId: uuidv7(),
  eventType: 'user.created',
  topic: 'identity',
  aggregateType: 'user',
  aggregateId: 'u-1',
  payload: { id: 'u-1', email: 'a@example.com', nested: [1, 'two', null] },
  occurredAt: '2026-11-29T01:02:03.456Z',
  outboxId: '42',
  headers: { correlation_id: 'c-1' },
  schemaVersion: 1,
});

describe('event envelope', () => {
  it('round-trips through flat stream fields', () => {
    const event = sample();
    const fields = toStreamFields(event);
    assert.equal(fields.payload, JSON.stringify(event.payload));
    assert.equal(fields.schema_version, '1');
    assert.deepEqual(parseStreamFields(fields), event);
  });

  it('omits outbox_id for events that did not come from an outbox', () => {
    const fields = toStreamFields({ ...sample(), outboxId: undefined });
    assert.equal('outbox_id' in fields, false);
    assert.equal(parseStreamFields(fields).outboxId, undefined);
  });

  it('names every problem of an unparseable entry at once', () => {
    const fields = {
      ...toStreamFields(sample()),
      event_id: 'nope',
      payload: '{broken',
      occurred_at: 'yesterday',
    };
    delete (fields as Record<string, string>).topic;
    const error = (() => {
      try {
        parseStreamFields(fields);
      } catch (thrown) {
        return thrown;
      }
      return undefined;
    })();
    assert.ok(error instanceof ValidationError);
    assert.equal(error.problems.length, 4, error.problems.join(' | '));
    assert.match(error.message, /event_id is not a UUID/);
    assert.match(error.message, /missing field topic/);
    assert.match(error.message, /payload is not JSON/);
    assert.match(error.message, /occurred_at is not a time/);
  });

  it('accepts topic names but not dead-letter or audit stream names', () => {
    assert.equal(isTopicName('identity'), true);
    assert.equal(isTopicName('billing.invoices'), true);
    assert.equal(isTopicName('identity.dlq'), false);
    assert.equal(isTopicName('identity.dlq.audit'), false);
    assert.equal(isTopicName('Bad Topic'), false);
  });
});
