// mm-consumer while Postgres or Redis is down: it waits and retries with backoff, health says why,
// no event burns a delivery attempt, and everything is applied once after recovery.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { assertNoBinariesLeft, type RunningBinary, startBinary } from './helpers/binaries.ts';
import { addEntries, type TestEvent, userEvent } from './helpers/consumer-events.ts';
import { eventually } from './helpers/eventually.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { type RedisServer, recordPartitionsAt, startRedisServer, useTestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

const GROUP = 'markdown-lint-consumer';

type Health = { status: string; checks: Record<string, { status: string; reason?: string }> };

describe('mm-consumer during outages', { skip: await skipUnless('postgres', 'redis') }, () => {
  const db = useTestDatabase();
  const redis = useTestRedis({ perTest: true });
  let server: RedisServer | undefined;
  let proxy: TcpProxy | undefined;

  afterEach(async () => {
    assertNoBinariesLeft();
    await server?.kill();
    await proxy?.close();
    server = undefined;
    proxy = undefined;
  });

  const health = async (c: RunningBinary): Promise<Health> =>
    (await (await fetch(`${c.url}/health/detailed`)).json()) as Health;
  const metrics = async (c: RunningBinary): Promise<Record<string, unknown>> =>
    (await (await fetch(`${c.url}/metrics`)).json()) as Record<string, unknown>;
  const ledgerCount = async (events: readonly TestEvent[]): Promise<number> => {
    const [row] = await db.sql`
      select count(*)::int as n from event_ledger where event_id = any(${events.map((e) => e.eventId)})`;
    return row?.n ?? 0;
  };
  const deliveryCounts = async (client: Redis, stream: string): Promise<number[]> =>
    ((await client.xpending(stream, GROUP, '-', '+', 1000)) as Array<[string, string, number, number]>).map(
      ([, , , deliveries]) => Number(deliveries),
    );
  const batch = (n: number): TestEvent[] => Array.from({ length: n }, () => userEvent());

  it('Postgres unreachable: waits with the batch in memory, burns no attempt, reports why', async () => {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(db.url).port || 5432) });
    const viaProxy = new URL(db.url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const stream = `${redis.prefix}identity`;
    await recordPartitionsAt(redis.url, redis.prefix);
    // One delivery allowed: a single burnt attempt would dead-letter the event.
    const consumer = await startBinary('mm-consumer', [
      'run',
      '--database-url',
      viaProxy.toString(),
      '--redis-url',
      redis.url,
      '--key-prefix',
      redis.prefix,
      '--max-deliveries',
      '1',
      '--claim-idle-ms',
      '300',
      '--block-ms',
      '200',
    ]);
    const before = batch(10);
    await addEntries(
      redis.client,
      stream,
      before.map((e) => e.fields),
    );
    await eventually(async () => (await ledgerCount(before)) === 10, 10_000);

    await proxy.down();
    const during = batch(20);
    await addEntries(
      redis.client,
      stream,
      during.map((e) => e.fields),
    );
    await eventually(async () => {
      const report = await health(consumer);
      return (
        report.status === 'unhealthy' &&
        report.checks.database?.status === 'unhealthy' &&
        /waiting for database: apply batch failed/.test(report.checks.consumer?.reason ?? '')
      );
    }, 10_000);
    await eventually(async () => (await deliveryCounts(redis?.client as Redis, stream)).length === 20);
    // Several claim intervals pass: every pending entry has been idle past --claim-idle-ms 3 times over.
    await eventually(async () => {
      const pending = (await redis.client.xpending(stream, GROUP, '-', '+', 1000)) as Array<
        [string, string, number]
      >;
      return pending.length === 20 && pending.every(([, , idleMs]) => Number(idleMs) >= 900);
    }, 10_000);
    assert.deepEqual(
      await deliveryCounts(redis.client, stream),
      Array(20).fill(1),
      'no delivery was counted',
    );
    assert.equal(await redis.client.xlen(`${redis.prefix}identity.dlq`), 0);

    await proxy.up();
    await eventually(async () => (await ledgerCount(during)) === 20, 20_000);
    await eventually(async () => (await deliveryCounts(redis?.client as Redis, stream)).length === 0);
    const m = await metrics(consumer);
    assert.equal(m.events_processed_failure, 0);
    assert.equal(m.events_processed_success, 30);
    assert.equal(await redis.client.xlen(`${redis.prefix}identity.dlq`), 0);
    await eventually(async () => (await health(consumer)).status === 'healthy', 10_000);
    const log = consumer.output();
    assert.match(log, /apply batch failed, retrying with backoff: database unavailable/);
    assert.match(log, /apply batch recovered after \d+ retries/);
    assert.match(log, /Service consumer is unhealthy: database: /);
    assert.doesNotMatch(log, /Failed to process event/);

    // Connections killed mid-flow (a Postgres restart, a failover): retried, nothing fails,
    // three times: a kill can land on a connection that is still being set up.
    for (let round = 0; round < 3; round += 1) {
      const flow = batch(200);
      const adding = (async () => {
        for (let i = 0; i < flow.length; i += 20) {
          await addEntries(
            redis?.client as Redis,
            stream,
            flow.slice(i, i + 20).map((e) => e.fields),
          );
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      const killed = await db.sql`select pg_terminate_backend(pid) from pg_stat_activity
                   where datname = ${db.name} and application_name = 'mm-consumer'`;
      assert.ok(killed.length > 0, 'the consumer had connections to kill');
      await adding;
      await eventually(async () => (await ledgerCount(flow)) === 200, 20_000).catch((error: Error) => {
        throw new Error(`${error.message}; consumer log:\n${consumer.output().slice(-4000)}`);
      });
    }
    assert.equal((await metrics(consumer)).events_processed_failure, 0);
    assert.equal(await redis.client.xlen(`${redis.prefix}identity.dlq`), 0);
    assert.equal(await consumer.stop(), 0);
  });

  it('Redis down: waits, reports why, and carries on when it is back', async () => {
    server = await startRedisServer({ appendOnly: true });
    const client = new Redis(server.url, { maxRetriesPerRequest: 1, lazyConnect: true });
    client.on('error', () => {});
    try {
      await client.connect();
      await recordPartitionsAt(server.url);
      const consumer = await startBinary('mm-consumer', [
        'run',
        '--database-url',
        db.url,
        '--redis-url',
        server.url,
        '--block-ms',
        '200',
      ]);
      const first = batch(10);
      await addEntries(
        client,
        'identity',
        first.map((e) => e.fields),
      );
      await eventually(async () => (await ledgerCount(first)) === 10, 10_000);

      await server.stop();
      await eventually(async () => {
        const report = await health(consumer);
        return (
          report.checks.redis?.status === 'unhealthy' &&
          /waiting for redis: read stream failed/.test(report.checks.consumer?.reason ?? '')
        );
      }, 15_000);
      await server.restart();
      const second = batch(10);
      await eventually(async () => {
        await addEntries(
          client,
          'identity',
          second.map((e) => e.fields),
        );
        return true;
      }, 10_000);
      await eventually(async () => (await ledgerCount(second)) === 10, 20_000);
      assert.equal((await metrics(consumer)).events_processed_failure, 0);
      assert.equal(await client.xlen('identity.dlq'), 0);
      assert.match(consumer.output(), /read stream recovered after \d+ retries/);
      assert.equal(await consumer.stop(), 0);
    } finally {
      client.disconnect();
    }
  });
});
