// Many relays on one outbox, as operators run them (built binaries), on Postgres + Redis and on one
// local file: two relays split the partitions and each publishes its share of a bulk-inserted drain;
// `kill -9` of one hands its partitions to the other within --lease-ms (fenced: bigger tokens); every
// row is published, each aggregate in outbox order on its partition stream, and only the killed
// relay's drain in flight is published twice. Then, in process, a partition-count switch among running
// relays: the switching relay pauses the others, which stop (exit 78) without publishing under the old
// count; on Postgres a pause that relay transactions keep waiting gives up.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { createPostgresStore } from '../src/adapters/postgres/store.ts';
import { openLocalPorts } from '../src/adapters/sqlite/local-ports.ts';
import { exitCodeFor } from '../src/core/exit-codes.ts';
import { uuidv7 } from '../src/core/ids.ts';
import { silentLogger } from '../src/core/logger.ts';
import { partitionOf, partitionStreams, streamOfAggregate } from '../src/core/partitions.ts';
import type { Bus, StreamEntry } from '../src/ports/bus.ts';
import type { Store } from '../src/ports/store.ts';
import { assertNoBinariesLeft, type RunningBinary, startBinary } from './helpers/binaries.ts';
import { eventually } from './helpers/eventually.ts';
import { createTestDatabase } from './helpers/postgres.ts';
import { createTestRedis } from './helpers/redis.ts';
import {
  assertPerAggregateOrder,
  createTestBus,
  detailedHealth,
  jsonMetrics,
  readStream,
  startTestRelay,
  type TestRelay,
} from './helpers/relay.ts';
import { skipUnless } from './helpers/services.ts';
import { localPorts, type ModePorts, productionPorts } from './helpers/two-modes.ts';

const PARTITIONS = 4;
const LEASE_MS = 2_000;
const BATCH_SIZE = 250;
const BATCHES_PER_COMMIT = 4;
/** What a relay killed mid-drain can have published but not committed. */
const DRAIN_ROWS = BATCH_SIZE * BATCHES_PER_COMMIT;

/** Where the two relay binaries run: a database and streams, filled in bulk and read back. */
type Setup = {
  readonly flags: readonly string[];
  /** Inserts `count` rows in one statement (`count / 20` aggregates); the ids they got. */
  fill(count: number): Promise<{ minId: number; maxId: number }>;
  /** Rows waiting in the outbox, of the given outbox partitions (all when absent). */
  waiting(partitions?: readonly number[]): Promise<number>;
  readonly bus: Bus;
  cleanup(): Promise<void>;
};

const production = async (): Promise<Setup> => {
  const db = await createTestDatabase();
  const redis = await createTestRedis();
  const bus = createTestBus(redis.url, redis.prefix);
  return {
    flags: ['--database-url', db.url, '--redis-url', redis.url, '--key-prefix', redis.prefix],
    fill: async (count) => {
      const [range] = await db.sql<{ min: string; max: string }[]>`
        with added as (
          insert into outbox (event_id, topic, event_type, aggregate_type, aggregate_id, payload)
          select gen_random_uuid(), 'identity', 'user.updated', 'user', 'agg-' || (i % ${count / 20}),
                 jsonb_build_object('n', i)
          from generate_series(1, ${count}::int) i
          returning id)
        select min(id)::text as min, max(id)::text as max from added`;
      return { minId: Number(range?.min), maxId: Number(range?.max) };
    },
    waiting: async (partitions) => {
      const [row] = partitions
        ? await db.sql<{ n: number }[]>`select count(*)::int as n from outbox
            where partition_hash % ${PARTITIONS}::int = any(${`{${partitions.join(',')}}`}::int[])`
        : await db.sql<{ n: number }[]>`select count(*)::int as n from outbox`;
      return row?.n ?? 0;
    },
    bus,
    cleanup: async () => {
      await bus.close();
      await redis.cleanup();
      await db.drop();
    },
  };
};

const local = async (): Promise<Setup> => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-relay-many-'));
  const file = join(dir, 'local.db');
  const ports = await openLocalPorts({ file, logger: silentLogger });
  const query = <Row>(sql: string, params: unknown[] = []) =>
    ports.store.withTransaction((tx) => tx.query<Row>(sql, params));
  return {
    flags: ['--local', file],
    fill: async (count) => {
      const [before] = await query<{ seq: number | null }>(
        "SELECT (SELECT seq FROM sqlite_sequence WHERE name = 'outbox') AS seq",
      );
      // Through mm's own connection: the file's partition_hash needs the function mm registers.
      await query(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
         INSERT INTO outbox (event_id, topic, event_type, aggregate_type, aggregate_id, payload)
         SELECT printf('%08x-0000-4000-8000-%012x', i, i), 'identity',
                'user.updated', 'user', 'agg-' || (i % $2), json_object('n', i)
         FROM n`,
        [count, count / 20],
      );
      const first = (before?.seq ?? 0) + 1;
      return { minId: first, maxId: first + count - 1 };
    },
    waiting: async (partitions) => {
      const [row] = partitions
        ? await query<{ n: number }>(
            'SELECT count(*) AS n FROM outbox WHERE partition_hash % $1 IN (SELECT value FROM json_each($2))',
            [PARTITIONS, JSON.stringify(partitions)],
          )
        : await query<{ n: number }>('SELECT count(*) AS n FROM outbox');
      return Number(row?.n ?? 0);
    },
    bus: ports.bus,
    cleanup: async () => {
      await ports.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

type RelayView = {
  published: number;
  owned: number;
  partitions: Array<{ partition: number; lease_token: number }>;
};

const viewOf = async (relay: RunningBinary): Promise<RelayView> => {
  const metrics = (await (await fetch(`${relay.url}/metrics`)).json()) as {
    events_published_total: Record<string, number>;
    partitions_owned: number;
  };
  const health = (await (await fetch(`${relay.url}/health/detailed`)).json()) as {
    checks: { relay: { partitions: RelayView['partitions'] } };
  };
  return {
    published: metrics.events_published_total.identity ?? 0,
    owned: metrics.partitions_owned,
    partitions: health.checks.relay.partitions,
  };
};

const modes = [
  { name: 'Postgres + Redis', open: production, rows: 100_000, skip: await skipUnless('postgres', 'redis') },
  { name: 'local file', open: local, rows: 100_000, skip: false as const },
];

for (const mode of modes) {
  describe(`many relays, built binaries: ${mode.name}`, { skip: mode.skip }, () => {
    afterEach(() => assertNoBinariesLeft());

    it(`two relays share a ${mode.rows.toLocaleString('en')}-row drain; kill -9 of one hands its partitions to the other; every row once or more, in order`, async (t) => {
      const setup = await mode.open();
      const relays: RunningBinary[] = [];
      try {
        const start = () =>
          startBinary('mm-relay', [
            'run',
            ...setup.flags,
            '--partitions',
            String(PARTITIONS),
            '--lease-ms',
            String(LEASE_MS),
            '--batch-size',
            String(BATCH_SIZE),
            '--batches-per-commit',
            String(BATCHES_PER_COMMIT),
            '--poll-interval-ms',
            '200',
            // Every entry is read back, so nothing may be trimmed.
            '--stream-maxlen',
            '0',
            '--stream-hard-max',
            '0',
          ]);
        const [first, second] = [await start(), await start()];
        relays.push(first, second);
        // They settle on a split: two partitions each, the N partitions held once in all.
        await eventually(
          async () => {
            const [a, b] = [await viewOf(first), await viewOf(second)];
            return a.owned === 2 && b.owned === 2;
          },
          30_000,
          { message: 'two partitions each' },
        );
        const firstHeld = (await viewOf(first)).partitions;
        const secondHeld = (await viewOf(second)).partitions;
        assert.deepEqual(
          [...firstHeld, ...secondHeld].map((p) => p.partition).sort(),
          [0, 1, 2, 3],
          'each partition held by one relay',
        );
        const killedPartitions = firstHeld.map((p) => p.partition);

        const { minId, maxId } = await setup.fill(mode.rows);
        assert.equal(maxId - minId + 1, mode.rows);
        // The first relay is killed mid-drain, once it published 30 % of all the rows (of its half).
        let firstPublished = 0;
        await eventually(
          async () => {
            firstPublished = (await viewOf(first)).published;
            return firstPublished >= mode.rows * 0.3;
          },
          60_000,
          { intervalMs: 20, message: 'the first relay publishing 30 %' },
        );
        assert.equal(await first.stop('SIGKILL'), null);
        const leftOfKilled = await setup.waiting(killedPartitions);
        assert.ok(leftOfKilled > 0, 'killed mid-drain: rows of its partitions still wait');

        // The other relay takes the dead one's partitions once their leases run out (fenced: new tokens).
        await eventually(async () => (await viewOf(second)).owned === PARTITIONS, 30_000, {
          message: 'all partitions handed to the surviving relay',
        });
        const after = (await viewOf(second)).partitions;
        for (const { partition, lease_token } of firstHeld) {
          const now = after.find((p) => p.partition === partition);
          assert.ok(
            now && now.lease_token > lease_token,
            `outbox:${partition} taken over with a bigger token`,
          );
          assert.match(second.output(), new RegExp(`took the lease on outbox:${partition} \\(token`));
        }
        await eventually(async () => (await setup.waiting()) === 0, 60_000, { message: 'outbox drained' });
        // Counted as each drain commits; the outbox is empty, so the count stops moving.
        let last = -1;
        const secondPublished = await eventually(
          async () => {
            const { published } = await viewOf(second);
            const settled = published === last;
            last = published;
            return settled ? published : undefined;
          },
          10_000,
          { intervalMs: 300, message: 'the surviving relay counted the rest' },
        );
        assert.ok(firstPublished >= mode.rows * 0.3, `first relay published ${firstPublished}`);
        assert.ok(secondPublished >= mode.rows * 0.3, `second relay published ${secondPublished}`);

        // Read back: every row at least once, on its aggregate's stream, in outbox order per aggregate.
        const seen = new Map<string, { times: number; partition: number }>();
        let entries = 0;
        for (const stream of partitionStreams('identity', PARTITIONS)) {
          const list: StreamEntry[] = await readStream(setup.bus, stream);
          entries += list.length;
          assertPerAggregateOrder(list);
          for (const { fields } of list) {
            const aggregate = fields.aggregate_id ?? '';
            assert.equal(streamOfAggregate('identity', aggregate, PARTITIONS), stream);
            const id = fields.outbox_id ?? '';
            const times = (seen.get(id)?.times ?? 0) + 1;
            seen.set(id, { times, partition: partitionOf(aggregate, PARTITIONS) });
          }
        }
        assert.equal(seen.size, mode.rows, 'every row published');
        for (let id = minId; id <= maxId; id += 1) assert.ok(seen.has(String(id)), `row ${id} published`);
        t.diagnostic(
          `published: first relay ${firstPublished}+ (killed with ${leftOfKilled} rows of its partitions waiting), ` +
            `second ${secondPublished}; ${entries - seen.size} published twice`,
        );
        // Published twice: only what the killed relay's drain had in flight, of its partitions.
        assert.ok(entries - seen.size <= DRAIN_ROWS, `${entries - seen.size} duplicates`);
        for (const [id, { times, partition }] of seen) {
          if (times > 1)
            assert.ok(killedPartitions.includes(partition), `row ${id} twice, of partition ${partition}`);
        }
        assert.equal(await second.stop(), 0);
      } finally {
        await Promise.all(relays.map((r) => r.stop('SIGKILL')));
        await setup.cleanup();
      }
    });
  });
}

const inProcessModes = [
  { name: 'Postgres + Redis', open: productionPorts, skip: await skipUnless('postgres', 'redis') },
  { name: 'local file', open: localPorts, skip: false as const },
];

for (const mode of inProcessModes) {
  describe(`many relays and a partition-count switch: ${mode.name}`, { skip: mode.skip }, () => {
    const started: TestRelay[] = [];
    afterEach(async () => {
      await Promise.all(started.splice(0).map((r) => r.relay.stop()));
    });

    const start = async (ports: ModePorts, topic: string, partitions: number): Promise<TestRelay> => {
      const relay = await startTestRelay(
        { store: ports.store, bus: await ports.openBus() },
        { topics: [topic], partitions, leaseMs: 600, pollIntervalMs: 50 },
      );
      started.push(relay);
      return relay;
    };
    const owned = async (relay: TestRelay): Promise<number> =>
      (await jsonMetrics(relay.relay)).partitions_owned as number;
    const insert = (store: Store, topic: string, aggregates: readonly string[]) =>
      store.withTransaction((tx) =>
        tx.outbox.insert(
          aggregates.map((aggregateId, n) => ({
            eventId: uuidv7(),
            topic,
            eventType: 'user.updated',
            aggregateType: 'user',
            aggregateId,
            payload: { n },
          })),
        ),
      );

    it('the switching relay pauses the others, which stop (exit 78) without publishing under the old count', async () => {
      const ports = await mode.open();
      try {
        const topic = 'orders';
        const [a, b] = [await start(ports, topic, 2), await start(ports, topic, 2)];
        await eventually(async () => (await owned(a)) === 1 && (await owned(b)) === 1, 10_000, {
          message: 'one partition each',
        });
        const aggregates = Array.from({ length: 30 }, (_, i) => `order-${i}`);
        await insert(ports.store, topic, aggregates);
        const old = partitionStreams(topic, 2);
        await eventually(
          async () => (await ports.bus.len(old[0] ?? '')) + (await ports.bus.len(old[1] ?? '')) === 30,
        );
        // Drained (nothing waits, no group reads the streams yet, so their entries must be read first).
        for (const stream of old) {
          await ports.bus.createGroup(stream, 'g', { startId: '0' });
          const [read] = await ports.bus.readGroup({
            group: 'g',
            consumer: 'c',
            streams: [stream],
            count: 100,
          });
          await ports.bus.ack(
            stream,
            'g',
            (read?.entries ?? []).map((e) => e.id),
          );
        }

        // Stream ids are per stream: an entry is known by both.
        const oldIds = new Set(
          (
            await Promise.all(
              old.map(async (s) => (await readStream(ports.bus, s)).map((e) => `${s} ${e.id}`)),
            )
          ).flat(),
        );
        assert.equal(oldIds.size, 30);
        const c = await start(ports, topic, 3);
        await eventually(async () => (await ports.bus.partitions(topic)) === 3, 10_000, {
          message: 'switched',
        });
        const [aFailed, bFailed] = await Promise.all([a.relay.failed(), b.relay.failed()]);
        for (const error of [aFailed, bFailed]) {
          assert.equal(exitCodeFor(error), 78);
          assert.match(error.message, /topic orders now has 3 partitions \(another mm-relay switched it\)/);
          assert.match(error.message, /restart it with --partitions 3/);
        }
        await insert(ports.store, topic, aggregates);
        await eventually(async () => (await owned(c)) === 3, 10_000, {
          message: 'the new relay holds all 3',
        });
        // The 30 new entries: each on its aggregate's stream under 3 partitions, in outbox order.
        const fresh = partitionStreams(topic, 3);
        const newEntries = async () =>
          Promise.all(
            fresh.map(async (s) =>
              (await readStream(ports.bus, s)).filter((e) => !oldIds.has(`${s} ${e.id}`)),
            ),
          );
        const added = await eventually(async () => {
          const lists = await newEntries();
          return lists.flat().length === 30 ? lists : undefined;
        }, 10_000);
        added.forEach((list, p) => {
          for (const entry of list)
            assert.equal(streamOfAggregate(topic, entry.fields.aggregate_id ?? '', 3), fresh[p]);
          assertPerAggregateOrder(list);
        });
        const health = await detailedHealth(c.relay);
        assert.equal(health.checks.relay?.partitions_owned, 3);
        assert.equal(health.checks.relay?.partition_count, 3);
      } finally {
        await Promise.all(started.splice(0).map((r) => r.relay.stop()));
        await ports.cleanup();
      }
    });
  });
}

describe('a pause of the relays on Postgres', { skip: await skipUnless('postgres') }, () => {
  it('gives up after its wait while a relay transaction does not end, running nothing', async () => {
    const db = await createTestDatabase();
    const other = createPostgresStore({ url: db.url, maxConnections: 2 });
    let finish: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    let joined: () => void = () => {};
    const inside = new Promise<void>((resolve) => {
      joined = resolve;
    });
    const draining = db.store.outbox.withRelayTransaction(async (statements) => {
      assert.equal(await statements.joinRelays(), true);
      joined();
      await finished;
    });
    try {
      await inside;
      let ran = false;
      const result = await other.outbox.withRelaysPaused(
        async () => {
          ran = true;
        },
        { waitMs: 200 },
      );
      assert.equal(result, undefined);
      assert.equal(ran, false);
    } finally {
      finish();
      await draining;
      await other.close();
      await db.drop();
    }
  });
});
