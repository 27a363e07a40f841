// /health/detailed follows Redis: unhealthy (503) with the reason while it is down or stalled,
// healthy again once it is back, without restarting the backend; the changes are logged.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { Backend } from '../src/backend/backend.ts';
import type { Bus } from '../src/ports/bus.ts';
import { bodyOf, type RecordingLogger, recordingLogger, testBackend, testBus } from './helpers/backend.ts';
import { eventually } from './helpers/eventually.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { type RedisServer, startRedisServer } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

describe('backend health follows Redis', { skip: await skipUnless('postgres') }, () => {
  const db = useTestDatabase();
  let redis: RedisServer;
  let bus: Bus;
  let backend: Backend;
  let logger: RecordingLogger;

  before(async () => {
    redis = await startRedisServer();
    logger = recordingLogger();
    bus = testBus(redis.url, 'h:', logger);
    backend = testBackend(db.store, bus, logger);
  });
  after(async () => {
    await bus.close();
    await redis.kill();
  });

  const detailed = async () => {
    const response = await backend.app.request('/health/detailed');
    return { status: response.status, body: await bodyOf(response) };
  };

  it('is unhealthy with the reason while Redis is stopped, healthy after it returns', async () => {
    assert.equal((await detailed()).body.status, 'healthy');
    await redis.stop();
    const down = await detailed();
    assert.equal(down.status, 503);
    assert.equal(down.body.status, 'unhealthy');
    assert.equal(down.body.checks.database.status, 'healthy');
    assert.match(down.body.checks.redis.reason, /Redis unavailable|did not answer/);
    assert.ok(logger.lines.some((l) => /is unhealthy: redis/.test(String(l.msg))));

    await redis.restart();
    const back = await eventually(async () => {
      const report = await detailed();
      return report.body.status === 'healthy' ? report : undefined;
    }, 10_000);
    assert.equal(back.status, 200);
    assert.ok(logger.lines.some((l) => l.msg === 'Service backend is healthy again'));
  });

  it('says unhealthy while Redis is paused (socket open, no replies)', async () => {
    redis.pause();
    try {
      // The check's own deadline answers, rather than a hung request.
      const report = await detailed();
      assert.equal(report.status, 503);
      assert.match(report.body.checks.redis.reason, /did not answer within|timed out/);
    } finally {
      redis.resume();
    }
    await eventually(async () => (await detailed()).body.status === 'healthy', 10_000);
  });

  it('is degraded with a clear reason when Redis may evict keys', async () => {
    const admin = new Redis(redis.url);
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const report = await detailed();
      assert.equal(report.status, 200);
      assert.equal(report.body.status, 'degraded');
      assert.match(report.body.checks.redis.reason, /maxmemory-policy is allkeys-lru.*noeviction/);
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      admin.disconnect();
    }
  });
});
