import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../core/errors.ts';
import { loadStackConfig } from './config.ts';

const problemsOf = (run: () => unknown): readonly string[] => {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  throw new Error('expected a ConfigError');
};

describe('mm-backend stack configuration', () => {
  it('runs locally on ./mm-local.db whatever DATABASE_URL and REDIS_URL say', () => {
    const config = loadStackConfig({}, { DATABASE_URL: 'postgres://db/x', REDIS_URL: 'redis://r:1' });
    assert.equal(config.deployment.kind, 'local');
    assert.equal(config.file, './mm-local.db');
    assert.deepEqual(config.ports, { backend: 8000, relay: 8080, consumer: 8081 });
    assert.equal(config.demo, false);
  });

  it('takes the file from --local, then MM_LOCAL; ports from flags, then the environment', () => {
    assert.equal(loadStackConfig({}, { MM_LOCAL: '/data/a.db' }).file, '/data/a.db');
    assert.equal(loadStackConfig({ local: 'b.db' }, { MM_LOCAL: '/data/a.db' }).file, 'b.db');
    const config = loadStackConfig(
      { backendPort: '9000', demo: true },
      { MM_RELAY_PORT: '9080', MM_CONSUMER_PORT: '9081', MM_PORT: '1' },
    );
    assert.deepEqual(config.ports, { backend: 9000, relay: 9080, consumer: 9081 });
    assert.equal(config.demo, true);
  });

  it('reports every bad port at once', () => {
    assert.deepEqual(
      problemsOf(() => loadStackConfig({ backendPort: 'http', relayPort: '8081' }, {})),
      [
        '--backend-port must be an integer 0..65535, got "http"',
        '--backend-port, --relay-port and --consumer-port must differ (got 8000, 8081, 8081)',
      ],
    );
  });
});
