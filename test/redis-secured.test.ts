// The built relay and consumer against a password-protected and a TLS-only redis-server: events flow
// end to end; a wrong password, a missing database, a database that is no number or an untrusted
// certificate at start-up stops every binary with exit 78 and a clear line, instead of retrying
// forever as if Redis were down. A Redis Cluster and a master through Sentinel carry events too.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { assertNoBinariesLeft, type BinaryName, runBinary, startBinary } from './helpers/binaries.ts';
import { eventually } from './helpers/eventually.ts';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.ts';
import { type RedisServer, startRedisServer } from './helpers/redis.ts';
import { startRedisCluster, startSentinel } from './helpers/redis-cluster.ts';
import { type WrittenEvent, writeUserEvents } from './helpers/relay.ts';
import { skipUnless } from './helpers/services.ts';
import { createTestCertificates, type TestCertificates } from './helpers/tls-certs.ts';

describe('relay and consumer against a secured Redis', { skip: await skipUnless('postgres') }, () => {
  let db: TestDatabase;
  let server: RedisServer | undefined;
  let certs: TestCertificates | undefined;

  before(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    assertNoBinariesLeft();
    await server?.kill();
    certs?.remove();
    server = undefined;
    certs = undefined;
  });
  after(async () => {
    await db.drop();
  });

  const applied = async (events: readonly WrittenEvent[]): Promise<number> => {
    const [row] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from event_ledger where event_id = any(${events.map((e) => e.eventId)})`;
    return row?.n ?? 0;
  };

  /** Relay and consumer on `redisUrl`: every event written reaches the ledger once. */
  const eventsFlow = async (redisUrl: string, env?: Record<string, string>): Promise<void> => {
    const connection = ['--database-url', db.url, '--redis-url', redisUrl];
    const relay = await startBinary('mm-relay', ['run', ...connection, '--poll-interval-ms', '100'], { env });
    const consumer = await startBinary('mm-consumer', ['run', ...connection, '--block-ms', '200'], { env });
    const events = await writeUserEvents(db.store, { users: 10, updatesPerUser: 1 });
    await eventually(async () => (await applied(events)) === events.length, 20_000, {
      message: `${events.length} events applied`,
    });
    assert.equal(await relay.stop(), 0);
    assert.equal(await consumer.stop(), 0);
  };

  // What each binary runs at start-up, given a Redis URL; --port 0 so nothing collides.
  const startups: ReadonlyArray<[BinaryName, string[]]> = [
    ['mm-relay', ['run', '--port', '0']],
    ['mm-consumer', ['run', '--port', '0']],
    ['mm-backend', ['serve', '--port', '0']],
    ['mm-dlq', ['list', '--stream', 'identity.dlq']],
  ];

  /** Every binary exits 78 with one clear problem matching `pattern`, never showing `secret`. */
  const everyBinaryRefuses = async (
    redisUrl: string,
    pattern: RegExp,
    options: { secret?: string; env?: Record<string, string> } = {},
  ): Promise<void> => {
    const results = await Promise.all(
      startups.map(async ([name, args]) => {
        const run = await runBinary(name, [...args, '--database-url', db.url, '--redis-url', redisUrl], {
          timeoutMs: 30_000,
          ...(options.env ? { env: options.env } : {}),
        });
        return { name, ...run };
      }),
    );
    for (const { name, code, stdout, stderr } of results) {
      assert.equal(code, 78, `${name} exit code; stderr: ${stderr}`);
      assert.match(stderr, new RegExp(`^${name}: invalid configuration:\\n  - ${pattern.source}`), name);
      if (options.secret)
        assert.ok(!(stdout + stderr).includes(options.secret), `${name} showed the password`);
    }
  };

  it('password-protected: the right password carries events end to end; a wrong one exits 78', async () => {
    server = await startRedisServer({ password: 'r1ght-pw' });
    const host = `127.0.0.1:${server.port}`;
    await eventsFlow(`redis://:r1ght-pw@${host}`);
    await everyBinaryRefuses(
      `redis://:wr0ng-pw@${host}`,
      new RegExp(
        `Redis at ${host} refused the credentials \\(WRONGPASS .*\\): check --redis-url \\(REDIS_URL\\)`,
      ),
      { secret: 'wr0ng-pw' },
    );
    await everyBinaryRefuses(
      `redis://${host}`,
      new RegExp(`Redis at ${host} refused the credentials .*NOAUTH`),
    );
  });

  it('a database the server lacks, or one that is no number, exits 78 in every binary', async () => {
    server = await startRedisServer();
    const host = `127.0.0.1:${server.port}`;
    await everyBinaryRefuses(`redis://${host}/99`, new RegExp(`Redis at ${host} has no such database`));
    await everyBinaryRefuses(
      `redis://${host}/abc`,
      new RegExp(`--redis-url \\(REDIS_URL\\): the database "abc" for Redis at ${host} is not a number`),
    );
  });

  it('TLS only (rediss://): events flow with the CA given by NODE_EXTRA_CA_CERTS; without it, exit 78', async () => {
    certs = createTestCertificates();
    server = await startRedisServer({ tls: certs });
    assert.match(server.url, /^rediss:\/\//);
    await eventsFlow(server.url, { NODE_EXTRA_CA_CERTS: certs.caFile });
    await everyBinaryRefuses(
      server.url,
      new RegExp(
        `Redis at 127.0.0.1:${server.port} presented a TLS certificate this process does not trust .*NODE_EXTRA_CA_CERTS`,
      ),
    );
  });
  it('a cluster by its seed nodes and a master through Sentinel carry events; bad forms exit 78 naming the problem', async () => {
    const cluster = await startRedisCluster();
    try {
      await eventsFlow(cluster.url);
    } finally {
      await cluster.stop();
    }
    const sentinel = await startSentinel();
    try {
      await eventsFlow(sentinel.url);
    } finally {
      await sentinel.stop();
    }
    await everyBinaryRefuses(
      'redis+sentinel://u:s3cr3t-pw@127.0.0.1:1',
      /--redis-url \(REDIS_URL\): a redis\+sentinel:\/\/ URL needs the master name after the hosts/,
      { secret: 's3cr3t-pw' },
    );
    await everyBinaryRefuses(
      'redis+cluster://u:s3cr3t-pw@127.0.0.1:1,127.0.0.1:x',
      /--redis-url \(REDIS_URL\): a redis\+cluster:\/\/ URL needs host:port pairs separated by commas, got "127.0.0.1:x"/,
      { secret: 's3cr3t-pw' },
    );
    await everyBinaryRefuses(
      'redis+cluster://127.0.0.1:1/2',
      /--redis-url \(REDIS_URL\): the redis\+cluster:\/\/ URL names the database "2": a Redis Cluster has database 0 only/,
    );
  });
});
