// mm-dlq never says "no dead letters" when it looked in the wrong place: services create `<topic>.dlq`
// empty at start, so a missing stream, prefix or file exits 66 naming where it looked; no Redis given
// is a configuration error, not 127.0.0.1; reading a local file never creates or changes it.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisBus } from '../src/adapters/redis/bus.ts';
import { openLocalPorts } from '../src/adapters/sqlite/local-ports.ts';
import { silentLogger } from '../src/core/logger.ts';
import type { Bus } from '../src/ports/bus.ts';
import { DLQ, mmDlq, relayDeadLetter } from './dlq-fixtures.ts';
import { assertNoBinariesLeft, runBinary, startBinary } from './helpers/binaries.ts';
import { eventually } from './helpers/eventually.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { useTestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

const cleanEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };

describe('mm-dlq in the wrong place (production)', { skip: await skipUnless('postgres', 'redis') }, () => {
  const db = useTestDatabase();
  const redis = useTestRedis();
  let bus: Bus;
  before(() => {
    bus = createRedisBus(new Redis(redis.url), { keyPrefix: redis.prefix });
  });
  after(() => bus.close());
  afterEach(() => assertNoBinariesLeft());

  it('the relay and a consumer create <topic>.dlq empty when they start', async () => {
    const production = ['--database-url', db.url, '--redis-url', redis.url, '--key-prefix', redis.prefix];
    const raw = new Redis(redis.url);
    try {
      const relay = await startBinary('mm-relay', ['run', ...production, '--topics', 'identity,billing']);
      await eventually(async () => (await raw.type(`${redis.prefix}billing.dlq`)) === 'stream');
      assert.equal(await raw.xlen(`${redis.prefix}identity.dlq`), 0);
      await relay.stop();
      const consumer = await startBinary('mm-consumer', ['run', ...production, '--topics', 'orders']);
      await eventually(async () => (await raw.type(`${redis.prefix}orders.dlq`)) === 'stream');
      assert.equal(await raw.xlen(`${redis.prefix}orders.dlq`), 0);
      await consumer.stop();
    } finally {
      raw.disconnect();
    }
    const list = await mmDlq({ redisUrl: redis.url, prefix: redis.prefix })('list --stream orders.dlq');
    assert.deepEqual([list.code, list.stdout], [0, 'orders.dlq: 0 open dead letters\n']);
  });

  it('a misspelled stream or a forgotten prefix exits 66, naming host, db, prefix, key and what exists', async () => {
    await bus.ensureStream(DLQ);
    await relayDeadLetter(bus);
    const misspelled = await mmDlq({ redisUrl: redis.url, prefix: redis.prefix })(
      'list --stream identiy.dlq',
    );
    assert.equal(misspelled.code, 66, misspelled.stderr);
    assert.match(misspelled.stderr, /identiy\.dlq does not exist in Redis 127\.0\.0\.1:\d+ db 0/);
    assert.ok(misspelled.stderr.includes(`key prefix "${redis.prefix}" (key ${redis.prefix}identiy.dlq)`));
    assert.match(misspelled.stderr, /dead-letter streams there: [a-z., ]*identity\.dlq/);
    for (const command of [
      'list --stream identity.dlq',
      'report --hours 24',
      'inspect --stream identity.dlq --id 1-0',
    ]) {
      const forgotten = await mmDlq({ redisUrl: redis.url, prefix: '' })(command);
      assert.equal(forgotten.code, 66, `${command}: ${forgotten.stdout}${forgotten.stderr}`);
      assert.match(forgotten.stderr, /key prefix ""/, command);
      assert.equal(forgotten.stdout, '', command);
    }
    const right = await mmDlq({ redisUrl: redis.url, prefix: redis.prefix })(
      'list --stream identity.dlq --json',
    );
    assert.equal(right.code, 0);
    const listed = JSON.parse(right.stdout) as Array<Record<string, unknown>>;
    assert.equal(listed.length, 1);
    assert.equal(typeof listed[0]?.id, 'string');
  });

  it('without --redis-url or REDIS_URL it says where to point it instead of using 127.0.0.1', async () => {
    const result = await runBinary('mm-dlq', ['list', '--stream', 'identity.dlq'], {
      cleanEnv: true,
      env: cleanEnv,
    });
    assert.equal(result.code, 78, result.stderr);
    assert.match(result.stderr, /--redis-url \(REDIS_URL\).*--local FILE/);
    assert.equal(result.stdout, '');
  });
});

describe('mm-dlq in the wrong place (local file)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mm-dlq-place-'));
  });
  after(() => {
    chmodSync(dir, 0o755);
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => assertNoBinariesLeft());

  it('a file that does not exist: 66 naming it, and no file is created', async () => {
    const missing = join(dir, 'nope.db');
    for (const command of [
      ['report', '--hours', '24'],
      ['list', '--stream', 'identity.dlq'],
      ['inspect', '--stream', 'identity.dlq', '--id', '1-0'],
    ]) {
      const result = await runBinary('mm-dlq', [...command, '--local', missing], {
        cleanEnv: true,
        env: cleanEnv,
      });
      assert.equal(result.code, 66, `${command.join(' ')}: ${result.stderr}`);
      assert.ok(result.stderr.includes(`local file ${missing} does not exist`), result.stderr);
      assert.equal(existsSync(missing), false);
      assert.equal(existsSync(`${missing}-wal`), false);
    }
  });

  it('a consumer waits for the partition count, having created the dead-letter stream; a read-only copy of the file is read without changes', async () => {
    const file = join(dir, 'local.db');
    const consumer = await startBinary('mm-consumer', ['run', '--local', file], {
      cleanEnv: true,
      env: cleanEnv,
    });
    // No relay has recorded the partition count: the consumer waits for it, and says so.
    const health = await eventually(async () => {
      const report = (await (await fetch(`${consumer.url}/health/detailed`)).json()) as {
        checks: Record<string, { status: string; reason?: string }>;
      };
      return (
        report.checks.consumer?.reason?.includes('waiting for the partition count of identity') && report
      );
    });
    assert.equal(health.checks.consumer?.status, 'degraded');
    await consumer.stop();
    const listed = await runBinary('mm-dlq', ['list', '--stream', 'identity.dlq', '--local', file], {
      cleanEnv: true,
      env: cleanEnv,
    });
    assert.deepEqual([listed.code, listed.stdout], [0, 'identity.dlq: 0 open dead letters\n'], listed.stderr);
    const misspelled = await runBinary('mm-dlq', ['list', '--stream', 'identiy.dlq', '--local', file], {
      cleanEnv: true,
      env: cleanEnv,
    });
    assert.equal(misspelled.code, 66);
    assert.ok(
      misspelled.stderr.includes(`identiy.dlq does not exist in local file ${file}`),
      misspelled.stderr,
    );
    assert.match(misspelled.stderr, /dead-letter streams there: identity\.dlq/);

    // Checkpointed and closed by the consumer; now read-only, in a read-only folder.
    const ports = await openLocalPorts({ file, logger: silentLogger });
    await relayDeadLetter(ports.bus);
    await ports.close();
    const before = readFileSync(file);
    chmodSync(file, 0o444);
    chmodSync(dir, 0o555);
    try {
      for (const command of [
        ['list', '--stream', 'identity.dlq', '--json'],
        ['report', '--hours', '24'],
      ]) {
        const result = await runBinary('mm-dlq', [...command, '--local', file], {
          cleanEnv: true,
          env: cleanEnv,
        });
        assert.equal(result.code, 0, `${command.join(' ')}: ${result.stderr}`);
      }
    } finally {
      chmodSync(dir, 0o755);
      chmodSync(file, 0o644);
    }
    assert.deepEqual(readFileSync(file), before);
  });
});
