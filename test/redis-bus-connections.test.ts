// The Redis bus's own connections (the relay's batches of adds, the consumer's blocked reads): an
// outcome per entry, outages as TransientError (silent, stopped, full or absent servers), and an
// interrupted command never sent again.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisBus } from '../src/adapters/redis/bus.ts';
import { PermanentError, TransientError } from '../src/core/errors.ts';
import type { Bus } from '../src/ports/bus.ts';
import { eventually } from './helpers/eventually.ts';
import { freePort } from './helpers/free-port.ts';
import { createTestRedis, type RedisServer, startRedisServer, type TestRedis } from './helpers/redis.ts';
import { REDIS_URL, skipUnless } from './helpers/services.ts';
import { type SilentServer, startSilentServer } from './helpers/silent-server.ts';

const GROUP = 'g';

const isOutage =
  (pattern: RegExp) =>
  (error: unknown): boolean => {
    assert.ok(error instanceof TransientError, String(error));
    assert.equal(error.dependency, 'redis', 'health and logs name Redis');
    assert.match(error.message, pattern);
    return true;
  };

/** Ids of the connections named `name` (duplicates take the name too) blocked in a command now. */
const blockedIds = async (client: Redis, name: string): Promise<string[]> =>
  ((await client.client('LIST')) as string)
    .split('\n')
    .filter((line) => line.includes(` name=${name} `) && / flags=\S*b/.test(line))
    .map((line) => /^id=(\d+)/.exec(line)?.[1] ?? '');

const blockedClients = async (client: Redis, name: string): Promise<number> =>
  (await blockedIds(client, name)).length;

/** A client that stays quiet until used, so only the bus's own connections reach a test server. */
const quietClient = (url: string): Redis => {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  return client;
};

describe('Redis bus connections', { skip: await skipUnless('redis') }, () => {
  let redis: TestRedis;
  let bus: Bus | undefined;
  let server: RedisServer | undefined;
  let silent: SilentServer | undefined;

  before(async () => {
    redis = await createTestRedis();
  });
  afterEach(async () => {
    await bus?.close();
    await server?.kill();
    await silent?.close();
    bus = undefined;
    server = undefined;
    silent = undefined;
  });
  after(async () => {
    await redis.cleanup();
  });

  const read = (target: Bus, options: { blockMs: number; signal?: AbortSignal; streams?: string[] }) =>
    target.readGroup({ group: GROUP, consumer: 'c', streams: ['s'], count: 10, ...options });

  it('answers every entry of a batch in its place; concurrent batches keep their own outcomes', async () => {
    bus = createRedisBus(new Redis(REDIS_URL), { keyPrefix: redis.prefix });
    await redis.client.set(`${redis.prefix}plain`, 'x');
    const text = '{"title":"naïve ✓ \\r\\n"}';
    const [first, second] = await Promise.all([
      bus.addBatch([
        { stream: 's', fields: { n: '1', payload: text } },
        { stream: 'plain', fields: { n: '2' } },
        { stream: 's', fields: { n: '3' } },
      ]),
      bus.addBatch([{ stream: 't', fields: { n: '4' } }]),
    ]);
    assert.ok(first && second);
    assert.match((first[0] as { id: string }).id, /^\d+-\d+$/);
    const wrongType = (first[1] as { error: Error }).error;
    assert.ok(wrongType instanceof PermanentError);
    assert.match(wrongType.message, /^WRONGTYPE/);
    assert.match((first[2] as { id: string }).id, /^\d+-\d+$/);
    assert.equal(second.length, 1);
    assert.deepEqual(
      (await bus.range('s')).map((e) => e.fields),
      [{ n: '1', payload: text }, { n: '3' }],
    );
    assert.deepEqual(
      (await bus.range('t')).map((e) => e.fields),
      [{ n: '4' }],
    );
  });

  it('a server that never answers: adds and blocked reads are outages, then a new connection is tried', async () => {
    silent = await startSilentServer();
    bus = createRedisBus(quietClient(silent.url), { publishTimeoutMs: 200, blockGraceMs: 200 });
    await assert.rejects(
      bus.addBatch([{ stream: 's', fields: { n: '1' } }]),
      isOutage(/Redis unavailable: not connected within 200 ms/),
    );
    await assert.rejects(read(bus, { blockMs: 100 }), isOutage(/Redis unavailable/));
    const opened = silent.connections();
    await assert.rejects(bus.addBatch([{ stream: 's', fields: { n: '1' } }]), TransientError);
    assert.equal(silent.connections(), opened + 1, 'the next batch opened a connection of its own');
    assert.doesNotMatch(silent.wire(), /xadd|xreadgroup/i, 'no command before the handshake completed');
  });

  it('a stopped Redis (SIGSTOP): a blocked read fails as an outage while it is still stopped', {
    timeout: 30_000,
  }, async () => {
    server = await startRedisServer();
    bus = createRedisBus(new Redis(server.url, { connectionName: 'mm-bus' }), { blockGraceMs: 300 });
    await bus.createGroup('s', GROUP);
    assert.deepEqual(await read(bus, { blockMs: 50 }), []);
    const reading = read(bus, { blockMs: 200 });
    server.pause();
    await assert.rejects(reading, isOutage(/no answer 500 ms into a blocked read/));
    server.resume();
    const probe = new Redis(server.url);
    await eventually(async () => (await blockedClients(probe, 'mm-bus')) === 0);
    probe.disconnect();
    await bus.add('s', { n: '1' });
    const [got] = await eventually(() => read(bus as Bus, { blockMs: 200 }).then((r) => r.length > 0 && r));
    assert.deepEqual(
      got?.entries.map((e) => e.fields),
      [{ n: '1' }],
    );
  });

  it('a stopped Redis (SIGSTOP): a batch of adds fails as an outage, the next one after it is back works', {
    timeout: 30_000,
  }, async () => {
    server = await startRedisServer();
    bus = createRedisBus(new Redis(server.url), { publishTimeoutMs: 300 });
    await bus.addBatch([{ stream: 's', fields: { n: '1' } }]);
    server.pause();
    await assert.rejects(
      bus.addBatch([{ stream: 's', fields: { n: '2' } }]),
      isOutage(/no reply to a batch of adds within 300 ms/),
    );
    server.resume();
    const [outcome] = await bus.addBatch([{ stream: 's', fields: { n: '3' } }]);
    assert.ok(outcome && 'id' in outcome);
  });

  // A read that was interrupted but still ran (or ran again) on the server would take the entry
  // into the pending list of a consumer nobody waits on, and the next read would not get it.
  const nextReadGetsTheEntry = async (target: Bus, stream = 's'): Promise<void> => {
    const reading = read(target, { blockMs: 10_000, streams: [stream] });
    await redis.client.xadd(`${redis.prefix}${stream}`, '*', 'n', 'after');
    const [got] = await reading;
    assert.deepEqual(
      got?.entries.map((e) => e.fields),
      [{ n: 'after' }],
    );
    assert.equal((await target.pending(stream, GROUP)).count, 1);
  };

  it('an aborted blocked read returns at once and is never sent again', { timeout: 30_000 }, async () => {
    const name = `mm-test-${process.pid}-abort`;
    bus = createRedisBus(new Redis(REDIS_URL, { connectionName: name }), {
      keyPrefix: redis.prefix,
      blockGraceMs: 60_000,
    });
    await bus.createGroup('s', GROUP, { startId: '$' });
    const stop = new AbortController();
    const reading = read(bus, { blockMs: 30_000, signal: stop.signal });
    await eventually(async () => (await blockedClients(redis.client, name)) === 1);
    stop.abort();
    assert.deepEqual(await reading, []);
    // Its connection leaves the server before anything is added.
    await eventually(async () => (await blockedClients(redis.client, name)) === 0);
    await nextReadGetsTheEntry(bus);
  });

  it('a blocked read cut by a lost connection is never sent again', { timeout: 30_000 }, async () => {
    const name = `mm-test-${process.pid}-cut`;
    bus = createRedisBus(new Redis(REDIS_URL, { connectionName: name }), {
      keyPrefix: redis.prefix,
      blockGraceMs: 60_000,
    });
    await bus.createGroup('s2', GROUP, { startId: '$' });
    const reading = read(bus, { blockMs: 30_000, streams: ['s2'] });
    await eventually(async () => (await blockedClients(redis.client, name)) === 1);
    // A network blip: the server drops the connection and would take a new one at once.
    const [id] = (await blockedIds(redis.client, name)) as [string];
    const cut = assert.rejects(reading, isOutage(/Redis unavailable/));
    await redis.client.client('KILL', 'ID', id);
    await cut;
    await nextReadGetsTheEntry(bus, 's2');
  });

  it('a read aborted while its connection opens is never sent; so is a batch whose bus closes meanwhile', {
    timeout: 30_000,
  }, async () => {
    // With a password the handshake starts with AUTH, which a silent server never answers.
    silent = await startSilentServer();
    const url = `redis://:pw@127.0.0.1:${silent.port}`;
    bus = createRedisBus(quietClient(url), { blockGraceMs: 60_000, publishTimeoutMs: 60_000 });
    const stop = new AbortController();
    const reading = read(bus, { blockMs: 1_000, signal: stop.signal });
    const adding = bus.addBatch([{ stream: 's', fields: { n: '1' } }]);
    await eventually(() => (silent?.wire().match(/auth/gi) ?? []).length >= 2);
    stop.abort();
    assert.deepEqual(await reading, []);
    await bus.close();
    bus = undefined;
    await assert.rejects(adding, TransientError);
    assert.doesNotMatch(silent.wire(), /xadd|xreadgroup/i);
  });

  it('a Redis with every client slot taken is an outage, even for a single add', async () => {
    server = await startRedisServer({ maxClients: 2 });
    const main = new Redis(server.url);
    const holder = new Redis(server.url);
    // Redis refuses the connection after accepting it (a reply the handshake swallows, then a close).
    for (const client of [main, holder]) client.on('error', () => {});
    try {
      await main.ping();
      await holder.ping();
      bus = createRedisBus(main);
      await assert.rejects(
        bus.addBatch([{ stream: 'identity', fields: { event_id: 'e1' } }]),
        isOutage(/Redis unavailable/),
      );
      await assert.rejects(read(bus, { blockMs: 100 }), isOutage(/Redis unavailable/));
    } finally {
      holder.disconnect();
    }
  });

  it('a refused connection is an outage for adds and blocked reads', async () => {
    bus = createRedisBus(quietClient(`redis://127.0.0.1:${await freePort()}`));
    await assert.rejects(
      bus.addBatch([{ stream: 's', fields: { n: '1' } }]),
      isOutage(/Redis unavailable: connection refused by 127\.0\.0\.1:\d+/),
    );
    await assert.rejects(
      read(bus, { blockMs: 100 }),
      isOutage(/Redis unavailable: connection refused by 127\.0\.0\.1:\d+/),
    );
  });
});
