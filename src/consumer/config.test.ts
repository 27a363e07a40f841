import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../core/errors.ts';
import { loadConsumerConfig, loadReplayConfig } from './config.ts';

const db = { databaseUrl: 'postgres://root@127.0.0.1:5432/mm' };

describe('loadConsumerConfig', () => {
  it('has the runbook defaults and names the consumer after host and pid', () => {
    const config = loadConsumerConfig(db, {}, { hostname: 'box', pid: 42 });
    assert.equal(config.port, 8081);
    assert.equal(config.group, 'markdown-lint-consumer');
    assert.deepEqual(config.topics, ['identity']);
    assert.equal(config.name, 'box-42');
    assert.equal(config.maxDeliveries, 5);
    assert.equal(config.startId, '0');
    assert.equal(config.lagWarnS, 60);
    assert.equal(config.strict, false);
    assert.equal(config.handlerModule, undefined);
  });

  it('takes flags over environment over defaults', () => {
    const config = loadConsumerConfig(
      { ...db, group: 'audit', batchSize: '200', strict: true },
      {
        MM_CONSUMER_GROUP: 'ignored',
        MM_TOPICS: 'identity,billing',
        MM_CLAIM_IDLE_MS: '500',
        MM_LAG_WARN_S: '2.5',
      },
    );
    assert.equal(config.group, 'audit');
    assert.deepEqual(config.topics, ['identity', 'billing']);
    assert.equal(config.batchSize, 200);
    assert.equal(config.claimIdleMs, 500);
    assert.equal(config.lagWarnS, 2.5);
    assert.equal(config.strict, true);
  });

  it('reports every problem at once', () => {
    assert.throws(
      () =>
        loadConsumerConfig(
          {
            batchSize: '0',
            maxDeliveries: 'x',
            startId: 'later',
            topics: 'identity.dlq',
            group: 'a b',
            lagWarnS: '-1',
          },
          {},
        ),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        const text = error.problems.join('\n');
        for (const flag of [
          '--database-url',
          '--batch-size',
          '--max-deliveries',
          '--start-id',
          '--topics',
          '--group',
          '--lag-warn-s',
        ]) {
          assert.match(text, new RegExp(flag.replace(/-/g, '\\-')));
        }
        return true;
      },
    );
  });

  it('accepts $ and stream ids as start ids', () => {
    assert.equal(loadConsumerConfig({ ...db, startId: '$' }, {}).startId, '$');
    assert.equal(loadConsumerConfig({ ...db, startId: '1700000000000-3' }, {}).startId, '1700000000000-3');
  });
});

describe('loadReplayConfig', () => {
  it('needs --from and one topic', () => {
    assert.throws(
      () => loadReplayConfig({ topic: 'a,b' }, {}),
      /--from is required[\s\S]*one topic|one topic[\s\S]*--from/,
    );
    const config = loadReplayConfig({ from: 'start', dryRun: true }, {});
    assert.equal(config.group, 'markdown-lint-consumer');
    assert.equal(config.topic, 'identity');
    assert.equal(config.dryRun, true);
  });
});
