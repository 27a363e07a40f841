// loadRelayConfig: defaults, flag over environment, and every problem reported at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../src/core/errors.ts';
import { loadRelayConfig, relayDefaults } from '../src/relay/config.ts';

const db = { databaseUrl: 'postgres://root@127.0.0.1:5432/mm' };

const problemsOf = (run: () => unknown): readonly string[] => {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
};

describe('loadRelayConfig', () => {
  it('takes the runbook defaults', () => {
    const config = loadRelayConfig(db, {});
    assert.equal(config.port, 8080);
    assert.equal(config.batchSize, 500);
    assert.equal(config.pollIntervalMs, 1_000);
    assert.equal(config.maxAttempts, 5);
    assert.equal(config.streamMaxLen, 10_000);
    assert.equal(config.streamHardMax, relayDefaults.streamHardMax);
    assert.deepEqual(config.topics, ['identity']);
    assert.equal(config.deployment.kind, 'production');
  });

  it('prefers flags over the environment, and the environment over defaults', () => {
    const config = loadRelayConfig(
      { ...db, batchSize: '50', maxEventBytes: '2048' },
      { MM_RELAY_BATCH_SIZE: '70', MM_RELAY_MAX_ATTEMPTS: '3', MM_TOPICS: 'identity,billing' },
    );
    assert.equal(config.batchSize, 50);
    assert.equal(config.maxAttempts, 3);
    assert.equal(config.maxEventBytes, 2048);
    assert.deepEqual(config.topics, ['identity', 'billing']);
  });

  it('names every problem at once', () => {
    const problems = problemsOf(() =>
      loadRelayConfig(
        {
          batchSize: '0',
          pollIntervalMs: 'soon',
          maxAttempts: '-1',
          streamMaxLen: '500',
          streamHardMax: '100',
          topics: 'Bad Topic',
          redisUrl: 'http://nope',
        },
        {},
      ),
    );
    const text = problems.join('\n');
    for (const expected of [
      '--batch-size',
      '--poll-interval-ms',
      '--max-attempts',
      '--stream-hard-max (100) must be at least --stream-maxlen (500)',
      '--topics',
      '--redis-url',
      '--database-url',
    ]) {
      assert.ok(text.includes(expected), `missing problem about ${expected} in:\n${text}`);
    }
  });

  it('allows turning the caps off with 0', () => {
    const config = loadRelayConfig({ ...db, streamMaxLen: '0', streamHardMax: '0' }, {});
    assert.equal(config.streamMaxLen, 0);
    assert.equal(config.streamHardMax, 0);
  });

  it('reads retention by age and size as durations and bytes, soft under hard, dead groups after 10m', () => {
    const defaults = loadRelayConfig(db, {});
    assert.equal(defaults.streamMaxAge, 0);
    assert.equal(defaults.streamMaxBytes, 0);
    assert.equal(defaults.streamHardMaxBytes, 0);
    assert.equal(defaults.deadGroupAfterMs, 600_000);
    const config = loadRelayConfig(
      { ...db, streamMaxAge: '7d', streamMaxBytes: '1000000', deadGroupAfterMs: '90s' },
      { MM_RELAY_STREAM_HARD_MAX_BYTES: '5000000' },
    );
    assert.equal(config.streamMaxAge, 7 * 86_400_000);
    assert.equal(config.streamMaxBytes, 1_000_000);
    assert.equal(config.streamHardMaxBytes, 5_000_000);
    assert.equal(config.deadGroupAfterMs, 90_000);
    assert.equal(loadRelayConfig({ ...db, streamMaxAge: '12h' }, {}).streamMaxAge, 12 * 3_600_000);
    const text = problemsOf(() =>
      loadRelayConfig(
        {
          ...db,
          streamMaxAge: 'a week',
          streamMaxBytes: '2000',
          streamHardMaxBytes: '1000',
          deadGroupAfterMs: '0',
        },
        {},
      ),
    ).join('\n');
    for (const expected of [
      '--stream-max-age',
      '--stream-hard-max-bytes (1000) must be at least --stream-max-bytes (2000)',
      '--dead-group-after',
    ]) {
      assert.ok(text.includes(expected), `missing problem about ${expected} in:\n${text}`);
    }
  });
});
