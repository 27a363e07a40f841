// /health/detailed tells the operator what is wrong in their words: every service (backend, relay,
// consumer) calls Redis unhealthy once its memory is full and writes fail with OOM, and an
// unreachable Redis or Postgres is "connection refused by <address>", never a client library's
// option name or retry counter.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import {
  assertNoBinariesLeft,
  type BinaryName,
  type RunningBinary,
  startBinary,
} from './helpers/binaries.ts';
import { eventually } from './helpers/eventually.ts';
import { freePort } from './helpers/free-port.ts';
import { databaseUrl, useTestDatabase } from './helpers/postgres.ts';
import { type RedisServer, startRedisServer } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

type Check = { status: string; reason?: string };
type Detailed = { status: string; checks: Record<string, Check> };

const detailed = async (binary: RunningBinary): Promise<Detailed> =>
  (await (await fetch(`${binary.url}/health/detailed`)).json()) as Detailed;

const services: ReadonlyArray<[BinaryName, string]> = [
  ['mm-backend', 'serve'],
  ['mm-relay', 'run'],
  ['mm-consumer', 'run'],
];

// Wording that belongs to ioredis or postgres.js, not to an operator.
const libraryWords = /maxRetriesPerRequest|max retries per request|enableOfflineQueue|CONNECT_TIMEOUT/i;

describe('health reasons an operator can act on', { skip: await skipUnless('postgres') }, () => {
  const db = useTestDatabase();
  let redis: RedisServer | undefined;
  let started: RunningBinary[] = [];

  before(async () => {
    redis = await startRedisServer();
  });
  afterEach(async () => {
    await Promise.all(started.map((binary) => binary.stop()));
    started = [];
    assertNoBinariesLeft();
  });
  after(async () => {
    await redis?.kill();
  });

  const startAll = async (databaseUrlFor: string, redisUrl: string): Promise<RunningBinary[]> => {
    started = await Promise.all(
      services.map(([name, command]) =>
        startBinary(name, [command, '--database-url', databaseUrlFor, '--redis-url', redisUrl]),
      ),
    );
    return started;
  };

  it('Redis memory full: every service reports Redis unhealthy with the reason', async () => {
    assert.ok(redis);
    const binaries = await startAll(db.url, redis.url);
    const client = new Redis(redis.url);
    try {
      await client.set('filler', 'x'.repeat(2 * 1024 * 1024));
      await client.config('SET', 'maxmemory', String(1024 * 1024));
      await assert.rejects(client.set('one-more', 'x'), /OOM/);
      for (const binary of binaries) {
        const report = await eventually(async () => {
          const health = await detailed(binary);
          return health.checks.redis?.status === 'unhealthy' && health;
        }, 10_000);
        assert.equal(report.status, 'unhealthy');
        assert.match(
          report.checks.redis?.reason ?? '',
          /memory full: used_memory .* has reached maxmemory 1\.0 MB; writes fail with OOM/,
        );
      }
    } finally {
      await client.config('SET', 'maxmemory', '0');
      await client.del('filler');
      client.disconnect();
    }
    for (const binary of binaries) {
      await eventually(async () => (await detailed(binary)).checks.redis?.status === 'healthy', 10_000, {
        message: 'Redis healthy again once memory is freed',
      });
    }
  });

  it('an unreachable Redis or Postgres is "connection refused by <address>"', async () => {
    const redisPort = await freePort();
    const pgPort = await freePort();
    const url = new URL(databaseUrl(db.name));
    url.port = String(pgPort);
    const binaries = await startAll(url.toString(), `redis://127.0.0.1:${redisPort}`);
    const redisReason = `Redis unavailable: connection refused by 127.0.0.1:${redisPort}`;
    const databaseReason = `database unavailable: connection refused by 127.0.0.1:${pgPort}`;
    for (const binary of binaries) {
      // A check that times out in between says so instead; the reasons settle on the refusal.
      const report = await eventually(
        async () => {
          const health = await detailed(binary);
          return (
            health.checks.redis?.reason === redisReason &&
            health.checks.database?.reason === databaseReason &&
            health
          );
        },
        15_000,
        { message: `${redisReason} and ${databaseReason}` },
      );
      const everyReason = JSON.stringify(report);
      assert.doesNotMatch(everyReason, libraryWords);
    }
  });
});
