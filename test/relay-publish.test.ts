// The relay in process against the real Postgres and Redis: every event arrives once and in
// per-aggregate order, runbook metrics, Prometheus text, health thresholds, and two relays at once
// (one partition: one holds it, the other stands by).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { afterEach, describe, it } from 'node:test';
import { createPostgresStore } from '../src/adapters/postgres/store.ts';
import type { Bus } from '../src/ports/bus.ts';
import { outboxPartitionResource, RELAY_LEASE_GROUP } from '../src/relay/relay-partitions.ts';
import { eventually } from './helpers/eventually.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { useTestRedis } from './helpers/redis.ts';
import {
  assertPerAggregateOrder,
  createTestBus,
  detailedHealth,
  distinctEventIds,
  jsonMetrics,
  metricsWhen,
  readStream,
  startTestRelay,
  type TestRelay,
  writeUserEvents,
} from './helpers/relay.ts';
import { skipUnless } from './helpers/services.ts';

describe('mm-relay publishing', { skip: await skipUnless('postgres', 'redis') }, () => {
  const db = useTestDatabase();
  const redis = useTestRedis({ perTest: true });
  let bus: Bus;
  const relays: TestRelay[] = [];

  afterEach(async () => {
    const left = relays.splice(0);
    for (const r of left) await r.relay.stop();
    await bus.close();
    await db.sql`delete from outbox`;
  });
  const freshBus = async (): Promise<Bus> => {
    bus = createTestBus(redis.url, redis.prefix);
    return bus;
  };
  const start = async (options: Parameters<typeof startTestRelay>[1] = {}): Promise<TestRelay> => {
    const started = await startTestRelay({ store: db.store, bus }, options);
    relays.push(started);
    return started;
  };

  it('publishes 10,000 events written by the backend to identity, once each, in per-aggregate order', async () => {
    await freshBus();
    const { relay } = await start();
    // The test database only: commits need not wait for the disk, so 10,000 transactions go fast.
    await db.sql.unsafe(`alter database ${db.name} set synchronous_commit = off`);
    const writer = createPostgresStore({ url: db.url, maxConnections: 8, applicationName: 'mm-test-writer' });
    const written = await writeUserEvents(writer, {
      users: 2_000,
      updatesPerUser: 4,
      concurrency: 16,
    }).finally(() => writer.close());
    assert.equal(written.length, 10_000);
    await eventually(async () => (await bus.len('identity')) >= 10_000, 30_000, {
      message: '10,000 entries',
    });
    const entries = await readStream(bus, 'identity');
    assert.equal(entries.length, 10_000, 'no event published twice without a fault');
    assert.deepEqual(distinctEventIds(entries), new Set(written.map((w) => w.eventId)));
    assertPerAggregateOrder(entries);
    const first = entries[0]?.fields ?? {};
    assert.deepEqual(Object.keys(first), [
      'event_id',
      'event_type',
      'topic',
      'aggregate_type',
      'aggregate_id',
      'payload',
      'occurred_at',
      'outbox_id',
      'headers',
      'schema_version',
    ]);
    assert.equal(JSON.parse(first.payload ?? '').id, first.aggregate_id);
    assert.deepEqual(JSON.parse(first.headers ?? ''), {});
    assert.equal(first.schema_version, '1');
    const metrics = await metricsWhen(
      relay,
      (m) => m.outbox_backlog === 0 && m.publish_success_total === 10_000,
    );
    assert.deepEqual(Object.keys(metrics).sort(), [
      'events_dlq_total',
      'events_published_total',
      'outbox_backlog',
      'outbox_oldest_age_seconds',
      'partitions',
      'partitions_owned',
      'publish_failure_total',
      'publish_success_total',
      'success_rate',
    ]);
    // The only partition (N = 1), held by the only relay.
    assert.equal(metrics.partitions_owned, 1);
    assert.equal(metrics.partitions, 1);
    assert.deepEqual(metrics.events_published_total, { identity: 10_000 });
    assert.deepEqual(metrics.events_dlq_total, { identity: 0 });
    assert.equal(metrics.publish_success_total, 10_000);
    assert.equal(metrics.publish_failure_total, 0);
    assert.equal(metrics.success_rate, 100);
    const [{ count }] = (await db.sql`select count(*)::int as count from outbox`) as unknown as [
      { count: number },
    ];
    assert.equal(count, 0);
  });

  it('serves Prometheus text that promtool accepts, with the runbook metric names', async () => {
    await freshBus();
    const { relay } = await start();
    await writeUserEvents(db.store, { users: 5, updatesPerUser: 1 });
    await eventually(async () => (await bus.len('identity')) === 10, 10_000);
    await eventually(async () => (await jsonMetrics(relay)).publish_success_total === 10, 2_000);
    const text = await (await relay.app.request('/metrics/prometheus')).text();
    for (const line of [
      'events_published_total{topic="identity"} 10',
      'events_dlq_total{topic="identity",stage="relay"} 0',
      'publish_success_total 10',
      'publish_failure_total 0',
      'stream_trimmed_unconsumed_total{stream="identity",group=""} 0',
      'relay_partitions_owned 1',
      'relay_partitions 1',
    ]) {
      assert.ok(text.includes(`\n${line}\n`), `missing "${line}"`);
    }
    for (const name of [
      'outbox_backlog',
      'outbox_oldest_age_seconds',
      'relay_publish_batch_duration_seconds_bucket',
      'relay_commit_to_publish_seconds_bucket',
    ]) {
      assert.match(text, new RegExp(`^${name}`, 'm'));
    }
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(check.status, 0, `promtool: ${check.stdout}${check.stderr}`);
  });

  /** Holds the relays' only partition (N = 1) under another relay's name, so a relay owns nothing and rows stay. */
  const withPartitionHeld = async (body: () => Promise<void>): Promise<void> => {
    const lease = await db.store.leases.acquire(
      RELAY_LEASE_GROUP,
      outboxPartitionResource(0),
      'elsewhere',
      60_000,
    );
    assert.ok(lease, 'the partition lease taken');
    try {
      await body();
    } finally {
      await db.store.leases.release({ ...lease, group: RELAY_LEASE_GROUP });
    }
  };

  it('measures the backlog continuously, reports it on /health/detailed, degraded above --backlog-warn', async () => {
    await freshBus();
    await withPartitionHeld(async () => {
      const standby = await start({
        backlogSampleMs: 50,
        pollIntervalMs: 50,
        backlogWarn: 3,
        backlogAgeWarnS: 0,
      });
      await writeUserEvents(db.store, { users: 7, updatesPerUser: 0 });
      // Nobody reads /health: the sampler alone moves the gauge.
      await eventually(async () => (await jsonMetrics(standby.relay)).outbox_backlog === 7, 5_000);
      const report = await detailedHealth(standby.relay);
      assert.equal(report.checks.outbox?.status, 'degraded');
      assert.equal(report.checks.outbox?.backlog, 7);
      assert.match(report.checks.outbox?.reason ?? '', /7 rows waiting, over --backlog-warn 3/);
      assert.match(
        report.checks.outbox?.reason ?? '',
        /oldest row waiting \d+ s, over --backlog-age-warn-s 0/,
      );
      assert.equal(report.checks.database?.status, 'healthy');
      assert.equal(report.checks.redis?.status, 'healthy');
      assert.equal(report.checks.relay?.partitions_owned, 0);
      assert.deepEqual(report.checks.relay?.partitions, []);
      assert.equal((await jsonMetrics(standby.relay)).partitions_owned, 0);
      assert.equal(report.status, 'degraded');
    });
  });

  it('runs as two relays at once: nothing missing, per-aggregate order kept', async () => {
    await freshBus();
    const other = createPostgresStore({ url: db.url, maxConnections: 4, applicationName: 'mm-relay-2' });
    try {
      const one = await start({ batchSize: 50, pollIntervalMs: 20 });
      const two = await startTestRelay({ store: other, bus }, { batchSize: 50, pollIntervalMs: 20 });
      relays.push(two);
      const written = await writeUserEvents(db.store, { users: 400, updatesPerUser: 4, concurrency: 8 });
      await eventually(async () => (await bus.len('identity')) >= written.length, 30_000);
      const entries = await readStream(bus, 'identity');
      assert.deepEqual(distinctEventIds(entries), new Set(written.map((w) => w.eventId)));
      assert.equal(entries.length, written.length, 'each event published once');
      assertPerAggregateOrder(entries);
      const published = async (r: TestRelay): Promise<number> =>
        ((await jsonMetrics(r.relay)).events_published_total as Record<string, number>).identity ?? 0;
      await eventually(
        async () => (await published(one)) + (await published(two)) === written.length,
        5_000,
        { message: 'the two relays together counted every event once' },
      );
      // One partition (N = 1): one relay holds it, the other stands by.
      const owned = async (r: TestRelay): Promise<number> =>
        (await jsonMetrics(r.relay)).partitions_owned as number;
      assert.equal((await owned(one)) + (await owned(two)), 1, 'partitions_owned sums to N over the relays');
      await two.relay.stop();
    } finally {
      await other.close();
    }
  });
});
