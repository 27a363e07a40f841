// The pipeline on a 3-node Redis Cluster with 6 partitions, as operators run it: the built mm-backend,
// two mm-relay (three outbox partitions each) and two mm-consumer processes (three streams each, with
// the apply-order handler). 200 users are created through the backend, then 19,800 updates go
// straight into the outbox, a few rounds ahead of the consumers, while the slots of two busy
// partition streams move to another node by hand (SETSLOT MIGRATING/IMPORTING, MIGRATE, SETSLOT
// NODE) and 2,000 more slots move with `redis-cli --cluster reshard`; the last rounds are written
// once they have moved. Every event is applied exactly once (one ledger row each), in per-aggregate
// order, by both consumers, and no relay counts a failed publish. Then mm-dlq (list, inspect,
// reprocess, resolve, report) and mm-consumer replay work against the cluster.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createRedisBus } from '../src/adapters/redis/bus.ts';
import { openRedisClient } from '../src/adapters/redis/client.ts';
import { silentLogger } from '../src/core/logger.ts';
import type { Bus } from '../src/ports/bus.ts';
import { consumerDeadLetter, DLQ, mmDlq } from './dlq-fixtures.ts';
import { assertNoBinariesLeft, type RunningBinary, runBinary } from './helpers/binaries.ts';
import { eventually } from './helpers/eventually.ts';
import {
  assertAppliedOnceInOrder,
  assignmentOf,
  ledgerRows,
  waitForApplied,
} from './helpers/order-checks.ts';
import {
  createUsersThroughBackend,
  eventCount,
  jsonOf,
  openProductionMode,
  startBackend,
  startConsumer,
  startRelay,
  writeRound,
} from './helpers/order-pipeline.ts';
import { randomPrefix } from './helpers/redis.ts';
import {
  moveSlot,
  ownerOf,
  type SlotOwner,
  startRedisCluster,
  type TestCluster,
} from './helpers/redis-cluster.ts';
import { skipUnless } from './helpers/services.ts';

const PARTITIONS = 6;
const LEASE_MS = 2_000;
const USERS = 200;
/** Round 0 creates the users (through the backend), each later round updates every one of them. */
const ROUNDS = 100;
/** Rounds written ahead of what the consumers applied. */
const AHEAD = 8;
/** Rounds written only once the slots have moved. */
const AFTER_MOVES = 10;
const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);
const run = promisify(execFile);

describe('the pipeline on a Redis Cluster', { skip: await skipUnless('postgres', 'redis') }, () => {
  let cluster: TestCluster;
  const buses: Bus[] = [];
  before(async () => {
    cluster = await startRedisCluster();
  });
  after(async () => {
    assertNoBinariesLeft();
    await Promise.all(buses.map((b) => b.close()));
    await cluster?.stop();
  });

  const busOn = async (prefix: string): Promise<Bus> => {
    const bus = createRedisBus(await openRedisClient({ url: cluster.url, logger: silentLogger }), {
      keyPrefix: prefix,
    });
    buses.push(bus);
    return bus;
  };

  it('backend, two relays and two consumers, 20,000 events while slots move: each applied once, in order, by both consumers; no failed publish', async () => {
    const prefix = randomPrefix();
    const mode = await openProductionMode({
      url: cluster.url,
      prefix,
      cleanup: () => cluster.clean(prefix),
    });
    const started: RunningBinary[] = [];
    const track = async (binary: Promise<RunningBinary>): Promise<RunningBinary> => {
      const running = await binary;
      started.push(running);
      return running;
    };
    try {
      const backend = await track(startBackend(mode));
      const relayArgs = ['--lease-ms', String(LEASE_MS)];
      const relays = [
        await track(startRelay(mode, PARTITIONS, relayArgs)),
        await track(startRelay(mode, PARTITIONS, relayArgs)),
      ];
      const consumers = await Promise.all(['c1', 'c2'].map((name) => track(startConsumer(mode, name))));
      const relayMetrics = () => Promise.all(relays.map((relay) => jsonOf(relay, '/metrics')));
      const owned = async () => (await relayMetrics()).map((metrics) => metrics.partitions_owned);
      // The relays split the six outbox partitions, the consumers the six streams: three each.
      await eventually(async () => (await owned()).join() === '3,3', 30_000, {
        message: 'three outbox partitions per relay',
      });
      await assignmentOf(consumers, PARTITIONS, LEASE_MS);

      const published = async (): Promise<number[]> =>
        (await relayMetrics()).map((m) => (m.events_published_total as Record<string, number>).identity ?? 0);
      const flow = async () => ({ applied: await ledgerRows(mode), published: sum(await published()) });

      const written = await createUsersThroughBackend(backend, USERS);
      let movesDone = (): void => {};
      const moved = new Promise<void>((resolve) => {
        movesDone = resolve;
      });
      const writing = (async () => {
        for (let round = 1; round < ROUNDS; round += 1) {
          // The last rounds only once the slots have moved, so events flow during the moves and after.
          if (round === ROUNDS - AFTER_MOVES) await moved;
          // A few rounds ahead of the consumers, no more: events keep flowing while the slots move.
          await eventually(async () => (await ledgerRows(mode)) >= (round - AHEAD) * USERS, 60_000, {
            message: `round ${round - AHEAD} applied`,
          });
          await writeRound(mode.store, written, round);
        }
      })();
      const handMoved: Array<[string, SlotOwner]> = [];
      const node = cluster.node(cluster.ports[0] as number);
      let beforeMoves = { applied: 0, published: 0 };
      try {
        // Busy: the consumers are applying updates, not only the creations.
        await eventually(async () => (await ledgerRows(mode)) > 2 * USERS, 60_000, {
          message: 'updates applied',
        });
        beforeMoves = await flow();
        // The slots of two busy partitions, by hand (MIGRATING/IMPORTING, MIGRATE, SETSLOT NODE) ...
        for (const stream of ['identity:0', 'identity:3']) {
          const key = `${prefix}{${stream}}`;
          assert.ok((await cluster.client.xlen(key)) > USERS / PARTITIONS, `${stream} busy`);
          handMoved.push([key, await moveSlot(cluster, Number(await node.call('CLUSTER', 'KEYSLOT', key)))]);
        }
        // ... then 2,000 slots from the first node to the second, as an operator reshards.
        const [from, to] = await Promise.all(
          cluster.ports.slice(0, 2).map(async (p) => String(await cluster.node(p).call('CLUSTER', 'MYID'))),
        );
        await run(
          'redis-cli',
          [
            ...['--cluster', 'reshard', `127.0.0.1:${cluster.ports[0]}`],
            ...['--cluster-from', from as string, '--cluster-to', to as string],
            ...['--cluster-slots', '2000', '--cluster-yes'],
          ],
          { maxBuffer: 64 * 1024 * 1024 },
        );
        const afterMoves = await flow();
        assert.ok(
          afterMoves.applied > beforeMoves.applied && afterMoves.published > beforeMoves.published,
          `events published and applied while the slots moved (${JSON.stringify([beforeMoves, afterMoves])})`,
        );
      } finally {
        movesDone();
        await writing;
      }
      const total = eventCount(written);
      assert.equal(total, USERS * ROUNDS);
      await waitForApplied(mode, total, 120_000);
      const applied = await assertAppliedOnceInOrder(mode, written);
      const appliers = new Set(applied.map((a) => a.appliedBy));
      for (const consumer of consumers) {
        assert.ok(appliers.has(String(consumer.pid)), `consumer ${consumer.pid} applied events`);
      }

      assert.deepEqual(
        (await relayMetrics()).map((m) => m.publish_failure_total),
        [0, 0],
        'a moving slot costs no publish attempt',
      );
      const shares = await published();
      assert.ok(
        shares.every((n) => n > 0),
        `both relays published (${shares.join(' and ')})`,
      );
      assert.equal(sum((await owned()).map(Number)), PARTITIONS, 'partitions_owned sums to N');
      const keys = await cluster.keys(prefix);
      const holders = [...keys.values()].filter((list) => list.some((k) => /\{identity:\d\}$/.test(k)));
      assert.ok(holders.length >= 2, `partition streams on ${holders.length} node(s)`);
      for (const [key, owner] of handMoved) {
        const now = await ownerOf(node, Number(await node.call('CLUSTER', 'KEYSLOT', key)));
        assert.ok(keys.get(now.port)?.includes(key), `${key} lives where its slot is served`);
        assert.ok(
          now.port === owner.port || owner.port === cluster.ports[0],
          'moved by hand (or on by the reshard)',
        );
      }
      // SIGTERM drains each process, which then exits 0.
      for (const binary of started) assert.equal(await binary.stop(), 0, binary.output().slice(-2_000));
    } finally {
      await Promise.all(started.map((binary) => binary.stop()));
      await mode.close();
    }
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
