// Events that fail on their own merits: attempts counted with backoff (a poison row: none), then
// <topic>.dlq with every field of the event plus the relay-stage failure; once that is written the
// row stays in the outbox as dead, holding its aggregate's later rows.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import { uuidv7 } from '../src/core/ids.ts';
import type { Bus } from '../src/ports/bus.ts';
import type { NewOutboxEvent } from '../src/ports/outbox.ts';
import { eventually } from './helpers/eventually.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { useTestRedis } from './helpers/redis.ts';
import {
  createTestBus,
  jsonMetrics,
  metricsWhen,
  readStream,
  startTestRelay,
  type TestRelay,
} from './helpers/relay.ts';
import { skipUnless } from './helpers/services.ts';

const event = (aggregateId: string, payload: Record<string, string>): NewOutboxEvent => ({
  eventId: uuidv7(),
  topic: 'identity',
  eventType: 'user.updated',
  aggregateType: 'user',
  aggregateId,
  payload,
  headers: { correlation_id: 'c-1' },
});

const fast = { retryBackoffMs: 50, retryBackoffMaxMs: 100, pollIntervalMs: 50 };

describe('mm-relay dead letters', { skip: await skipUnless('postgres', 'redis') }, () => {
  const db = useTestDatabase();
  const redis = useTestRedis({ perTest: true });
  let bus: Bus;
  let running: TestRelay | undefined;

  afterEach(async () => {
    await running?.relay.stop();
    running = undefined;
    await bus.close();
    await db.sql`delete from outbox`;
  });
  const setup = async (): Promise<void> => {
    bus = createTestBus(redis.url, redis.prefix);
  };
  const insert = (events: NewOutboxEvent[]): Promise<void> =>
    db.store.withTransaction((tx) => tx.outbox.insert(events));
  const outboxRows = async (): Promise<Array<{ event_id: string; attempts: number }>> =>
    [...(await db.sql`select event_id::text, attempts from outbox order by id`)] as never;
  const deadRows = async (): Promise<Array<{ event_id: string; dlq_stream: string; dlq_id: string }>> =>
    [
      ...(await db.sql`select event_id::text, dlq_stream, dlq_id from outbox where dead_at is not null
        order by id`),
    ] as never;

  it('moves an oversized event to identity.dlq at once, holding its aggregate, without blocking others', async () => {
    await setup();
    const poisonAggregate = uuidv7();
    const poison = event(poisonAggregate, { notes: 'x'.repeat(1_500) });
    const behindPoison = event(poisonAggregate, { notes: 'small' });
    const others = Array.from({ length: 5 }, () => event(uuidv7(), { notes: 'fine' }));
    await insert([poison, behindPoison, ...others]);
    const [stored] = (await db.sql`select id::text, payload::text, occurred_at from outbox
      where event_id = ${poison.eventId}`) as unknown as [{ id: string; payload: string; occurred_at: Date }];

    running = await startTestRelay(
      { store: db.store, bus },
      { ...fast, maxEventBytes: 1_000, maxAttempts: 3 },
    );
    await eventually(async () => (await bus.len('identity.dlq')) === 1, 10_000, { message: 'dead letter' });
    await eventually(async () => (await bus.len('identity')) === 5, 5_000, { message: 'the other events' });

    const [dead] = await readStream(bus, 'identity.dlq');
    assert.ok(dead);
    const f = dead.fields;
    assert.equal(f.event_id, poison.eventId);
    assert.equal(f.event_type, 'user.updated');
    assert.equal(f.topic, 'identity');
    assert.equal(f.aggregate_type, 'user');
    assert.equal(f.aggregate_id, poisonAggregate);
    // At most --max-event-bytes of payload: a preview, its size and hash; the row keeps the rest.
    assert.ok(Buffer.byteLength(f.payload ?? '') <= 1_000);
    assert.ok(stored.payload.startsWith(f.payload ?? '-'));
    assert.equal(f.dlq_payload_truncated, 'true');
    assert.equal(f.dlq_payload_bytes, String(Buffer.byteLength(stored.payload)));
    assert.equal(f.dlq_payload_sha256, createHash('sha256').update(stored.payload).digest('hex'));
    assert.equal(f.occurred_at, stored.occurred_at.toISOString());
    assert.equal(f.outbox_id, stored.id);
    assert.deepEqual(JSON.parse(f.headers ?? ''), { correlation_id: 'c-1' });
    assert.equal(f.schema_version, '1');
    assert.equal(f.dlq_stage, 'relay');
    assert.equal(f.dlq_origin_stream, 'identity');
    assert.equal(f.dlq_error_class, 'PermanentError');
    assert.match(f.dlq_error_message ?? '', /payload: event is \d+ bytes, over --max-event-bytes 1000/);
    assert.equal(f.dlq_attempts, '1');
    assert.ok(f.dlq_first_failed_at && f.dlq_failed_at);
    assert.match(f.dlq_fingerprint ?? '', /^[0-9a-f]{12}$/);

    const published = await readStream(bus, 'identity');
    assert.deepEqual(
      published.map((e) => e.fields.event_id),
      others.map((o) => o.eventId),
    );
    // The dead row stays (full payload) and its aggregate's later event waits behind it.
    await eventually(async () => (await deadRows()).length === 1, 5_000, { message: 'row kept as dead' });
    assert.deepEqual(await deadRows(), [
      { event_id: poison.eventId, dlq_stream: 'identity.dlq', dlq_id: dead.id },
    ]);
    assert.deepEqual(
      (await outboxRows()).map((r) => r.event_id),
      [poison.eventId, behindPoison.eventId],
    );
    const [kept] =
      (await db.sql`select payload::text from outbox where event_id = ${poison.eventId}`) as never as [
        { payload: string },
      ];
    assert.equal(kept.payload, stored.payload);

    const relay = running.relay;
    const metrics = await metricsWhen(
      relay,
      (m) => (m.events_published_total as Record<string, number>).identity === 5,
    );
    assert.deepEqual(metrics.events_dlq_total, { identity: 1 });
    // The held row waits; the dead row is the DLQ's to count.
    assert.equal((await db.store.outbox.backlog()).count, 1);
    assert.equal(metrics.publish_failure_total, 1);
    const moved = running.logs().filter((line) => line.includes(`Moved event ${poison.eventId} to DLQ: `));
    assert.equal(moved.length, 1);
    assert.equal(running.logs().filter((line) => line.includes('Moved event')).length, 1);
  });

  it('holds an aggregate behind a failure from an earlier batch of the same transaction', async () => {
    await setup();
    const aggregate = uuidv7();
    const poison = event(aggregate, { notes: 'x'.repeat(1_500) });
    const behind = event(aggregate, { notes: 'small' });
    const other = event(uuidv7(), { notes: 'fine' });
    await insert([poison, behind, other]);
    // One row per batch: the row behind the poison is claimed while the poison is still being
    // published, so only the relay's memory of the failed aggregate can hold it back.
    running = await startTestRelay(
      { store: db.store, bus },
      {
        ...fast,
        maxEventBytes: 1_000,
        batchSize: 1,
        batchesPerCommit: 5,
        retryBackoffMs: 5_000,
        retryBackoffMaxMs: 5_000,
      },
    );
    await eventually(async () => (await bus.len('identity')) === 1, 5_000, { message: 'the other event' });
    const [published] = await readStream(bus, 'identity');
    assert.equal(published?.fields.event_id, other.eventId);
    // Published before the commit: wait for the committed outcome.
    const rows = await eventually(async () => {
      const found = await outboxRows();
      return found.length === 2 ? found : undefined;
    }, 5_000);
    assert.deepEqual(rows, [
      { event_id: poison.eventId, attempts: 1 },
      { event_id: behind.eventId, attempts: 0 },
    ]);
  });

  it('dead-letters an event whose stream key holds another type (WRONGTYPE)', async () => {
    await setup();
    await redis.client.set(`${redis.prefix}identity`, 'not a stream');
    const wrong = event(uuidv7(), { notes: 'fine' });
    await insert([wrong]);
    running = await startTestRelay({ store: db.store, bus }, { ...fast, maxAttempts: 2 });
    await eventually(async () => (await bus.len('identity.dlq')) === 1, 10_000);
    const [dead] = await readStream(bus, 'identity.dlq');
    assert.equal(dead?.fields.event_id, wrong.eventId);
    assert.match(dead?.fields.dlq_error_message ?? '', /^WRONGTYPE/);
    assert.equal(dead?.fields.dlq_attempts, '2');
    await eventually(async () => (await deadRows()).length === 1, 5_000, { message: 'row kept as dead' });
    assert.deepEqual(await deadRows(), [
      { event_id: wrong.eventId, dlq_stream: 'identity.dlq', dlq_id: dead?.id },
    ]);
  });

  it('keeps the row in the outbox while its dead letter cannot be written', async () => {
    await setup();
    await redis.client.set(`${redis.prefix}identity`, 'not a stream');
    await redis.client.set(`${redis.prefix}identity.dlq`, 'not a stream either');
    const stuck = event(uuidv7(), { notes: 'fine' });
    await insert([stuck]);
    running = await startTestRelay({ store: db.store, bus }, { ...fast, maxAttempts: 2 });
    await eventually(async () => ((await outboxRows())[0]?.attempts ?? 0) >= 4, 10_000, {
      message: 'attempts past the maximum',
    });
    assert.deepEqual(
      (await outboxRows()).map((r) => r.event_id),
      [stuck.eventId],
    );
    assert.equal(running.logs().filter((line) => line.includes('Moved event')).length, 0);
    assert.deepEqual((await jsonMetrics(running.relay)).events_dlq_total, { identity: 0 });

    await redis.client.del(`${redis.prefix}identity.dlq`);
    await eventually(async () => (await bus.len('identity.dlq')) === 1, 10_000, { message: 'dead letter' });
    const relay = running.relay;
    await eventually(async () => (await deadRows()).length === 1, 5_000, { message: 'row kept as dead' });
    await eventually(
      async () => ((await jsonMetrics(relay)).events_dlq_total as Record<string, number>).identity === 1,
      5_000,
      { message: 'events_dlq_total.identity = 1' },
    );
  });
});
