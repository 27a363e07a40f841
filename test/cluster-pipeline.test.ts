// The pipeline on a 3-node Redis Cluster with 6 partitions: two relays (three partitions each, both
// publishing) while the slots of two busy partition streams move to another node by hand (SETSLOT
// MIGRATING/IMPORTING, MIGRATE, SETSLOT NODE) and then 2,000 slots move with `redis-cli --cluster
// reshard`; a group reading all six streams at once gets every event exactly once, in per-aggregate
// order, and no relay counts a failed publish. Then mm-dlq (list, inspect, reprocess, resolve,
// report) and mm-consumer replay work against the cluster.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createRedisBus } from '../src/adapters/redis/bus.ts';
import { openRedisClient } from '../src/adapters/redis/client.ts';
import { TransientError } from '../src/core/errors.ts';
import { silentLogger } from '../src/core/logger.ts';
import { partitionStreams, streamOfAggregate } from '../src/core/partitions.ts';
import type { Bus, StreamEntry } from '../src/ports/bus.ts';
import { consumerDeadLetter, DLQ, GROUP, mmDlq } from './dlq-fixtures.ts';
import { assertNoBinariesLeft, runBinary } from './helpers/binaries.ts';
import { eventually } from './helpers/eventually.ts';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.ts';
import { randomPrefix } from './helpers/redis.ts';
import {
  moveSlot,
  ownerOf,
  type SlotOwner,
  startRedisCluster,
  type TestCluster,
} from './helpers/redis-cluster.ts';
import { assertPerAggregateOrder, jsonMetrics, startTestRelay, writeUserEvents } from './helpers/relay.ts';
import { skipUnless } from './helpers/services.ts';

const PARTITIONS = 6;
const run = promisify(execFile);

describe('the pipeline on a Redis Cluster', { skip: await skipUnless('postgres', 'redis') }, () => {
  let cluster: TestCluster;
  let db: TestDatabase;
  const buses: Bus[] = [];
  before(async () => {
    cluster = await startRedisCluster();
    db = await createTestDatabase();
  });
  after(async () => {
    assertNoBinariesLeft();
    await Promise.all(buses.map((b) => b.close()));
    await db?.drop();
    await cluster?.stop();
  });

  const busOn = async (prefix: string): Promise<Bus> => {
    const bus = createRedisBus(await openRedisClient({ url: cluster.url, logger: silentLogger }), {
      keyPrefix: prefix,
    });
    buses.push(bus);
    return bus;
  };

  it('6 partitions over the nodes, two relays, slots moving under load: every event once, in order, no failed publish', async () => {
    const prefix = randomPrefix();
    const streams = partitionStreams('identity', PARTITIONS);
    const reader = await busOn(prefix);
    for (const stream of streams) await reader.createGroup(stream, GROUP);
    const relays = [
      await startTestRelay(
        { store: db.store, bus: await busOn(prefix) },
        { partitions: PARTITIONS, leaseMs: 2_000 },
      ),
      await startTestRelay(
        { store: db.store, bus: await busOn(prefix) },
        { partitions: PARTITIONS, leaseMs: 2_000 },
      ),
    ];
    // The two share the outbox: three partitions each before the writers start.
    const owned = async () =>
      Promise.all(relays.map(async ({ relay }) => (await jsonMetrics(relay)).partitions_owned));
    await eventually(async () => (await owned()).join() === '3,3', 20_000, {
      message: 'three partitions each',
    });

    const read = new Map<string, StreamEntry[]>(streams.map((s) => [s, []]));
    const outages: string[] = [];
    let reading = true;
    const consume = (async () => {
      while (reading) {
        try {
          const reads = await reader.readGroup({
            group: GROUP,
            consumer: 'c',
            streams,
            count: 50,
            blockMs: 200,
          });
          for (const { stream, entries } of reads) {
            read.get(stream)?.push(...entries);
            await reader.ack(
              stream,
              GROUP,
              entries.map((e) => e.id),
            );
          }
        } catch (error) {
          if (!(error instanceof TransientError)) throw error;
          outages.push(error.message);
        }
      }
    })();
    const total = (): number => [...read.values()].reduce((n, list) => n + list.length, 0);

    const writing = writeUserEvents(db.store, { users: 200, updatesPerUser: 3, concurrency: 6 });
    const node = cluster.node(cluster.ports[0] as number);
    const moved: Array<[string, SlotOwner]> = [];
    // The slots of two busy partitions, by hand (MIGRATING/IMPORTING, MIGRATE, SETSLOT NODE) ...
    for (const stream of ['identity:0', 'identity:3']) {
      await eventually(() => (read.get(stream)?.length ?? 0) > 5, 30_000, { message: `${stream} busy` });
      const key = `${prefix}{${stream}}`;
      moved.push([key, await moveSlot(cluster, Number(await node.call('CLUSTER', 'KEYSLOT', key)))]);
    }
    // ... then 2,000 slots from the first node to the second, as an operator reshards.
    const [from, to] = await Promise.all(
      cluster.ports.slice(0, 2).map(async (p) => String(await cluster.node(p).call('CLUSTER', 'MYID'))),
    );
    await run(
      'redis-cli',
      [
        ...['--cluster', 'reshard', `127.0.0.1:${cluster.ports[0]}`],
        ...[
          '--cluster-from',
          from as string,
          '--cluster-to',
          to as string,
          '--cluster-slots',
          '2000',
          '--cluster-yes',
        ],
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const written = await writing;
    await eventually(() => total() >= written.length, 60_000, {
      message: `${written.length} events read (${total()} so far)`,
    });
    reading = false;
    await consume;
    const published = await Promise.all(
      relays.map(
        async ({ relay }) =>
          ((await jsonMetrics(relay)).events_published_total as Record<string, number>).identity ?? 0,
      ),
    );
    assert.equal(
      (await owned()).reduce((a, b) => Number(a) + Number(b), 0),
      PARTITIONS,
      'partitions_owned sums to N',
    );
    for (const { relay } of relays) await relay.stop();
    assert.ok(
      published.every((n) => n > 0),
      `both relays published (${published.join(' and ')})`,
    );

    const all = [...read.values()].flat();
    const ids = all.map((e) => e.fields.event_id);
    assert.equal(new Set(ids).size, written.length, 'every event read');
    assert.equal(all.length, written.length, 'none twice');
    for (const [stream, entries] of read) {
      assertPerAggregateOrder(entries);
      for (const entry of entries) {
        assert.equal(streamOfAggregate('identity', entry.fields.aggregate_id ?? '', PARTITIONS), stream);
      }
    }
    for (const { relay } of relays) {
      const metrics = await jsonMetrics(relay);
      assert.equal(metrics.publish_failure_total, 0, 'a moving slot costs no publish attempt');
    }
    const keys = await cluster.keys(prefix);
    const holders = [...keys.values()].filter((list) => list.some((k) => /\{identity:\d\}$/.test(k)));
    assert.ok(holders.length >= 2, `partition streams on ${holders.length} node(s)`);
    for (const [key, owner] of moved) {
      const now = await ownerOf(node, Number(await node.call('CLUSTER', 'KEYSLOT', key)));
      assert.ok(keys.get(now.port)?.includes(key), `${key} lives where its slot is served`);
      assert.ok(
        now.port === owner.port || owner.port === cluster.ports[0],
        'moved by hand (or on by the reshard)',
      );
    }
    assert.ok(outages.length < 5, `reads failed: ${outages.join('; ')}`);
  });

  it('mm-dlq lists, inspects, reprocesses, resolves and reports dead letters; mm-consumer replay moves a group', async () => {
    const prefix = randomPrefix();
    const bus = await busOn(prefix);
    const dlq = mmDlq({ redisUrl: cluster.url, prefix });
    const first = await consumerDeadLetter(bus);
    const second = await consumerDeadLetter(bus);

    const listed = await dlq(`list --stream ${DLQ} --json`);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as Array<{ id: string }>).map((e) => e.id).sort(),
      [first.id, second.id].sort(),
    );
    const inspected = await dlq(`inspect --stream ${DLQ} --id ${first.id} --json`);
    assert.equal(inspected.code, 0, inspected.stderr);
    assert.match(inspected.stdout, new RegExp(first.event.eventId));

    const before = await bus.len('identity');
    const reprocessed = await dlq(`reprocess --stream ${DLQ} --id ${first.id}`);
    assert.equal(reprocessed.code, 0, reprocessed.stderr);
    assert.equal(await bus.len('identity'), before + 1, 'the event is published again, once');
    const resolved = await dlq(`resolve --stream ${DLQ} --id ${second.id}`);
    assert.equal(resolved.code, 0, resolved.stderr);
    assert.equal(await bus.len(DLQ), 0);
    assert.equal(await bus.len(`${DLQ}.audit`), 2);
    const elsewhere = await dlq('list --stream billing.dlq');
    assert.equal(elsewhere.code, 66, elsewhere.stderr);
    assert.match(elsewhere.stderr, /the Redis Cluster at .*\(key mmtest:[0-9a-f]+:\{billing\.dlq\}\)/);
    const report = await dlq('report --json');
    assert.equal(report.code, 0, report.stderr);
    assert.match(report.stdout, /identity\.dlq/);

    await bus.createGroup('identity', 'replayers', { startId: '$' });
    const replay = await runBinary('mm-consumer', [
      'replay',
      ...['--group', 'replayers', '--topic', 'identity', '--from', 'start'],
      ...['--redis-url', cluster.url, '--key-prefix', prefix],
    ]);
    assert.equal(replay.code, 0, replay.stderr);
    const [group] = await bus.groups('identity');
    assert.equal(group?.lastDeliveredId, '0-0', 'the group starts over');
  });
});
