// mm-consumer failure paths against real Postgres and Redis: retries, the DLQ, unparseable entries,
// events without a handler.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { loadHandlerModule } from '../src/consumer/handler-module.ts';
import { addEntries, readStream, userEvent } from './helpers/consumer-events.ts';
import { type RunningConsumer, startConsumer } from './helpers/consumer-harness.ts';
import { eventually } from './helpers/eventually.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { useTestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

const GROUP = 'markdown-lint-consumer';

describe('mm-consumer failure paths', { skip: await skipUnless('postgres', 'redis') }, () => {
  const db = useTestDatabase();
  const redis = useTestRedis({ perTest: true });
  const running: RunningConsumer[] = [];
  const stream = (): string => `${redis.prefix}identity`;
  const dlq = (): string => `${redis.prefix}identity.dlq`;
  const start = async (options: Parameters<typeof startConsumer>[1] = {}): Promise<RunningConsumer> => {
    const consumer = await startConsumer(
      { store: db.store, redisUrl: redis.url, keyPrefix: redis.prefix },
      options,
    );
    running.push(consumer);
    return consumer;
  };
  const pendingIds = async (group = GROUP): Promise<Array<{ id: string; deliveries: number }>> =>
    (
      (await redis.client.xpending(stream(), group, '-', '+', 100)) as Array<[string, string, number, number]>
    ).map(([id, , , deliveries]) => ({ id, deliveries }));
  const applied = async (ids: readonly string[]): Promise<number> => {
    const [row] =
      await db.sql`select count(*)::int as n from event_ledger where event_id = any(${ids as string[]})`;
    return row?.n ?? 0;
  };

  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.stop()));
  });

  it('dead-letters an event its handler rejects as invalid on the first failure, with every field, while other events flow', async () => {
    const poison = userEvent({ payload: { broken: true }, headers: { correlation_id: 'c-1' } });
    const [poisonId] = await addEntries(redis.client, stream(), [poison.fields]);
    const consumer = await start({ claimIdleMs: 400, maxDeliveries: 5 });
    // Each wave is applied while the poison event is still pending and being retried.
    for (let wave = 0; wave < 3; wave += 1) {
      const events = Array.from({ length: 20 }, () => userEvent());
      await addEntries(
        redis.client,
        stream(),
        events.map((e) => e.fields),
      );
      await eventually(async () => (await applied(events.map((e) => e.eventId))) === 20, 10_000);
    }
    await eventually(async () => (await redis.client.xlen(dlq())) === 1, 15_000);
    const [dead] = await readStream(redis.client, dlq());
    const fields = dead?.fields ?? {};
    for (const [name, value] of Object.entries(poison.fields))
      assert.equal(fields[name], value, `original ${name}`);
    assert.equal(fields.dlq_stage, 'consumer');
    assert.equal(fields.dlq_origin_stream, 'identity');
    assert.equal(fields.dlq_origin_id, poisonId);
    assert.equal(fields.dlq_consumer_group, GROUP);
    assert.equal(fields.dlq_error_class, 'ValidationError');
    assert.match(fields.dlq_error_message ?? '', /payload\.id is missing; payload\.email is missing/);
    assert.match(fields.dlq_error_stack ?? '', /ValidationError/);
    // A ValidationError fails every delivery the same way: no retries.
    assert.equal(fields.dlq_attempts, '1');
    assert.ok(Date.parse(fields.dlq_first_failed_at ?? '') <= Date.parse(fields.dlq_failed_at ?? ''));
    assert.match(fields.dlq_fingerprint ?? '', /^[0-9a-f]{12}$/);
    assert.deepEqual(await pendingIds(), [], 'acknowledged with the dead letter');
    assert.equal(await applied([poison.eventId]), 0, 'no ledger row for a dead-lettered event');
    const logs = consumer.logs().join('');
    assert.equal(
      logs.split(`Failed to process event ${poison.eventId}: invalid user.created payload`).length - 1,
      1,
    );
    assert.match(logs, new RegExp(`Moved event ${poison.eventId} to DLQ: ValidationError`));
    const metrics = await consumer.metrics();
    assert.equal(metrics.events_processed_failure, 1);
    assert.equal(metrics.events_processed_success, 60);
    assert.deepEqual(metrics.events_dlq_total, { identity: 1 });
    assert.equal(metrics.success_rate, 98.36);
  });

  it('retries a failing event after --claim-idle-ms and applies it once it succeeds', async () => {
    const handlers = await loadHandlerModule('fixtures/handlers/fault-gate.mjs', process.cwd());
    const flaky = userEvent({ headers: { fail_until_delivery: 3 } });
    await addEntries(redis.client, stream(), [flaky.fields]);
    const consumer = await start({ claimIdleMs: 200, handlers });
    await eventually(async () => (await applied([flaky.eventId])) === 1, 10_000);
    assert.equal(
      consumer.logs().filter((l) => l.includes(`Failed to process event ${flaky.eventId}`)).length,
      2,
    );
    assert.equal(await redis.client.xlen(dlq()), 0);
    const [profile] = await db.sql`select version from lint_profiles where user_id = ${flaky.userId}`;
    assert.equal(profile?.version, 1);
  });

  it('dead-letters unparseable entries at once with their raw fields, never acking them silently', async () => {
    const garbage = { hello: 'world' };
    const badJson = { ...userEvent().fields, payload: '{"id": ' };
    const good = userEvent();
    const [garbageId, badJsonId] = await addEntries(redis.client, stream(), [garbage, badJson, good.fields]);
    const consumer = await start();
    await eventually(async () => (await redis.client.xlen(dlq())) === 2, 10_000);
    const dead = await readStream(redis.client, dlq());
    const byOrigin = new Map(dead.map((d) => [d.fields.dlq_origin_id, d.fields]));
    assert.equal(byOrigin.get(garbageId)?.hello, 'world');
    assert.match(
      byOrigin.get(garbageId)?.dlq_error_message ?? '',
      /unparseable event: missing field event_id/,
    );
    assert.equal(byOrigin.get(badJsonId)?.payload, '{"id": ');
    assert.match(byOrigin.get(badJsonId)?.dlq_error_message ?? '', /field payload is not JSON/);
    assert.equal(byOrigin.get(badJsonId)?.dlq_attempts, '1');
    assert.equal(await applied([good.eventId]), 1);
    await eventually(async () => (await pendingIds()).length === 0);
    assert.match(
      consumer.logs().join(''),
      new RegExp(`Moved event identity/${garbageId} to DLQ: unparseable event`),
    );
  });

  it('records events without a handler as skipped; --strict dead-letters them', async () => {
    const unknown = userEvent({ type: 'user.deleted' });
    await addEntries(redis.client, stream(), [unknown.fields]);
    const consumer = await start();
    const strict = await start({ group: 'strict-consumer', handlers: {}, strict: true });
    await eventually(async () => (await redis.client.xlen(dlq())) === 1, 10_000);
    await eventually(
      async () => (await pendingIds()).length === 0 && (await pendingIds('strict-consumer')).length === 0,
    );
    const rows = await eventually(async () => {
      const found =
        await db.sql`select consumer_group, result from event_ledger where event_id = ${unknown.eventId}`;
      return found.length > 0 ? found.map((r) => ({ ...r })) : undefined;
    });
    assert.deepEqual(rows, [{ consumer_group: GROUP, result: 'skipped' }]);
    assert.deepEqual((await consumer.metrics()).events_skipped_total, { no_handler: 1, duplicate: 0 });
    const [dead] = await readStream(redis.client, dlq());
    assert.equal(dead?.fields.dlq_consumer_group, 'strict-consumer');
    assert.equal(dead?.fields.dlq_error_class, 'PermanentError');
    assert.match(
      dead?.fields.dlq_error_message ?? '',
      /no handler for event type user\.deleted in group strict-consumer/,
    );
    assert.match(
      strict.logs().join(''),
      /has no handlers: every event is recorded as skipped \(--strict: dead-lettered\)/,
    );
  });

  it('creates the group again when it disappears; the ledger absorbs the re-delivery', async () => {
    const first = Array.from({ length: 10 }, () => userEvent());
    await addEntries(
      redis.client,
      stream(),
      first.map((e) => e.fields),
    );
    const consumer = await start();
    await eventually(async () => (await applied(first.map((e) => e.eventId))) === 10);
    await redis.client.xgroup('DESTROY', stream(), GROUP);
    const second = Array.from({ length: 5 }, () => userEvent());
    await addEntries(
      redis.client,
      stream(),
      second.map((e) => e.fields),
    );
    await eventually(async () => (await applied(second.map((e) => e.eventId))) === 5, 10_000);
    await eventually(
      async () => ((await consumer.metrics()).events_skipped_total as { duplicate: number }).duplicate === 10,
    );
    assert.match(consumer.logs().join(''), /consumer group missing .*creating it again/);
    const [row] = await db.sql`
      select max(version)::int as v from lint_profiles where user_id = any(${first.map((e) => e.userId)})`;
    assert.equal(row?.v, 1);
  });
});
