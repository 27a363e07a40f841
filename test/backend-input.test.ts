// What the users API lets in and what it lets out, the same in both deployments: exactly
// application/json; no NUL or lone surrogate stored; names counted in characters; a bounded,
// printable correlation id; a request waiting for the database answers 503 "database unavailable"
// within --request-timeout-ms and writes nothing; the database's own error text never reaches the
// client; the listener drops clients that trickle their headers.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import { createPostgresStore } from '../src/adapters/postgres/store.ts';
import { openSqlite } from '../src/adapters/sqlite/driver/driver.ts';
import { openLocalPorts } from '../src/adapters/sqlite/local-ports.ts';
import { type Backend, createBackend } from '../src/backend/backend.ts';
import { silentLogger } from '../src/core/logger.ts';
import { createMetricsRegistry } from '../src/core/metrics.ts';
import type { Bus } from '../src/ports/bus.ts';
import type { Store } from '../src/ports/store.ts';
import { bodyOf, recordingLogger, testBus } from './helpers/backend.ts';
import { freePort } from './helpers/free-port.ts';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.ts';
import { createTestRedis, type TestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

const REQUEST_TIMEOUT_MS = 300;

const backendOn = (store: Store, bus: Bus, port = 0): Backend =>
  createBackend(
    { store, bus, logger: recordingLogger(), registry: createMetricsRegistry({ defaults: false }) },
    { host: '127.0.0.1', port, topics: ['identity'], requestTimeoutMs: REQUEST_TIMEOUT_MS },
  );

const send = (
  backend: Backend,
  path: string,
  body: string,
  options: { method?: string; type?: string; headers?: Record<string, string> } = {},
): Promise<Response> =>
  Promise.resolve(
    backend.app.request(path, {
      method: options.method ?? 'POST',
      headers: { 'content-type': options.type ?? 'application/json', ...options.headers },
      body,
    }),
  );

type Mode = {
  readonly store: Store;
  readonly bus: Bus;
  /** Holds a lock the backend's write on this user must wait for; resolves to its release. */
  hold(userId: string): Promise<() => Promise<void>>;
  /** Outbox rows of one user, by event type. */
  eventsOf(userId: string): Promise<string[]>;
  close(): Promise<void>;
};

const postgresMode = async (): Promise<Mode & { db: TestDatabase }> => {
  const db = await createTestDatabase();
  const redis: TestRedis = await createTestRedis();
  const bus = testBus(redis.url, redis.prefix, silentLogger);
  return {
    db,
    store: db.store,
    bus,
    hold: async (userId) => {
      const locker = postgres(db.url, { max: 1, onnotice: () => {} });
      const reserved = await locker.reserve();
      await reserved`begin`;
      await reserved`select id from users where id = ${userId} for update`;
      return async () => {
        await reserved`commit`;
        reserved.release();
        await locker.end();
      };
    },
    eventsOf: async (userId) =>
      (
        await db.sql<
          { event_type: string }[]
        >`select event_type from outbox where aggregate_id = ${userId} order by id`
      ).map((row) => row.event_type),
    close: async () => {
      await bus.close();
      await redis.cleanup();
      await db.drop();
    },
  };
};

const localMode = async (): Promise<Mode> => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-input-'));
  const file = join(dir, 'mm.db');
  const local = await openLocalPorts({ file, logger: silentLogger });
  const reader = await openSqlite({ file });
  return {
    store: local.store,
    bus: local.bus,
    hold: async () => {
      // Another process's write transaction: the file's write lock, which the backend waits for.
      const writer = await openSqlite({ file, busyTimeoutMs: 0 });
      writer.exec('BEGIN IMMEDIATE');
      return async () => {
        writer.exec('COMMIT');
        writer.close();
      };
    },
    eventsOf: async (userId) =>
      (
        reader
          .prepare('select event_type from outbox where aggregate_id = ? order by id')
          .all(userId) as Array<{
          event_type: string;
        }>
      ).map((row) => row.event_type),
    close: async () => {
      reader.close();
      await local.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

const modes: ReadonlyArray<[string, () => Promise<Mode>, false | string]> = [
  ['production (Postgres)', postgresMode, await skipUnless('postgres', 'redis')],
  ['local (SQLite file)', localMode, false],
];

for (const [name, open, skip] of modes) {
  describe(`users API input and output, ${name}`, { skip }, () => {
    let mode: Mode;
    let backend: Backend;
    before(async () => {
      mode = await open();
      backend = backendOn(mode.store, mode.bus);
    });
    after(async () => {
      await mode?.close();
    });

    const create = async (body: Record<string, unknown>): Promise<Record<string, string>> => {
      const response = await send(backend, '/api/users', JSON.stringify(body));
      assert.equal(response.status, 201, JSON.stringify(await response.clone().json()));
      return bodyOf(response);
    };

    it('takes application/json (with parameters, any case) and answers 415 to anything else', async () => {
      const body = (tag: string) => JSON.stringify({ email: `${tag}.${Date.now()}@example.com` });
      for (const type of ['application/json; charset=utf-8', 'Application/JSON']) {
        assert.equal((await send(backend, '/api/users', body('ok'), { type })).status, 201, type);
      }
      for (const type of [
        'text/json',
        'application/jsonx',
        'application/json-patch+json',
        'text/plain; x=json',
      ]) {
        const response = await send(backend, '/api/users', body('no'), { type });
        assert.equal(response.status, 415, type);
        assert.equal((await bodyOf(response)).detail, 'content-type must be application/json');
      }
    });

    it('refuses NUL and lone surrogates with 400 and stores nothing; counts names in characters', async () => {
      const user = await create({ email: `text.${Date.now()}@example.com` });
      const bad = [
        '{"email":"nul\\u0000@example.com"}',
        '{"email":"ok@example.com","display_name":"a\\u0000b"}',
        '{"email":"ok2@example.com","display_name":"half \\ud83d"}',
        '{"email":"ok3@example.com","display_name":"\\ude00 tail"}',
      ];
      for (const body of bad) {
        const response = await send(backend, '/api/users', body);
        assert.equal(response.status, 400, body);
        assert.match((await bodyOf(response)).detail, /NUL|lone surrogate/);
      }
      const patched = await send(backend, `/api/users/${user.id}`, '{"display_name":"x\\u0000"}', {
        method: 'PATCH',
      });
      assert.equal(patched.status, 400);
      assert.deepEqual(await mode.eventsOf(user.id ?? ''), ['user.created']);

      const emoji = '\u{1F600}'.repeat(200);
      const renamed = await send(backend, `/api/users/${user.id}`, JSON.stringify({ display_name: emoji }), {
        method: 'PATCH',
      });
      assert.equal(renamed.status, 200);
      const read = await bodyOf(await backend.app.request(`/api/users/${user.id}`));
      assert.equal(read.display_name, emoji, 'stored and read back exactly');
      const tooLong = await send(
        backend,
        `/api/users/${user.id}`,
        JSON.stringify({ display_name: `${emoji}x` }),
        {
          method: 'PATCH',
        },
      );
      assert.equal(tooLong.status, 400);
    });

    it('takes a correlation id of up to 128 printable characters and refuses others', async () => {
      const body = () => JSON.stringify({ email: `corr.${Date.now()}.${Math.random()}@example.com` });
      const ok = await send(backend, '/api/users', body(), {
        headers: { 'x-correlation-id': 'c'.repeat(128) },
      });
      assert.equal(ok.status, 201);
      for (const id of ['c'.repeat(129), 'has space', '']) {
        const response = await send(backend, '/api/users', body(), { headers: { 'x-correlation-id': id } });
        assert.equal(response.status, 400, JSON.stringify(id));
        assert.match((await bodyOf(response)).detail, /x-correlation-id must be 1 to 128 printable/);
      }
    });

    // Without a deadline the request would wait for the lock, which is released only after it answers.
    it('answers 503 "database unavailable" within --request-timeout-ms while it waits, and writes nothing', {
      timeout: 30_000,
    }, async () => {
      const user = await create({ email: `wait.${Date.now()}@example.com` });
      const release = await mode.hold(user.id ?? '');
      let response: Response;
      try {
        response = await send(backend, `/api/users/${user.id}`, '{"display_name":"late"}', {
          method: 'PATCH',
        });
      } finally {
        await release();
      }
      assert.equal(response.status, 503);
      assert.equal(
        (await bodyOf(response)).detail,
        `database unavailable: no answer within ${REQUEST_TIMEOUT_MS} ms`,
      );
      // The transaction that was still waiting rolls back instead of committing behind the client. A
      // later write of the same user waits for it (row lock, or the file's one writer), then shows it.
      const next = await send(backend, `/api/users/${user.id}`, '{"display_name":"next"}', {
        method: 'PATCH',
      });
      assert.equal(next.status, 200);
      assert.equal((await bodyOf(await backend.app.request(`/api/users/${user.id}`))).display_name, 'next');
      assert.deepEqual(await mode.eventsOf(user.id ?? ''), ['user.created', 'user.updated']);
    });
  });
}

describe('database error text stays in the logs', { skip: await skipUnless('redis') }, () => {
  it('an unreachable Postgres is 503 "database unavailable", nothing more', async () => {
    const store = createPostgresStore({
      url: `postgres://root@127.0.0.1:${await freePort()}/mm`,
      maxConnections: 1,
    });
    const redis = await createTestRedis();
    const bus = testBus(redis.url, redis.prefix, silentLogger);
    try {
      const backend = backendOn(store, bus);
      const response = await send(backend, '/api/users', JSON.stringify({ email: 'x@example.com' }));
      assert.equal(response.status, 503);
      assert.deepEqual(await bodyOf(response), {
        type: 'about:blank',
        title: 'Service Unavailable',
        status: 503,
        detail: 'database unavailable',
      });
    } finally {
      await store.close();
      await bus.close();
      await redis.cleanup();
    }
  });
});

describe('listener timeouts', () => {
  it('drops a client that never finishes its headers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-slow-'));
    const local = await openLocalPorts({ file: join(dir, 'mm.db'), logger: silentLogger });
    const backend = backendOn(local.store, local.bus, await freePort());
    const server = await backend.start();
    try {
      const socket = connect(server.port, '127.0.0.1');
      socket.write('POST /api/users HTTP/1.1\r\nHost: x\r\n');
      const answer = await new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (chunk) => {
          text += chunk.toString();
        });
        socket.on('close', () => resolve(text));
        socket.on('error', () => resolve(text));
        // Node's own defaults would wait 60 s for the headers, checked every 30 s.
        setTimeout(() => resolve('still open after 20 s'), 20_000).unref();
      });
      socket.destroy();
      assert.match(answer, /^HTTP\/1\.1 408/);
    } finally {
      await backend.stop();
      await local.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
