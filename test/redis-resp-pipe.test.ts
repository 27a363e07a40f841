// The relay's bare RESP connection: replies in order with errors in place, a silent or absent
// server surfaces as a TransientError (an outage the relay waits out), never as a hang.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisBus } from '../src/adapters/redis/bus.ts';
import { createRespPipe, encodeCommand, encodeXadds } from '../src/adapters/redis/resp-pipe.ts';
import { TransientError } from '../src/core/errors.ts';
import { freePort } from './helpers/free-port.ts';
import { createTestRedis, startRedisServer, type TestRedis } from './helpers/redis.ts';
import { REDIS_URL, skipUnless } from './helpers/services.ts';

const { hostname, port } = new URL(REDIS_URL);

/** A server that accepts connections and records what it gets, but never answers. */
const startSilentServer = async () => {
  const sockets = new Set<Socket>();
  const received: Buffer[] = [];
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (chunk) => received.push(chunk));
  });
  const silentPort = await freePort();
  await new Promise<void>((resolve) => server.listen(silentPort, '127.0.0.1', resolve));
  return {
    port: silentPort,
    connections: () => sockets.size,
    wire: () => Buffer.concat(received).toString('latin1'),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
};
const redisAddress = { host: hostname, port: Number(port || 6379) };

describe('RESP pipe', { skip: await skipUnless('redis') }, () => {
  let redis: TestRedis;
  before(async () => {
    redis = await createTestRedis();
  });
  after(async () => {
    await redis.cleanup();
  });

  it('answers a batch of XADDs in order, an error reply in its own place', async () => {
    const stream = `${redis.prefix}pipe`;
    const notAStream = `${redis.prefix}plain`;
    await redis.client.set(notAStream, 'x');
    const pipe = createRespPipe({ ...redisAddress, timeoutMs: 2_000 });
    try {
      const replies = await pipe.send(
        encodeXadds([
          { key: stream, fields: { event_id: 'a', payload: '{"title":"naïve ✓"}' } },
          { key: notAStream, fields: { event_id: 'b' } },
          { key: stream, fields: { event_id: 'c' } },
        ]),
        3,
      );
      assert.equal(replies.length, 3);
      assert.match(String(replies[0]), /^\d+-\d+$/);
      assert.match((replies[1] as { error: string }).error, /^WRONGTYPE/);
      assert.match(String(replies[2]), /^\d+-\d+$/);
      const entries = await redis.client.xrange(stream, '-', '+');
      assert.deepEqual(
        entries.map(([, fields]) => fields),
        [
          ['event_id', 'a', 'payload', '{"title":"naïve ✓"}'],
          ['event_id', 'c'],
        ],
      );
      // Batches sent back to back keep their own replies.
      const [first, second] = await Promise.all([
        pipe.send(Buffer.from(encodeCommand(['PING'])), 1),
        pipe.send(Buffer.from(encodeCommand(['XLEN', stream])), 1),
      ]);
      assert.deepEqual(first, ['PONG']);
      assert.deepEqual(second, ['2']);
    } finally {
      pipe.close();
    }
  });

  it('reports a server that never answers as an outage after the timeout, then reconnects', async () => {
    const silent = await startSilentServer();
    const pipe = createRespPipe({ host: '127.0.0.1', port: silent.port, timeoutMs: 200 });
    try {
      const started = Date.now();
      await assert.rejects(pipe.send(Buffer.from(encodeCommand(['PING'])), 1), (error: unknown) => {
        assert.ok(error instanceof TransientError);
        assert.match(error.message, /no reply within 200 ms/);
        return true;
      });
      assert.ok(Date.now() - started < 2_000, 'gave up near its timeout');
      // The dead connection is dropped: the next batch opens a new one.
      await assert.rejects(pipe.send(Buffer.from(encodeCommand(['PING'])), 1), TransientError);
      assert.equal(silent.connections(), 2);
    } finally {
      pipe.close();
      await silent.close();
    }
  });

  it('authenticates and selects the database; a wrong password is an outage, not a crash', async () => {
    const server = await startRedisServer({ password: 's3cret' });
    const address = { host: '127.0.0.1', port: server.port, timeoutMs: 2_000 };
    const pipe = createRespPipe({ ...address, password: 's3cret', db: 3 });
    const wrong = createRespPipe({ ...address, password: 'nope' });
    try {
      const key = `${redis.prefix}authed`;
      assert.match(String((await pipe.send(encodeXadds([{ key, fields: { a: '1' } }]), 1))[0]), /^\d+-\d+$/);
      assert.deepEqual(await pipe.send(Buffer.from(encodeCommand(['XLEN', key])), 1), ['1']);
      const direct = new Redis({ port: server.port, password: 's3cret', db: 3 });
      assert.equal(await direct.xlen(key), 1, 'written to database 3');
      direct.disconnect();
      await assert.rejects(wrong.send(Buffer.from(encodeCommand(['PING'])), 1), (error: unknown) => {
        assert.ok(error instanceof TransientError);
        assert.match(error.message, /refused the connection: WRONGPASS/);
        return true;
      });
    } finally {
      pipe.close();
      wrong.close();
      await server.kill();
    }
  });

  it('ignores an AUTH that Redis has no password for, as ioredis does', async () => {
    const pipe = createRespPipe({ ...redisAddress, password: 'not-needed', timeoutMs: 2_000 });
    try {
      assert.deepEqual(await pipe.send(Buffer.from(encodeCommand(['PING'])), 1), ['PONG']);
    } finally {
      pipe.close();
    }
  });

  it('sends nothing for a batch whose connection is dropped or closed while it opens', async () => {
    // A server that accepts and records but never answers: the AUTH handshake (or, with TLS, the
    // TLS handshake) never completes, so the pipe is still opening when it is dropped.
    const silent = await startSilentServer();
    const address = { host: '127.0.0.1', port: silent.port, timeoutMs: 10_000 };
    const dropped = createRespPipe({ ...address, password: 'pw' });
    const closed = createRespPipe({ ...address, tls: {} });
    try {
      const started = Date.now();
      const first = dropped.send(Buffer.from(encodeCommand(['XREADGROUP', 'marker-1'])), 1);
      const second = closed.send(Buffer.from(encodeCommand(['XADD', 'marker-2'])), 1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      dropped.drop('blocked read aborted');
      closed.close();
      await assert.rejects(first, TransientError);
      await assert.rejects(second, TransientError);
      assert.ok(Date.now() - started < 2_000, 'failed at once, not after the timeout');
      await new Promise((resolve) => setTimeout(resolve, 100));
      const wire = silent.wire();
      assert.match(wire, /AUTH/, 'the handshake was under way');
      assert.doesNotMatch(wire, /marker/);
    } finally {
      dropped.close();
      await silent.close();
    }
  });

  it('treats a Redis with every client slot taken as an outage, even for a single add', async () => {
    const server = await startRedisServer({ maxClients: 2 });
    const main = new Redis({ port: server.port });
    const holder = new Redis({ port: server.port });
    const bus = createRedisBus(main);
    try {
      await main.ping();
      await holder.ping();
      await assert.rejects(bus.addBatch([{ stream: 'identity', fields: { event_id: 'e1' } }]), (error) => {
        assert.ok(error instanceof TransientError, String(error));
        assert.match(error.message, /max number of clients/);
        return true;
      });
    } finally {
      holder.disconnect();
      await bus.close();
      await server.kill();
    }
  });

  it('reports a refused connection as an outage', async () => {
    const pipe = createRespPipe({ host: '127.0.0.1', port: await freePort(), timeoutMs: 1_000 });
    try {
      await assert.rejects(pipe.send(Buffer.from(encodeCommand(['PING'])), 1), (error: unknown) => {
        assert.ok(error instanceof TransientError);
        assert.match(error.message, /Redis unavailable/);
        return true;
      });
    } finally {
      pipe.close();
    }
  });
});
