// Services that cannot start say why and exit, instead of retrying for ever: a database that does not
// exist, a refused Postgres password or a Redis database the server lacks exit 78, a port another
// process holds exits 69. A database that goes away after start is waited out, as any outage.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import postgres from 'postgres';
import { createPostgresStore } from '../src/adapters/postgres/store.ts';
import { assertNoBinariesLeft, type BinaryName, runBinary, startBinary } from './helpers/binaries.ts';
import { eventually } from './helpers/eventually.ts';
import { freePort } from './helpers/free-port.ts';
import { createTestDatabase, databaseUrl, type TestDatabase } from './helpers/postgres.ts';
import { randomPrefix } from './helpers/redis.ts';
import { type RefusingPostgres, startRefusingPostgres } from './helpers/refusing-postgres.ts';
import { POSTGRES_ADMIN_URL, REDIS_URL, skipUnless } from './helpers/services.ts';

// What each service binary runs at start-up; --port given per case.
const services: ReadonlyArray<[BinaryName, string]> = [
  ['mm-backend', 'serve'],
  ['mm-relay', 'run'],
  ['mm-consumer', 'run'],
];

type Outcome = { readonly name: BinaryName; readonly code: number | null; readonly stderr: string };

const startEach = (args: (name: BinaryName) => string[]): Promise<Outcome[]> =>
  Promise.all(
    services.map(async ([name, command]) => {
      const run = await runBinary(name, [command, ...args(name)], { timeoutMs: 30_000 });
      return { name, code: run.code, stderr: run.stderr };
    }),
  );

const assertEvery = (outcomes: Outcome[], code: number, pattern: RegExp, secret?: string): void => {
  for (const outcome of outcomes) {
    assert.equal(outcome.code, code, `${outcome.name} exit code; stderr: ${outcome.stderr}`);
    assert.match(outcome.stderr, pattern, outcome.name);
    if (secret) assert.ok(!outcome.stderr.includes(secret), `${outcome.name} showed the password`);
  }
};

describe('services that cannot start exit with a reason', {
  skip: await skipUnless('postgres', 'redis'),
}, () => {
  let db: TestDatabase;
  let refusing: RefusingPostgres | undefined;
  let holder: Server | undefined;

  before(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    assertNoBinariesLeft();
    await refusing?.close();
    await new Promise((resolve) => (holder ? holder.close(resolve) : resolve(undefined)));
    refusing = undefined;
    holder = undefined;
  });
  after(async () => {
    await db.drop();
  });

  const redis = ['--redis-url', REDIS_URL, '--key-prefix', randomPrefix()];

  it('a database that does not exist exits 78 naming it', async () => {
    const missing = databaseUrl(`mm_missing_${Date.now().toString(36)}`);
    const outcomes = await startEach(() => ['--database-url', missing, ...redis, '--port', '0']);
    assertEvery(
      outcomes,
      78,
      /Postgres at 127\.0\.0\.1(:\d+)?\/mm_missing_\w+ has no such database .*DATABASE_URL/,
    );
    const migrate = await runBinary('mm-backend', ['migrate', '--database-url', missing, ...redis]);
    assert.equal(migrate.code, 78, migrate.stderr);
  });

  it('a password Postgres refuses exits 78, never showing it', async () => {
    refusing = await startRefusingPostgres();
    const outcomes = await startEach(() => ['--database-url', refusing?.url ?? '', ...redis, '--port', '0']);
    assertEvery(
      outcomes,
      78,
      new RegExp(
        `Postgres at 127\\.0\\.0\\.1:${refusing.port}/mm refused the credentials \\(password authentication failed`,
      ),
      'not-the-password',
    );
  });

  it('a Redis database the server lacks exits 78', async () => {
    const outcomes = await startEach(() => [
      '--database-url',
      db.url,
      '--redis-url',
      `${REDIS_URL}/99`,
      '--port',
      '0',
    ]);
    assertEvery(outcomes, 78, /Redis at .* has no such database/);
  });

  it('a port another process listens on exits 69 naming the address', async () => {
    const port = await freePort();
    const server = createServer();
    holder = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const outcomes = await startEach(() => ['--database-url', db.url, ...redis, '--port', String(port)]);
    assertEvery(outcomes, 69, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use`));
  });

  it('a database dropped after start is waited out: unhealthy, then working again once it is back', async () => {
    const scratch = await createTestDatabase();
    const admin = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => {} });
    try {
      const relay = await startBinary('mm-relay', [
        'run',
        '--database-url',
        scratch.url,
        ...redis,
        '--poll-interval-ms',
        '100',
      ]);
      await scratch.store.close();
      await scratch.sql.end({ timeout: 1 });
      await admin.unsafe(`drop database ${scratch.name} with (force)`);
      await eventually(
        async () => {
          const response = await fetch(`${relay.url}/health/detailed`);
          const body = (await response.json()) as {
            status: string;
            checks: { database: { reason?: string } };
          };
          // A reconnect under way may first answer as a timeout; the settled reason names the outage.
          const reason = body.checks.database.reason ?? '';
          return response.status === 503 && /database unavailable/.test(reason);
        },
        20_000,
        { message: 'relay unhealthy, the database named unavailable, while its database is gone' },
      );
      await admin.unsafe(`create database ${scratch.name}`);
      const store = createPostgresStore({ url: scratch.url, maxConnections: 1 });
      await store.migrate();
      await store.close();
      await eventually(async () => (await fetch(`${relay.url}/health/detailed`)).status === 200, 30_000, {
        message: 'relay healthy once the database is back',
      });
      assert.equal(await relay.stop(), 0);
    } finally {
      await admin.unsafe(`drop database if exists ${scratch.name} with (force)`);
      await admin.end();
    }
  });
});
