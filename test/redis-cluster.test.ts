// The Redis adapter on a Redis Cluster and through Sentinel: where keys live (partitions spread over
// nodes, a dead-letter stream and its audit trail in one slot), execs over several slots that a
// crash cuts short are made whole by running them again without duplicates, and the URL forms that
// name no cluster or a plain node of one are configuration errors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Cluster } from 'ioredis';
import { createRedisBus } from '../src/adapters/redis/bus.ts';
import { openRedisClient } from '../src/adapters/redis/client.ts';
import { translateRedisError } from '../src/adapters/redis/errors.ts';
import { ConfigError, TransientError } from '../src/core/errors.ts';
import { silentLogger } from '../src/core/logger.ts';
import { partitionStreams } from '../src/core/partitions.ts';
import { closeWrites } from '../src/dlq/commands/close.ts';
import { dlqStream } from '../src/dlq/model/names.ts';
import type { Bus, BusWrite } from '../src/ports/bus.ts';
import { randomPrefix } from './helpers/redis.ts';
import { startRedisCluster, startSentinel, type TestCluster } from './helpers/redis-cluster.ts';
import { skipUnless } from './helpers/services.ts';

const open = (url: string) => openRedisClient({ url, logger: silentLogger });

/** The cluster connection with the exec script failing from its `failAt`-th call on (a crash). */
const crashingAt = (client: Cluster, failAt: number): Cluster => {
  let calls = 0;
  return new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property !== 'mmExec' || typeof value !== 'function') {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return (...args: unknown[]) => {
        calls += 1;
        if (calls >= failAt) return Promise.reject(new Error('Connection is closed.'));
        return value.apply(target, args);
      };
    },
  });
};

describe('Redis Cluster', { skip: await skipUnless('redis') }, () => {
  let cluster: TestCluster;
  const buses: Bus[] = [];
  before(async () => {
    cluster = await startRedisCluster();
  });
  after(async () => {
    await Promise.all(buses.map((b) => b.close()));
    await cluster?.stop();
  });

  const busOn = async (prefix: string, wrap: (c: Cluster) => Cluster = (c) => c): Promise<Bus> => {
    const bus = createRedisBus(wrap((await open(cluster.url)) as Cluster), { keyPrefix: prefix });
    buses.push(bus);
    return bus;
  };
  const slotOf = async (key: string): Promise<number> =>
    Number(await cluster.node(cluster.ports[0] as number).call('CLUSTER', 'KEYSLOT', key));

  it('tags each partition stream apart, spreading them over nodes; a dead-letter stream and its audit share a slot', async () => {
    const prefix = randomPrefix();
    const bus = await busOn(prefix);
    const streams = partitionStreams('identity', 6);
    for (const stream of streams) await bus.add(stream, { n: '1' });
    await bus.add('identity.dlq', { n: '1' });
    await bus.add('identity.dlq.audit', { n: '1' });
    await bus.setPartitions('identity', 6);
    const keys = [...(await cluster.keys(prefix)).entries()];
    const all = keys.flatMap(([, list]) => list).sort();
    assert.deepEqual(all, [
      `${prefix}{identity.dlq}`,
      `${prefix}{identity.dlq}.audit`,
      `${prefix}{identity:0}`,
      `${prefix}{identity:1}`,
      `${prefix}{identity:2}`,
      `${prefix}{identity:3}`,
      `${prefix}{identity:4}`,
      `${prefix}{identity:5}`,
      `${prefix}{identity:partitions}`,
    ]);
    const holders = keys.filter(([, list]) => list.some((k) => /\{identity:\d\}$/.test(k)));
    assert.ok(holders.length >= 2, `partition streams on ${holders.length} node(s)`);
    assert.equal(await slotOf(`${prefix}{identity.dlq}.audit`), await slotOf(`${prefix}{identity.dlq}`));
    assert.deepEqual(await bus.streamsEndingWith('.dlq'), ['identity.dlq']);
    assert.deepEqual(await bus.streamsEndingWith('.audit'), ['identity.dlq.audit']);
    assert.equal((await bus.streamsEndingWith('')).length, 8);
    assert.equal(await bus.partitions('identity'), 6);
  });

  it('a dead letter and its ack cut apart by a crash: the re-run acknowledges, adding no second dead letter', async () => {
    const prefix = randomPrefix();
    const bus = await busOn(prefix);
    await bus.createGroup('identity:3', 'g');
    const id = await bus.add('identity:3', { event_id: 'e1' });
    await bus.readGroup({ group: 'g', consumer: 'c', streams: ['identity:3'], count: 10 });
    const settle = (failedAt: string): BusWrite[] => [
      {
        op: 'add',
        stream: 'identity.dlq',
        fields: { event_id: 'e1', failed_at: failedAt },
        once: `g identity:3 ${id}`,
      },
      { op: 'ack', stream: 'identity:3', group: 'g', ids: [id] },
    ];
    // The first step (the dead letter) is written, the second (the ack) never arrives.
    const crashing = await busOn(prefix, (c) => crashingAt(c, 2));
    await assert.rejects(crashing.exec(settle('first')), TransientError);
    assert.equal(await bus.len('identity.dlq'), 1);
    assert.equal((await bus.pending('identity:3', 'g')).count, 1, 'the entry is still pending');

    const again = await bus.exec(settle('second'));
    const [dead] = await bus.range('identity.dlq');
    assert.deepEqual(again, { applied: true, addedIds: [dead?.id] });
    assert.equal(dead?.fields.failed_at, 'first', 'the dead letter written before the crash');
    assert.equal(await bus.len('identity.dlq'), 1);
    assert.equal((await bus.pending('identity:3', 'g')).count, 0);
    assert.equal(
      await cluster.client.exists(`${prefix}{identity.dlq}#once`),
      0,
      'its key is forgotten once done',
    );
  });

  it('a reprocess cut apart by a crash: the re-run closes the entry naming the event published before it', async () => {
    const prefix = randomPrefix();
    const bus = await busOn(prefix);
    const dlq = dlqStream('identity.dlq');
    const deadId = await bus.add(dlq.name, { event_id: 'e2', origin_stream: 'identity:1' });
    const writes = closeWrites({
      dlq,
      id: deadId,
      fields: { event_id: 'e2' },
      closing: {
        action: 'reprocessed',
        dlqId: deadId,
        actor: 'ops',
        note: 'fixed',
        at: new Date().toISOString(),
      },
      republish: { stream: 'identity:1', fields: { event_id: 'e2' }, reprocessCount: 1 },
      open: true,
    });
    const options = { requireEntry: { stream: dlq.name, id: deadId } };
    const crashing = await busOn(prefix, (c) => crashingAt(c, 2));
    await assert.rejects(crashing.exec(writes, options), TransientError);
    assert.equal(await bus.len('identity:1'), 1, 'published before the crash');
    assert.equal(await bus.len(dlq.name), 1, 'still open');

    const result = await bus.exec(writes, options);
    const [event] = await bus.range('identity:1');
    const [audit] = await bus.range(dlq.audit);
    assert.equal(result.applied, true);
    assert.equal(await bus.len('identity:1'), 1, 'published once');
    assert.equal(audit?.fields.new_stream_id, event?.id);
    assert.deepEqual(result.addedIds, [event?.id, audit?.id]);
    assert.equal(await bus.len(dlq.name), 0);
    assert.deepEqual(await bus.exec(writes, options), { applied: false, addedIds: [] }, 'closed once');
    assert.equal(await bus.len('identity:1'), 1);
  });

  it('MOVED, ASK and the other replies of a moving slot are outages, never failures of an entry', () => {
    for (const reply of [
      'MOVED 3999 127.0.0.1:7001',
      'ASK 3999 127.0.0.1:7001',
      'TRYAGAIN x',
      'CLUSTERDOWN x',
    ]) {
      assert.ok(translateRedisError(new Error(reply)) instanceof TransientError, reply);
    }
    assert.ok(
      translateRedisError(new Error('Too many Cluster redirections. Last error: MOVED')) instanceof
        TransientError,
    );
  });

  it('a plain URL to a cluster node, or a key prefix with a hash tag, is a configuration error', async () => {
    const port = cluster.ports[0] as number;
    await assert.rejects(open(`redis://127.0.0.1:${port}`), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(
        error.message,
        new RegExp(
          `Redis at 127.0.0.1:${port} is a Redis Cluster node: name the cluster with redis\\+cluster://`,
        ),
      );
      return true;
    });
    const client = await open(cluster.url);
    try {
      assert.throws(() => createRedisBus(client, { keyPrefix: '{mm}:' }), /holds a \{ or \}/);
    } finally {
      client.disconnect();
    }
  });
});

describe('Redis through Sentinel', { skip: await skipUnless('redis') }, () => {
  it('finds the master by name and carries streams', async () => {
    const sentinel = await startSentinel();
    try {
      const bus = createRedisBus(await open(`${sentinel.url}/2`), { keyPrefix: 'mm:' });
      try {
        const id = await bus.add('identity', { n: '1' });
        assert.deepEqual(await bus.range('identity'), [{ id, fields: { n: '1' } }]);
        const direct = await open(`${sentinel.server.url}/2`);
        try {
          assert.equal(await direct.xlen('mm:identity'), 1, 'on the master, in the database named');
        } finally {
          direct.disconnect();
        }
      } finally {
        await bus.close();
      }
      await assert.rejects(open('redis+sentinel://127.0.0.1:1'), /needs the master name/);
    } finally {
      await sentinel.stop();
    }
  });
});
