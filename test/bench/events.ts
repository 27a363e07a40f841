// Benchmark events: user.created outbox rows with realistic payloads, one user each.
import { uuidv7 } from '../../src/core/ids.ts';
import type { NewOutboxEvent } from '../../src/ports/outbox.ts';

export const userCreated = (i: number): NewOutboxEvent => {
  const id = uuidv7();
  const now = new Date().toISOString();
  return {
    eventId: uuidv7(),
    topic: 'identity',
    eventType: 'user.created',
    aggregateType: 'user',
    aggregateId: id,
    payload: {
      id,
      email: `bench-${i}-${id.slice(-6)}@example.com`,
      display_name: `Bench User ${i}`,
      status: 'active',
      created_at: now,
      updated_at: now,
    },
    headers: { correlation_id: uuidv7() },
  };
};

export const userEvents = (count: number, offset = 0): NewOutboxEvent[] =>
  Array.from({ length: count }, (_, i) => userCreated(offset + i));

/** The same event as flat stream fields, as the relay writes it. */
export const streamFieldsOf = (event: NewOutboxEvent, outboxId: number): string[] => [
  'event_id',
  event.eventId,
  'event_type',
  event.eventType,
  'topic',
  event.topic,
  'aggregate_type',
  event.aggregateType,
  'aggregate_id',
  event.aggregateId,
  'payload',
  JSON.stringify(event.payload),
  'occurred_at',
  new Date().toISOString(),
  'outbox_id',
  String(outboxId),
  'headers',
  JSON.stringify(event.headers ?? {}),
  'schema_version',
  '1',
];

/**
 * `count` events over `aggregates` users, each user's first one `user.created` and the rest
 * `user.updated`, interleaved across users as a busy backend writes them: order per user is checkable.
 */
export const userHistories = (count: number, aggregates: number): NewOutboxEvent[] => {
  const users = Array.from({ length: aggregates }, (_, i) => userCreated(i));
  return Array.from({ length: count }, (_, n) => {
    const user = users[n % aggregates] as NewOutboxEvent;
    const round = Math.floor(n / aggregates);
    if (round === 0) return user;
    return {
      ...user,
      eventId: uuidv7(),
      eventType: 'user.updated',
      payload: { ...(user.payload as Record<string, unknown>), display_name: `Bench User v${round}` },
    };
  });
};
