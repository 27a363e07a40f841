// Events that fail on their own merits: attempts counted with backoff, then <topic>.dlq with every
// field of the event plus the relay-stage failure; the row leaves the outbox only once that is written.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { compareStreamIds, uuidv7 } from '../src/core/ids.ts';
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

  it('moves an oversized event to identity.dlq after max attempts without blocking other aggregates', async () => {
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
      { ...fast, retryBackoffMs: 400, retryBackoffMaxMs: 800, maxEventBytes: 1_000, maxAttempts: 3 },
    );
    // Between attempts: the poison counts one failure, the event behind it waits without counting any.
    const between = await eventually(async () => {
      const rows = await outboxRows();
      return rows.length === 2 && rows[0]?.attempts === 1 ? rows : undefined;
    }, 5_000);
    assert.deepEqual(between, [
      { event_id: poison.eventId, attempts: 1 },
      { event_id: behindPoison.eventId, attempts: 0 },
    ]);
    await eventually(async () => (await bus.len('identity.dlq')) === 1, 10_000, { message: 'dead letter' });
    await eventually(async () => (await bus.len('identity')) === 6, 5_000, { message: 'the other events' });

    const [dead] = await readStream(bus, 'identity.dlq');
    assert.ok(dead);
    const f = dead.fields;
    assert.equal(f.event_id, poison.eventId);
    assert.equal(f.event_type, 'user.updated');
    assert.equal(f.topic, 'identity');
    assert.equal(f.aggregate_type, 'user');
    assert.equal(f.aggregate_id, poisonAggregate);
    assert.equal(f.payload, stored.payload);
    assert.equal(f.occurred_at, stored.occurred_at.toISOString());
    assert.equal(f.outbox_id, stored.id);
    assert.deepEqual(JSON.parse(f.headers ?? ''), { correlation_id: 'c-1' });
    assert.equal(f.schema_version, '1');
    assert.equal(f.dlq_stage, 'relay');
    assert.equal(f.dlq_origin_stream, 'identity');
    assert.equal(f.dlq_error_class, 'PermanentError');
    assert.match(f.dlq_error_message ?? '', /bytes, over --max-event-bytes 1000/);
    assert.equal(f.dlq_attempts, '3');
    assert.ok(f.dlq_first_failed_at && f.dlq_failed_at && f.dlq_first_failed_at < f.dlq_failed_at);
    assert.match(f.dlq_fingerprint ?? '', /^[0-9a-f]{12}$/);

    const published = await readStream(bus, 'identity');
    const position = (eventId: string): string =>
      published.find((e) => e.fields.event_id === eventId)?.id ?? assert.fail(`${eventId} not published`);
    for (const other of others) {
      assert.ok(compareStreamIds(position(other.eventId), dead.id) < 0, 'others went ahead of the poison');
    }
    // Same pipeline at best, so the same millisecond (ids are per stream): never earlier.
    assert.ok(compareStreamIds(position(behindPoison.eventId), dead.id) >= 0, 'its aggregate waited');
    await eventually(async () => (await outboxRows()).length === 0, 5_000, { message: 'outbox emptied' });

    const relay = running.relay;
    const metrics = await metricsWhen(
      relay,
      (m) => (m.events_published_total as Record<string, number>).identity === 6,
    );
    assert.deepEqual(metrics.events_dlq_total, { identity: 1 });
    assert.deepEqual(metrics.events_published_total, { identity: 6 });
    assert.equal(metrics.publish_failure_total, 3);
    assert.equal(metrics.success_rate, Math.round((6 / 9) * 10_000) / 100);
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
    assert.deepEqual(await outboxRows(), [
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
    await eventually(async () => (await outboxRows()).length === 0, 5_000, { message: 'outbox emptied' });
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
    await eventually(async () => (await outboxRows()).length === 0, 5_000);
    await eventually(
      async () => ((await jsonMetrics(relay)).events_dlq_total as Record<string, number>).identity === 1,
      5_000,
      { message: 'events_dlq_total.identity = 1' },
    );
  });
});
