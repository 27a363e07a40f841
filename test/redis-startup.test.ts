// The Redis client as services open it: what retrying cannot fix (a refused password, a database
// the server lacks or a URL whose database is no number) fails at start-up as a configuration error
// naming the host, never the password; an outage does not; the bus's own connections carry the
// password and database too.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisBus } from '../src/adapters/redis/bus.ts';
import { openRedisClient } from '../src/adapters/redis/client.ts';
import { ConfigError, TransientError } from '../src/core/errors.ts';
import { silentLogger } from '../src/core/logger.ts';
import type { Bus } from '../src/ports/bus.ts';
import { freePort } from './helpers/free-port.ts';
import { type RedisServer, startRedisServer } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

const open = (url: string) => openRedisClient({ url, logger: silentLogger });

const configError =
  (pattern: RegExp, secret?: string) =>
  (error: unknown): boolean => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.match(error.message, pattern);
    if (secret) assert.ok(!error.message.includes(secret), 'the password is never shown');
    return true;
  };

describe('Redis start-up checks', { skip: await skipUnless('redis') }, () => {
  let server: RedisServer | undefined;
  let bus: Bus | undefined;
  afterEach(async () => {
    await bus?.close();
    await server?.kill();
    bus = undefined;
    server = undefined;
  });

  it('a refused or missing password is a configuration error naming the host', async () => {
    server = await startRedisServer({ password: 's3cret-right' });
    const host = `127.0.0.1:${server.port}`;
    await assert.rejects(
      open(`redis://:wrong-pw-123@${host}`),
      configError(new RegExp(`Redis at ${host} refused the credentials \\(WRONGPASS`), 'wrong-pw-123'),
    );
    await assert.rejects(
      open(`redis://${host}`),
      configError(new RegExp(`Redis at ${host} refused the credentials .*NOAUTH`)),
    );
  });

  it('a database the server lacks, or one that is no number, is a configuration error', async () => {
    server = await startRedisServer();
    const host = `127.0.0.1:${server.port}`;
    await assert.rejects(
      open(`redis://${host}/99`),
      configError(new RegExp(`Redis at ${host} has no such database \\(ERR DB index is out of range`)),
    );
    await assert.rejects(
      open(`redis://:pw-in-url@${host}/abc`),
      configError(
        new RegExp(`--redis-url \\(REDIS_URL\\): the database "abc" for Redis at ${host} is not a number`),
        'pw-in-url',
      ),
    );
    await assert.rejects(
      open(`redis://${host}?db=x1`),
      configError(/the database "x1" for Redis at .* is not a number/),
    );
  });

  it('an outage at start-up is no configuration error: the client opens and commands wait it out', async () => {
    const client = await open(`redis://127.0.0.1:${await freePort()}`);
    bus = createRedisBus(client);
    await assert.rejects(bus.ping(), TransientError);
  });

  it('the bus connections use the password and database; a password Redis does not need is ignored', async () => {
    server = await startRedisServer({ password: 's3cret' });
    const url = `redis://:s3cret@127.0.0.1:${server.port}/3`;
    bus = createRedisBus(await open(url));
    await bus.createGroup('s', 'g');
    const [added] = await bus.addBatch([{ stream: 's', fields: { n: '1' } }]);
    assert.ok(added && 'id' in added);
    const [read] = await bus.readGroup({
      group: 'g',
      consumer: 'c',
      streams: ['s'],
      count: 10,
      blockMs: 1_000,
    });
    assert.deepEqual(
      read?.entries.map((e) => e.fields),
      [{ n: '1' }],
    );
    const direct = new Redis(url);
    const db0 = new Redis(`redis://:s3cret@127.0.0.1:${server.port}/0`);
    try {
      assert.equal(await direct.xlen('s'), 1, 'written to database 3');
      assert.equal(await db0.xlen('s'), 0);
    } finally {
      direct.disconnect();
      db0.disconnect();
    }
    await bus.close();
    await server.kill();

    // AUTH to a Redis without a password: ioredis warns and carries on, and so does publishing.
    server = await startRedisServer();
    bus = createRedisBus(await open(`redis://:not-needed@127.0.0.1:${server.port}`));
    await bus.createGroup('s', 'g');
    const [again] = await bus.addBatch([{ stream: 's', fields: { n: '2' } }]);
    assert.ok(again && 'id' in again);
    const [got] = await bus.readGroup({
      group: 'g',
      consumer: 'c',
      streams: ['s'],
      count: 10,
      blockMs: 1_000,
    });
    assert.equal(got?.entries.length, 1);
  });

  it('a password refused after start-up is waited out like an outage', async () => {
    server = await startRedisServer({ password: 'before' });
    const client = await open(`redis://:before@127.0.0.1:${server.port}`);
    bus = createRedisBus(client);
    await bus.add('s', { n: '1' });
    const admin = new Redis({ port: server.port, password: 'before' });
    try {
      await admin.config('SET', 'requirepass', 'after');
      await admin.client('KILL', 'TYPE', 'normal');
    } finally {
      admin.disconnect();
    }
    await assert.rejects(bus.addBatch([{ stream: 's', fields: { n: '2' } }]), (error: unknown) => {
      assert.ok(error instanceof TransientError, String(error));
      assert.match(error.message, /Redis unavailable: WRONGPASS/);
      return true;
    });
  });
});
