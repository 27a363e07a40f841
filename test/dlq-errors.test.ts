// mm-dlq at the edges: empty and missing streams, malformed and unknown ids, Redis down, terminals.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisBus } from '../src/adapters/redis/bus.ts';
import type { Bus } from '../src/ports/bus.ts';
import { DLQ, type MadeDeadLetter, mmDlq, relayDeadLetter } from './dlq-fixtures.ts';
import { bundlePath } from './helpers/binaries.ts';
import { eventually } from './helpers/eventually.ts';
import { startRedisServer, useTestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

const ESC = '\u001b';
const hasScript = spawnSync('script', ['--version']).status === 0;

describe('mm-dlq on empty and missing streams, bad ids, outages', { skip: await skipUnless('redis') }, () => {
  const redis = useTestRedis();
  let bus: Bus;
  let run: ReturnType<typeof mmDlq>;

  before(() => {
    bus = createRedisBus(new Redis(redis.url), { keyPrefix: redis.prefix });
    run = mmDlq({ redisUrl: redis.url, prefix: redis.prefix });
  });
  after(() => bus.close());

  it('a missing stream is the wrong place: every command exits 66 naming where it looked', async () => {
    const place = new RegExp(
      `identity\\.dlq does not exist in Redis 127\\.0\\.0\\.1:\\d+ db 0, key prefix "${redis.prefix}" \\(key ${redis.prefix}identity\\.dlq\\)`,
    );
    for (const command of [
      'list --stream identity.dlq --count 20',
      'list --stream identity.dlq --json',
      'report --stream identity.dlq --hours 24',
      'inspect --stream identity.dlq --id 1700000000000-0',
      'reprocess --stream identity.dlq --id 1700000000000-0',
      'resolve --stream identity.dlq --id 1700000000000-0',
      'reprocess --stream identity.dlq --all',
      'purge --stream identity.dlq --older-than 30d --yes',
    ]) {
      const result = await run(command);
      assert.equal(result.code, 66, `${command}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, place, command);
      assert.match(result.stderr, /no dead-letter streams exist there/, command);
      assert.equal(result.stdout, '', command);
    }
    const all = await run('report --hours 24');
    assert.equal(all.code, 66);
    assert.match(all.stderr, /no dead-letter streams \(\*\.dlq\) exist in Redis .* key prefix/);
  });

  it('an empty stream that exists (made by a service at start): 0 open, exit 0', async () => {
    await bus.ensureStream(DLQ);
    const list = await run('list --stream identity.dlq --count 20');
    assert.deepEqual([list.code, list.stdout, list.stderr], [0, 'identity.dlq: 0 open dead letters\n', '']);
    assert.equal((await run('list --stream identity.dlq --json')).stdout, '[]\n');
    const report = await run('report --hours 24 --json');
    assert.equal(report.code, 0);
    assert.deepEqual(JSON.parse(report.stdout).totals, { new: 0, closed: 0, open: 0 });
    const bulk = await run('reprocess --stream identity.dlq --all');
    assert.deepEqual(
      [bulk.code, bulk.stdout],
      [0, 'identity.dlq: 0 open dead letters, nothing reprocessed\n'],
    );
    const unknown = await run('inspect --stream identity.dlq --id 1700000000000-0');
    assert.equal(unknown.code, 66);
    assert.equal(unknown.stderr, 'mm-dlq: no dead letter 1700000000000-0 in identity.dlq (open or closed)\n');
  });

  it('an emptied stream: list and report say there is nothing open; an unknown id is 66', async () => {
    const dead = await relayDeadLetter(bus);
    assert.equal((await run(`resolve --stream identity.dlq --id ${dead.id}`)).code, 0);
    const list = await run('list --stream identity.dlq --count 20');
    assert.deepEqual([list.code, list.stdout], [0, 'identity.dlq: 0 open dead letters\n']);
    const report = JSON.parse((await run('report --stream identity.dlq --hours 24 --json')).stdout);
    assert.deepEqual(
      [report.streams[0].new, report.streams[0].closed.resolved, report.streams[0].open.count],
      [1, 1, 0],
    );
    const unknown = await run('resolve --stream identity.dlq --id 9999999999999-0');
    assert.equal(unknown.code, 66);
    assert.equal(unknown.stderr, 'mm-dlq: no dead letter 9999999999999-0 in identity.dlq (open or closed)\n');
    const filtered = await run('list --stream identity.dlq --event-type user.deleted');
    assert.equal(filtered.stdout, 'identity.dlq: 0 open dead letters\n');
  });

  it('malformed ids, bad durations and conflicting flags are usage errors (64) before anything runs', async () => {
    const cases = [
      'inspect --stream identity.dlq --id not-an-id',
      'reprocess --stream identity.dlq --id 12345',
      'resolve --stream identity.dlq --id 1700000000000-x',
      'list --stream identity.dlq --since 2 hours',
      'list --stream identity.dlq --since yesterday',
      'purge --stream identity.dlq --older-than 30x --yes',
      'list --stream identity.dlq --error boom --fingerprint abcd',
      'reprocess --stream identity.dlq --id 1-0 --all',
      'reprocess --stream identity.dlq',
      'list --stream identity',
      'report --hours 0',
      'list --stream identity.dlq --bogus',
    ];
    for (const command of cases) {
      const result = await run(command);
      assert.equal(result.code, 64, `${command}: ${result.stderr}`);
      assert.equal(result.stdout, '', command);
      assert.ok(
        result.stderr.trim().length > 0 && result.stderr.trim().split('\n').length <= 2,
        `${command}: ${result.stderr}`,
      );
    }
  });

  it('Redis down: exit 69 with one clear line, for reads and writes', async () => {
    const server = await startRedisServer();
    await server.stop();
    const down = mmDlq({ redisUrl: server.url, prefix: redis.prefix });
    for (const command of [
      'list --stream identity.dlq --count 20',
      'inspect --stream identity.dlq --id 1-0',
      'reprocess --stream identity.dlq --id 1-0',
      'report --hours 24',
    ]) {
      const result = await down(command);
      assert.equal(result.code, 69, `${command}: ${result.stderr}`);
      assert.match(result.stderr, /^mm-dlq: Redis unavailable: [^\n]+\n$/);
      assert.equal(result.stdout, '');
    }
    await server.kill();
  });

  it('Redis stopped in the middle of a bulk reprocess: exit 69, nothing lost, a rerun finishes the rest', async () => {
    const server = await startRedisServer({ appendOnly: true });
    const own = createRedisBus(new Redis(server.url, { maxRetriesPerRequest: 1 }), {
      keyPrefix: redis.prefix,
    });
    const made: MadeDeadLetter[] = [];
    for (let i = 0; i < 150; i++) made.push(await relayDeadLetter(own));
    const onServer = mmDlq({ redisUrl: server.url, prefix: redis.prefix });
    const running = onServer('reprocess --stream identity.dlq --all --rate 50');
    // Stopped once the run is under way (at 50/s it needs 3 s for all 150), however long it took
    // to start on a busy machine.
    await eventually(async () => (await own.len('identity.dlq.audit')) > 0, 15_000);
    await own.close();
    await server.stop();
    const interrupted = await running;
    assert.equal(interrupted.code, 69, interrupted.stdout + interrupted.stderr);
    assert.match(
      interrupted.stderr,
      // (after the warning that, without a database, relay-stage dead rows are not released)
      /^(?:mm-dlq: warning: .*\n)?mm-dlq: Redis unavailable: .*\(after \d+ of 150 reprocessed; rerun to continue\)\n$/,
    );
    await server.restart();
    const rerun = await onServer('reprocess --stream identity.dlq --all --rate 500');
    assert.equal(rerun.code, 0, rerun.stderr);
    const check = createRedisBus(new Redis(server.url), { keyPrefix: redis.prefix });
    const audits = await check.range('identity.dlq.audit');
    const published = await check.range('identity');
    assert.equal(await check.len(DLQ), 0);
    assert.equal(audits.length, 150, 'every dead letter closed exactly once');
    assert.deepEqual(new Set(audits.map((a) => a.fields.dlq_id)), new Set(made.map((m) => m.id)));
    assert.equal(published.length, 150, 'each published exactly once, with its audit record');
    assert.deepEqual(
      new Set(published.map((e) => e.fields.event_id)),
      new Set(made.map((m) => m.event.eventId)),
    );
    await check.close();
    await server.kill();
  });

  it('colours only on a terminal, never with NO_COLOR', {
    skip: hasScript ? false : 'needs script(1) for a pseudo-terminal',
  }, async () => {
    await relayDeadLetter(bus);
    const line = [
      process.execPath,
      bundlePath('mm-dlq'),
      'list',
      '--stream',
      'identity.dlq',
      '--redis-url',
      redis.url,
      '--key-prefix',
      redis.prefix,
    ]
      .map((word) => `'${word}'`)
      .join(' ');
    const onTerminal = (env: Record<string, string | undefined>) =>
      spawnSync('script', ['-qec', line, '/dev/null'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    const { NO_COLOR: _, ...withoutNoColor } = process.env;
    const colour = spawnSync('script', ['-qec', line, '/dev/null'], {
      env: withoutNoColor,
      encoding: 'utf8',
    });
    assert.equal(colour.status, 0, colour.stderr);
    assert.ok(colour.stdout.includes(`${ESC}[1m`), 'bold header on a terminal');
    const plain = onTerminal({ NO_COLOR: '1' });
    assert.equal(plain.status, 0);
    assert.match(plain.stdout, /EVENT TYPE/);
    assert.ok(!plain.stdout.includes(ESC), 'NO_COLOR: no escape codes');
  });

  it('purge asks on a terminal and does nothing unless told yes', {
    skip: hasScript ? false : 'needs script(1) for a pseudo-terminal',
  }, async () => {
    const open = await bus.len(DLQ);
    const line = [
      process.execPath,
      bundlePath('mm-dlq'),
      'purge',
      '--stream',
      'identity.dlq',
      '--older-than',
      '1ms',
      '--redis-url',
      redis.url,
      '--key-prefix',
      redis.prefix,
    ]
      .map((word) => `'${word}'`)
      .join(' ');
    const no = spawnSync('script', ['-qec', line, '/dev/null'], { input: 'n\n', encoding: 'utf8' });
    assert.equal(no.status, 0, no.stdout);
    assert.match(no.stdout, /Purge \d+ dead letters from identity.dlq .* \[y\/N\]/);
    assert.match(no.stdout, /cancelled: nothing purged/);
    assert.equal(await bus.len(DLQ), open);
    const yes = spawnSync('script', ['-qec', line, '/dev/null'], { input: 'y\n', encoding: 'utf8' });
    assert.equal(yes.status, 0, yes.stdout);
    assert.match(yes.stdout, new RegExp(`purged ${open} of ${open} dead letters`));
    assert.equal(await bus.len(DLQ), 0);
  });
});
