// The built relay as operators run it: kill -9 mid-batch and restart loses nothing, SIGTERM finishes
// the batch in flight and exits 0 (also while Redis hangs), bad flags exit 78 naming every problem.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { uuidv7 } from '../src/core/ids.ts';
import type { Bus } from '../src/ports/bus.ts';
import type { NewOutboxEvent } from '../src/ports/outbox.ts';
import { assertNoBinariesLeft, runBinary, startBinary } from './helpers/binaries.ts';
import { eventually } from './helpers/eventually.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { type RedisServer, startRedisServer } from './helpers/redis.ts';
import { assertPerAggregateOrder, createTestBus, distinctEventIds, readStream } from './helpers/relay.ts';
import { skipUnless } from './helpers/services.ts';

const events = (count: number): NewOutboxEvent[] =>
  Array.from({ length: count }, (_, i) => ({
    eventId: uuidv7(),
    topic: 'identity',
    eventType: 'user.updated',
    aggregateType: 'user',
    aggregateId: `agg-${i % 300}`,
    payload: { n: i, email: `u${i}@example.com` },
  }));

describe('mm-relay process drills', { skip: await skipUnless('postgres') }, () => {
  const db = useTestDatabase();
  let server: RedisServer | undefined;
  let bus: Bus | undefined;

  afterEach(async () => {
    await bus?.close();
    bus = undefined;
    await server?.kill();
    server = undefined;
    await db.sql`delete from outbox`;
    assertNoBinariesLeft();
  });

  const setup = async (): Promise<Bus> => {
    server = await startRedisServer();
    bus = createTestBus(server.url, '');
    return bus;
  };
  const relayArgs = (extra: string[] = []): string[] => [
    'run',
    '--database-url',
    db.url,
    '--redis-url',
    server?.url ?? '',
    '--poll-interval-ms',
    '100',
    // A relay killed (or cut short) keeps its partition lease until it runs out: the next relay of
    // these drills takes over within a second.
    '--lease-ms',
    '1000',
    // The drills count every entry, so nothing may be trimmed.
    '--stream-maxlen',
    '0',
    '--stream-hard-max',
    '0',
    ...extra,
  ];
  const insert = async (list: NewOutboxEvent[]): Promise<void> => {
    for (let i = 0; i < list.length; i += 5_000) {
      const slice = list.slice(i, i + 5_000);
      await db.store.withTransaction((tx) => tx.outbox.insert(slice));
    }
  };
  const outboxEventIds = async (): Promise<string[]> =>
    (await db.sql<{ event_id: string }[]>`select event_id::text from outbox`).map((r) => r.event_id);

  it('loses nothing when killed with SIGKILL mid-batch and restarted', async () => {
    const reader = await setup();
    const written = events(30_000);
    await insert(written);
    const first = await startBinary('mm-relay', relayArgs(['--batch-size', '200']));
    await eventually(async () => (await reader.len('identity')) >= 2_000, 20_000);
    assert.equal(await first.stop('SIGKILL'), null);
    const atKill = await reader.len('identity');
    assert.ok(atKill < written.length, `killed mid-way (${atKill} of ${written.length} published)`);

    const second = await startBinary('mm-relay', relayArgs(['--batch-size', '500']));
    await eventually(async () => (await outboxEventIds()).length === 0, 40_000, {
      message: 'outbox drained',
    });
    const entries = await readStream(reader, 'identity');
    assert.deepEqual(distinctEventIds(entries), new Set(written.map((e) => e.eventId)));
    assertPerAggregateOrder(entries);
    assert.equal(await reader.len('identity.dlq'), 0);
    assert.equal(await second.stop(), 0);
  });

  it('finishes the batch in flight on SIGTERM and exits 0; nothing is lost or published twice', async () => {
    const reader = await setup();
    const written = events(20_000);
    await insert(written);
    const relay = await startBinary('mm-relay', relayArgs(['--batch-size', '500']));
    await eventually(async () => (await reader.len('identity')) >= 1_000, 20_000);
    assert.equal(await relay.stop('SIGTERM'), 0);
    assert.match(relay.output(), /mm-relay stopping on SIGTERM/);
    assert.match(relay.output(), /mm-relay stopped/);
    const entries = await readStream(reader, 'identity');
    const published = distinctEventIds(entries);
    assert.equal(published.size, entries.length, 'a graceful stop publishes nothing twice');
    const left = await outboxEventIds();
    for (const id of left) assert.ok(!published.has(id), `${id} both published and still in the outbox`);
    assert.equal(published.size + left.length, written.length, 'every event published or still waiting');
  });

  it('exits 0 within --shutdown-timeout-ms on SIGTERM while Redis hangs', async () => {
    const reader = await setup();
    await insert(events(200));
    const relay = await startBinary('mm-relay', relayArgs(['--shutdown-timeout-ms', '2000']));
    // Running (partitions taken, the first rows out) before Redis hangs.
    await eventually(async () => (await reader.len('identity')) === 200, 10_000);
    server?.pause();
    await insert(events(50));
    // A batch is now waiting on Redis: the relay's drain transaction stays open.
    await eventually(async () => {
      const [open] = await db.sql`select count(*)::int as n from pg_stat_activity
        where datname = ${db.name} and application_name = 'mm-relay' and state = 'idle in transaction'`;
      return (open?.n ?? 0) > 0;
    }, 10_000);
    const started = Date.now();
    assert.equal(await relay.stop('SIGTERM'), 0);
    assert.ok(Date.now() - started < 3_000, `took ${Date.now() - started} ms`);
    server?.resume();
  });

  it('exits at once on a second SIGTERM while the first one drains; nothing is lost', async () => {
    const reader = await setup();
    const written = events(250);
    await insert(written.slice(0, 200));
    const relay = await startBinary('mm-relay', relayArgs(['--shutdown-timeout-ms', '60000']));
    await eventually(async () => (await reader.len('identity')) === 200, 10_000);
    server?.pause();
    await insert(written.slice(200));
    await eventually(async () => {
      const [open] = await db.sql`select count(*)::int as n from pg_stat_activity
        where datname = ${db.name} and application_name = 'mm-relay' and state = 'idle in transaction'`;
      return (open?.n ?? 0) > 0;
    }, 10_000);
    process.kill(relay.pid, 'SIGTERM');
    await relay.waitForLog(/mm-relay stopping on SIGTERM/);
    // A signal within a second of the first counts as the same one (a terminal and npm both forward
    // Ctrl-C); the operator's second SIGTERM comes later.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    assert.equal(await relay.stop('SIGTERM'), 1, 'the second SIGTERM ends the drain');
    assert.doesNotMatch(relay.output(), /mm-relay stopped/);
    server?.resume();
    const published = distinctEventIds(await readStream(bus ?? assert.fail('no bus'), 'identity'));
    const left = await outboxEventIds();
    assert.equal(
      new Set([...published, ...left]).size,
      written.length,
      'every event published or still waiting',
    );
  });

  it('exits 78 on bad configuration, naming every problem', async () => {
    const result = await runBinary(
      'mm-relay',
      [
        'run',
        '--batch-size',
        '0',
        '--max-attempts',
        'many',
        '--stream-maxlen',
        '500',
        '--stream-hard-max',
        '10',
        '--max-event-bytes',
        '12',
        '--redis-url',
        'http://x',
      ],
      { env: { DATABASE_URL: '', MM_LOCAL: '', MM_RELAY_BATCHES_PER_COMMIT: 'lots' } },
    );
    assert.equal(result.code, 78);
    for (const expected of [
      '--batch-size must be an integer',
      '--max-attempts must be an integer',
      '--stream-hard-max (10) must be at least --stream-maxlen (500)',
      '--max-event-bytes must be an integer',
      '--redis-url must be a redis:// URL',
      '--batches-per-commit (env MM_RELAY_BATCHES_PER_COMMIT) must be an integer',
      '--database-url (DATABASE_URL) is required',
    ]) {
      assert.ok(result.stderr.includes(expected), `stderr lacks "${expected}":\n${result.stderr}`);
    }
    const unknown = await runBinary('mm-relay', ['run', '--no-such-flag']);
    assert.equal(unknown.code, 64);
  });
});
