import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadBackendConfig } from '../backend/config.ts';
import { type Env, type Problems, resolveWithDeployment, serviceSettings, userCacheDir } from './config.ts';
import { ConfigError } from './errors.ts';
import { parseDurationMs } from './setting-parsers.ts';
import type { FlagsOf } from './settings.ts';

// The settings every service shares, resolved as each service's loader resolves them.
const resolveCommon = (
  flags: FlagsOf<ReturnType<typeof serviceSettings>>,
  env: Env,
  defaults: { port: number },
  problems: Problems,
) => resolveWithDeployment(serviceSettings(defaults.port), flags, env, problems, false);

describe('common configuration', () => {
  it('prefers the flag over the environment over the default', () => {
    const problems: Problems = [];
    const env = { REDIS_URL: 'redis://env:6379', MM_KEY_PREFIX: 'env:', MM_PORT: '9001' };
    const fromEnv = resolveCommon({}, env, { port: 8000 }, problems);
    assert.deepEqual(fromEnv.deployment, {
      kind: 'production',
      databaseUrl: undefined,
      redisUrl: 'redis://env:6379',
      keyPrefix: 'env:',
    });
    assert.equal(fromEnv.port, 9001);
    const fromFlag = resolveCommon(
      { redisUrl: 'redis://flag:6379', port: '9002' },
      env,
      { port: 8000 },
      problems,
    );
    assert.equal(
      fromFlag.deployment.kind === 'production' && fromFlag.deployment.redisUrl,
      'redis://flag:6379',
    );
    assert.equal(fromFlag.port, 9002);
    assert.equal(resolveCommon({}, {}, { port: 8000 }, problems).port, 8000);
    assert.deepEqual(problems, []);
  });

  it('selects local mode from --local or MM_LOCAL', () => {
    const problems: Problems = [];
    assert.deepEqual(resolveCommon({ local: 'x.db' }, {}, { port: 1 }, problems).deployment, {
      kind: 'local',
      file: 'x.db',
    });
    assert.deepEqual(resolveCommon({}, { MM_LOCAL: 'y.db' }, { port: 1 }, problems).deployment, {
      kind: 'local',
      file: 'y.db',
    });
  });

  it('reads no production setting in local mode', () => {
    const problems: Problems = [];
    const env = { MM_LOCAL: 'y.db', DATABASE_URL: 'mysql://x', REDIS_URL: 'http://x' };
    const config = loadBackendConfig({}, env);
    assert.deepEqual(config.deployment, { kind: 'local', file: 'y.db' });
    resolveCommon({ local: 'x.db', redisUrl: 'nope' }, {}, { port: 1 }, problems);
    assert.deepEqual(problems, []);
  });

  it('finds the per-user cache directory: XDG_CACHE_HOME, then ~/.cache, else none', () => {
    assert.equal(userCacheDir({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' }), '/x/cache');
    assert.equal(userCacheDir({ XDG_CACHE_HOME: 'relative', HOME: '/home/u' }), '/home/u/.cache');
    assert.equal(userCacheDir({ HOME: '/home/u' }), '/home/u/.cache');
    assert.equal(userCacheDir({}), undefined);
    const problems: Problems = [];
    assert.deepEqual(
      resolveCommon({ local: 'x.db' }, { HOME: '/home/u' }, { port: 1 }, problems).deployment,
      {
        kind: 'local',
        file: 'x.db',
        cacheDir: '/home/u/.cache',
      },
    );
  });

  it('reports every problem at once', () => {
    assert.throws(
      () =>
        loadBackendConfig(
          {
            port: 'eighty',
            logLevel: 'loud',
            redisUrl: 'http://x',
            databaseUrl: 'mysql://x',
            topics: 'Bad Topic',
          },
          {},
        ),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems.length, 5, error.problems.join(' | '));
        return true;
      },
    );
  });

  it('requires a database URL in production mode', () => {
    assert.throws(() => loadBackendConfig({}, {}), /--database-url \(DATABASE_URL\) is required/);
  });

  it('parses durations with units', () => {
    assert.equal(parseDurationMs('250'), 250);
    assert.equal(parseDurationMs('90s'), 90_000);
    assert.equal(parseDurationMs('2h'), 7_200_000);
    assert.equal(parseDurationMs('30d'), 2_592_000_000);
    assert.equal(parseDurationMs('soon'), undefined);
  });
});
