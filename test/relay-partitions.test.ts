// Partitions on the relay, on Postgres + Redis and on a local file: each row goes to its aggregate's
// partition stream in outbox order, the count is recorded with the streams, a change of --partitions
// is refused (exit 78, nothing changed) until the topic is drained, and a drained switch loses and
// reorders nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { openLocalPorts } from '../src/adapters/sqlite/local-ports.ts';
import { parseReplayFrom, runReplay } from '../src/consumer/replay.ts';
import { withDeadline } from '../src/core/bounded.ts';
import { exitCodeFor } from '../src/core/exit-codes.ts';
import { uuidv7 } from '../src/core/ids.ts';
import { silentLogger } from '../src/core/logger.ts';
import { partitionStreams, streamOfAggregate } from '../src/core/partitions.ts';
import { streamsOfTopic } from '../src/core/topic-streams.ts';
import type { Bus, StreamEntry } from '../src/ports/bus.ts';
import type { NewOutboxEvent } from '../src/ports/outbox.ts';
import type { Store } from '../src/ports/store.ts';
import type { RelayOptions } from '../src/relay/relay.ts';
import { bodyOf, testBackend } from './helpers/backend.ts';
import { runBinary } from './helpers/binaries.ts';
import { eventually } from './helpers/eventually.ts';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.ts';
import { createTestRedis } from './helpers/redis.ts';
import {
  assertPerAggregateOrder,
  createTestBus,
  detailedHealth,
  readStream,
  startTestRelay,
  type TestRelay,
} from './helpers/relay.ts';
import { skipUnless } from './helpers/services.ts';

// Each test its own topic, so each starts without a recorded count.
const TOPIC = 'identity';
const GROUP = 'markdown-lint-consumer';

type Ports = {
  readonly store: Store;
  readonly bus: Bus;
  /** The deployment flags of mm-relay on the same database and streams. */
  readonly flags: readonly string[];
  cleanup(): Promise<void>;
};
type Mode = { readonly name: string; readonly skip: string | false; open(): Promise<Ports> };

const event = (topic: string, aggregateId: string, n: number): NewOutboxEvent => ({
  eventId: uuidv7(),
  topic,
  eventType: 'user.updated',
  aggregateType: 'user',
  aggregateId,
  payload: { n },
});

/** `perAggregate` events of each aggregate, interleaved, one transaction per round. */
const writeEvents = async (
  store: Store,
  topic: string,
  aggregates: readonly string[],
  perAggregate: number,
): Promise<void> => {
  for (let n = 1; n <= perAggregate; n += 1) {
    const round = aggregates.map((a) => event(topic, a, n));
    await store.withTransaction((tx) => tx.outbox.insert(round));
  }
};

const allEntries = async (bus: Bus, streams: readonly string[]): Promise<Map<string, StreamEntry[]>> =>
  new Map(await Promise.all(streams.map(async (s) => [s, await readStream(bus, s)] as const)));

const total = (entries: Map<string, StreamEntry[]>): number =>
  [...entries.values()].reduce((sum, list) => sum + list.length, 0);

/** Reads and acknowledges everything the group has not yet, on each stream; returns what it read. */
const consumeAll = async (bus: Bus, streams: readonly string[]): Promise<StreamEntry[]> => {
  const read: StreamEntry[] = [];
  for (const stream of streams) {
    await bus.createGroup(stream, GROUP);
    for (;;) {
      const [batch] = await bus.readGroup({ group: GROUP, consumer: 'c1', streams: [stream], count: 100 });
      const entries = batch?.entries ?? [];
      if (entries.length === 0) break;
      read.push(...entries);
      await bus.ack(
        stream,
        GROUP,
        entries.map((e) => e.id),
      );
    }
  }
  return read;
};

const outboxCount = async (store: Store): Promise<number> => (await store.outbox.backlog()).count;

const modes: Mode[] = [
  {
    name: 'Postgres + Redis',
    skip: await skipUnless('postgres', 'redis'),
    open: async () => {
      const db: TestDatabase = await createTestDatabase();
      const redis = await createTestRedis();
      const bus = createTestBus(redis.url, redis.prefix);
      return {
        store: db.store,
        bus,
        flags: ['--database-url', db.url, '--redis-url', redis.url, '--key-prefix', redis.prefix],
        cleanup: async () => {
          await bus.close();
          await redis.cleanup();
          await db.drop();
        },
      };
    },
  },
  {
    name: 'local file',
    skip: false,
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'mm-partitions-'));
      const file = join(dir, 'local.db');
      const local = await openLocalPorts({ file, logger: silentLogger });
      return {
        store: local.store,
        bus: local.bus,
        flags: ['--local', file],
        cleanup: async () => {
          await local.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

for (const mode of modes) {
  describe(`relay partitions: ${mode.name}`, { skip: mode.skip }, () => {
    let ports: Ports;
    const relays: TestRelay[] = [];
    before(async () => {
      ports = await mode.open();
    });
    after(async () => {
      await ports.cleanup();
    });
    afterEach(async () => {
      await Promise.all(relays.splice(0).map((r) => r.relay.stop()));
    });

    const start = async (topic: string, partitions: number): Promise<TestRelay> => {
      const options: Partial<RelayOptions> = { pollIntervalMs: 50, topics: [topic], partitions };
      const running = await startTestRelay({ store: ports.store, bus: ports.bus }, options);
      relays.push(running);
      return running;
    };
    const stop = async (running: TestRelay): Promise<void> => {
      await running.relay.stop();
      relays.splice(relays.indexOf(running), 1);
    };
    const reset = async (): Promise<void> => {
      await ports.store.withTransaction((tx) => tx.query('DELETE FROM outbox'));
    };

    it("records the count and sends each aggregate's events to its partition stream, in outbox order", async () => {
      await reset();
      await ports.bus.setPartitions(TOPIC, 4);
      await ports.bus.setPartitions(TOPIC, 4); // same as the relay's: it goes on
      const aggregates = Array.from({ length: 24 }, () => uuidv7());
      await writeEvents(ports.store, TOPIC, aggregates, 5);
      const running = await start(TOPIC, 4);
      const streams = partitionStreams(TOPIC, 4);
      const entries = await eventually(async () => {
        const found = await allEntries(ports.bus, streams);
        return total(found) === aggregates.length * 5 ? found : undefined;
      }, 30_000);
      assert.equal(await ports.bus.partitions(TOPIC), 4);
      assert.deepEqual(await streamsOfTopic(ports.bus, TOPIC), streams);
      assert.equal(await ports.bus.len(TOPIC), 0, 'nothing on the unpartitioned stream');
      for (const [stream, list] of entries) {
        assert.ok(list.length > 0, `${stream} got events (24 aggregates over 4 partitions)`);
        for (const entry of list) {
          assert.equal(stream, streamOfAggregate(TOPIC, entry.fields.aggregate_id ?? '', 4));
        }
        assertPerAggregateOrder(list);
      }
      const health = await detailedHealth(running.relay);
      const busCheck = health.checks.redis ?? health.checks.stream_store;
      assert.deepEqual(Object.keys(busCheck?.streams as object).sort(), [...streams, `${TOPIC}.dlq`].sort());

      // The backend reports the same streams, under the recorded count, in health and metrics.
      const backend = testBackend(ports.store, ports.bus);
      const backendHealth = await bodyOf(await backend.app.request('/health/detailed'));
      const backendStreams = (backendHealth.checks.redis ?? backendHealth.checks.stream_store).streams;
      for (const [stream, list] of entries) assert.equal(backendStreams[stream], list.length);
      assert.equal(backendStreams[TOPIC], undefined);
      const metrics = await bodyOf(await backend.app.request('/monitoring/metrics'));
      assert.deepEqual(Object.keys(metrics.streams).sort(), [...streams, `${TOPIC}.dlq`].sort());
      assert.deepEqual(metrics.dlq_backlog, { [TOPIC]: 0 });

      // mm-consumer replay moves the group on every partition stream.
      assert.equal((await consumeAll(ports.bus, streams)).length, aggregates.length * 5);
      const replay = await runReplay(
        { bus: ports.bus },
        { group: GROUP, topic: TOPIC, from: parseReplayFrom('start'), dryRun: false },
      );
      assert.deepEqual(
        replay.streams.map((r) => r.stream),
        streams,
      );
      assert.equal(replay.redeliver, aggregates.length * 5);
      assert.equal((await consumeAll(ports.bus, streams)).length, aggregates.length * 5);
    });

    it('records the count of a new topic, and refuses an undrained change (exit 78), changing nothing', async () => {
      await reset();
      const topic = 'orders';
      const aggregates = Array.from({ length: 6 }, () => uuidv7());
      await writeEvents(ports.store, topic, aggregates, 3);
      const first = await start(topic, 2);
      await eventually(async () => (await outboxCount(ports.store)) === 0, 30_000);
      assert.equal(await ports.bus.partitions(topic), 2);
      await stop(first);
      // A group that has read nothing yet, and rows still waiting in the outbox.
      const streams = partitionStreams(topic, 2);
      for (const stream of streams) await ports.bus.createGroup(stream, GROUP);
      await writeEvents(ports.store, topic, aggregates, 2);
      const lengths = await Promise.all(streams.map((s) => ports.bus.len(s)));

      const second = await start(topic, 3);
      const error = await withDeadline(second.relay.failed(), 30_000, 'the refused switch');
      assert.equal(exitCodeFor(error), 78);
      assert.match(error.message, /--partitions 3 differs from the 2 partitions recorded for topic orders/);
      assert.match(error.message, /12 outbox rows of orders not yet published/);
      assert.match(
        error.message,
        /orders:\d group markdown-lint-consumer: 0 pending, (\d+|some) not yet delivered/,
      );
      assert.match(error.message, /stop the writers .* then restart mm-relay with --partitions 3/);
      assert.equal(await ports.bus.partitions(topic), 2, 'the recorded count stays');
      assert.equal(await outboxCount(ports.store), 12, 'nothing was published');
      assert.deepEqual(await Promise.all(streams.map((s) => ports.bus.len(s))), lengths);
      assert.equal(await ports.bus.len('orders:2'), 0);
      await stop(second);

      const binary = await runBinary(
        'mm-relay',
        [...ports.flags, '--topics', topic, '--partitions', '3', '--port', '0'],
        { env: { DATABASE_URL: '', REDIS_URL: '', MM_LOCAL: '' } },
      );
      assert.equal(binary.code, 78, binary.stderr);
      assert.match(binary.stderr, /not drained: 12 outbox rows of orders not yet published/);
      assert.match(binary.stderr, /then restart mm-relay with --partitions 3\. Nothing was changed\./);
      assert.equal(await ports.bus.partitions(topic), 2);
      assert.equal(await outboxCount(ports.store), 12);
    });

    it('switches once drained, losing and reordering nothing across the old and new streams', async () => {
      await reset();
      const topic = 'billing';
      const aggregates = Array.from({ length: 12 }, () => uuidv7());
      await writeEvents(ports.store, topic, aggregates, 4);
      const first = await start(topic, 1);
      await eventually(async () => (await outboxCount(ports.store)) === 0, 30_000);
      assert.equal(await ports.bus.partitions(topic), 1);
      await stop(first);
      const consumedBefore = await consumeAll(ports.bus, [topic]);
      assert.equal(consumedBefore.length, aggregates.length * 4);

      await start(topic, 3);
      await eventually(async () => (await ports.bus.partitions(topic)) === 3, 30_000);
      await writeEvents(ports.store, topic, aggregates, 4);
      const streams = partitionStreams(topic, 3);
      await eventually(
        async () => total(await allEntries(ports.bus, streams)) === aggregates.length * 4,
        30_000,
      );
      const consumedAfter = await consumeAll(ports.bus, streams);

      const all = [...consumedBefore, ...consumedAfter];
      assert.equal(
        new Set(all.map((e) => e.fields.event_id)).size,
        aggregates.length * 8,
        'none lost or doubled',
      );
      // Each aggregate, read stream by stream (old stream first), in outbox id order.
      for (const aggregate of aggregates) {
        const ids = all
          .filter((e) => e.fields.aggregate_id === aggregate)
          .map((e) => BigInt(e.fields.outbox_id ?? 0));
        assert.equal(ids.length, 8);
        assert.deepEqual(
          ids,
          [...ids].sort((a, b) => (a < b ? -1 : 1)),
          `aggregate ${aggregate} in outbox order`,
        );
      }
      assert.equal(await ports.bus.len(topic), aggregates.length * 4, 'nothing new on the old stream');
    });
  });
}
