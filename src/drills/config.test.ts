import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../core/errors.ts';
import { loadDrillConfig } from './config.ts';

const fresh = (): string => '/tmp/fresh/drill.db';
const PG = 'postgres://root@127.0.0.1:5432/drills';
const REDIS = 'redis://127.0.0.1:6379';

describe('loadDrillConfig', () => {
  it('runs on a fresh temporary file unless told where, and never reads the environment for it', () => {
    const config = loadDrillConfig(
      'ordering',
      {},
      { MM_LOCAL: 'x.db', DATABASE_URL: PG, REDIS_URL: REDIS },
      fresh,
    );
    assert.deepEqual(config.drills, ['ordering']);
    assert.equal(config.temporary, true);
    assert.equal(config.deployment.kind, 'local');
    assert.equal(config.deployment.kind === 'local' && config.deployment.file, '/tmp/fresh/drill.db');
  });

  it('runs on Postgres and Redis given both on the command line, with a key prefix', () => {
    const config = loadDrillConfig(
      'all',
      { databaseUrl: PG, redisUrl: REDIS, keyPrefix: 'drill:' },
      {},
      fresh,
    );
    assert.equal(config.temporary, false);
    assert.deepEqual(config.deployment, {
      kind: 'production',
      databaseUrl: PG,
      redisUrl: REDIS,
      keyPrefix: 'drill:',
    });
    assert.equal(config.drills.length, 5);
  });

  for (const [flags, problem] of [
    [
      { local: 'd.db', databaseUrl: PG, redisUrl: REDIS },
      /--local and --database-url\/--redis-url select different deployments/,
    ],
    [{ databaseUrl: PG }, /production mode needs both --database-url and --redis-url/],
    [{ redisUrl: REDIS }, /production mode needs both --database-url and --redis-url/],
    [{ keyPrefix: 'drill:' }, /--key-prefix needs --database-url and --redis-url/],
    [{ databaseUrl: 'mysql://x', redisUrl: REDIS }, /--database-url/],
  ] as const) {
    it(`refuses ${JSON.stringify(flags)}`, () => {
      assert.throws(
        () => loadDrillConfig('ordering', flags, {}, fresh),
        (error: unknown) => error instanceof ConfigError && problem.test(error.message),
      );
    });
  }
});
