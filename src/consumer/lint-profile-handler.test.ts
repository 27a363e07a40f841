import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonValue } from '../core/envelope.ts';
import { ValidationError } from '../core/errors.ts';
import type { ConsumedEvent } from './handler.ts';
import { builtinHandlersFor, userChangeOf } from './lint-profile-handler.ts';

const userId = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const eventOf = (payload: JsonValue, eventType = 'user.created'): ConsumedEvent => ({
  eventId: '0190a1b2-c3d4-7e5f-8a9b-000000000001',
  eventType,
  topic: 'identity',
  aggregateType: 'user',
  aggregateId: userId,
  payload,
  occurredAt: new Date().toISOString(),
  headers: {},
  schemaVersion: 1,
  stream: 'identity',
  streamId: '1-0',
  deliveries: 1,
});

describe('userChangeOf', () => {
  it('turns the backend user payload into a profile change', () => {
    const change = userChangeOf(
      eventOf({ id: userId, email: 'a@example.com', display_name: 'A', status: 'active', created_at: 'x' }),
    );
    assert.deepEqual(change, {
      userId,
      email: 'a@example.com',
      displayName: 'A',
      status: 'active',
      lastEventId: '0190a1b2-c3d4-7e5f-8a9b-000000000001',
      lastOutboxId: null,
    });
    const payload = { id: userId, email: 'a@example.com' };
    assert.equal(userChangeOf({ ...eventOf(payload), outboxId: '42' }).lastOutboxId, 42);
    assert.equal(userChangeOf({ ...eventOf(payload), outboxId: 'x1' }).lastOutboxId, null);
    assert.equal(
      userChangeOf(eventOf({ id: userId, email: 'a@example.com' }, 'user.disabled')).status,
      'disabled',
    );
  });

  it('names every problem of a payload it cannot apply', () => {
    const cases: Array<[JsonValue, RegExp]> = [
      [{ broken: true }, /payload\.id is missing; payload\.email is missing/],
      [
        { id: 42, email: ['x'] },
        /payload\.id must be a string, got number; payload\.email must be a string, got array/,
      ],
      [{ id: 'not-a-uuid', email: 'a@example.com' }, /payload\.id is not a UUID/],
      [
        { id: userId, email: 'a@example.com', status: 'gone' },
        /payload\.status must be one of active, disabled/,
      ],
      ['just text', /payload must be a JSON object/],
    ];
    for (const [payload, message] of cases) {
      assert.throws(
        () => userChangeOf(eventOf(payload)),
        (error: unknown) => {
          assert.ok(error instanceof ValidationError);
          assert.match(error.message, message);
          return true;
        },
      );
    }
  });

  it('runs only for markdown-lint-consumer by default', () => {
    assert.deepEqual(Object.keys(builtinHandlersFor('markdown-lint-consumer')), [
      'user.created',
      'user.updated',
      'user.disabled',
    ]);
    assert.deepEqual(builtinHandlersFor('audit'), {});
  });
});
