// Logs: every service writes JSON lines to stdout and, with --log-file, the same lines to a file; the
// runbook's grep commands (taken from ops/RUNBOOK.md, run with the real grep) find the lines of each
// provoked condition and only those: health changes, dead letters, failing handlers, consumer lag.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { assertNoBinariesLeft, type RunningBinary, runBinary, startBinary } from './helpers/binaries.ts';
import { eventually } from './helpers/eventually.ts';
import {
  type CreatedUser,
  dlqBacklog,
  faultyConsumer,
  getJson,
  holdConsumer,
  type LocalStack,
  oversizedUser,
  RELAY_MAX_EVENT_BYTES,
  startLocalStack,
} from './helpers/local-stack.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { type RedisServer, startRedisServer } from './helpers/redis.ts';
import { grepFor, type LogLine, runbookGreps, runGrep } from './helpers/runbook-greps.ts';
import { skipUnless } from './helpers/services.ts';

const readLines = (file: string): LogLine[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const parsed = JSON.parse(line) as LogLine;
      assert.equal(typeof parsed.time, 'string', line);
      assert.ok(['debug', 'info', 'warn', 'error'].includes(parsed.level), line);
      assert.equal(typeof parsed.msg, 'string', line);
      return parsed;
    });

describe('log files and the runbook grep patterns, local mode', () => {
  let stack: LocalStack;
  let oversized: CreatedUser;
  let failing: CreatedUser;
  let gate: string;

  before(async () => {
    stack = await startLocalStack({
      relayArgs: [
        '--max-event-bytes',
        String(RELAY_MAX_EVENT_BYTES),
        '--max-attempts',
        '2',
        '--retry-backoff-ms',
        '3000',
        '--backlog-warn',
        '0',
      ],
      consumers: [faultyConsumer('consumer-1', ['--lag-warn-s', '1'])],
    });
    gate = join(stack.dir, 'gate');
    const consumer = stack.consumers[0] as RunningBinary;
    for (let i = 0; i < 3; i += 1) await stack.createUser({ email: `ok${i}@example.com` });

    // Relay: an event too large goes to the DLQ at once; the user's next event waits behind it (a row
    // waiting: degraded) until the dead letter is resolved.
    oversized = await stack.createUser(oversizedUser());
    await eventually(async () => (await dlqBacklog(stack)) === 1, 15_000, { message: 'relay dead letter' });
    const renamed = await fetch(`${stack.backend.url}/api/users/${oversized.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ display_name: 'short again' }),
    });
    assert.equal(renamed.status, 200, await renamed.text());
    await eventually(
      async () => (await getJson(`${stack.relay.url}/health/detailed`)).status === 'degraded',
      5_000,
      { message: 'relay degraded while the row waits' },
    );
    // Consumer: a failing handler, twice, then the DLQ.
    failing = await stack.createUser({ email: 'fail@example.com', display_name: 'fail on purpose' });
    await eventually(async () => (await dlqBacklog(stack)) === 2, 15_000, { message: 'two dead letters' });
    const resolved = await runBinary('mm-dlq', [
      'resolve',
      '--local',
      stack.file,
      '--stream',
      'identity.dlq',
      '--id',
      oversized.eventId,
    ]);
    assert.equal(resolved.code, 0, resolved.stderr);
    await eventually(
      async () => (await getJson(`${stack.relay.url}/health/detailed`)).status === 'healthy',
      10_000,
    );

    // Lag: a held event, lag over --lag-warn-s 1, health degraded; then released.
    await holdConsumer(stack, gate);
    await consumer.waitForLog(/consumer markdown-lint-consumer lag \d+\.\ds on identity/, 10_000);
    await eventually(
      async () => (await getJson(`${consumer.url}/health/detailed`)).status === 'degraded',
      5_000,
    );
    rmSync(gate);
    await consumer.waitForLog(/lag back to/, 10_000);
    await eventually(
      async () => (await getJson(`${consumer.url}/health/detailed`)).status === 'healthy',
      10_000,
    );
  });
  after(async () => {
    if (gate) rmSync(gate, { force: true });
    await stack?.stop();
  });

  it('writes the same JSON lines to stdout and to each --log-file', () => {
    const files = readdirSync(stack.logDir).sort();
    assert.deepEqual(files, ['backend.log', 'consumer-1.log', 'relay.log']);
    const services: Array<[string, RunningBinary]> = [
      ['backend.log', stack.backend],
      ['relay.log', stack.relay],
      ['consumer-1.log', stack.consumers[0] as RunningBinary],
    ];
    for (const [file, service] of services) {
      const lines = readLines(stack.logFile(file.replace('.log', '')));
      assert.ok(lines.length >= 1, `${file} has lines`);
      const stdout = service.output().split('\n').filter(Boolean);
      for (const line of stdout) JSON.parse(line);
      const written = readFileSync(join(stack.logDir, file), 'utf8').split('\n').filter(Boolean);
      assert.deepEqual(
        stdout.filter((line) => written.includes(line)).length,
        written.length,
        `every line of ${file} also went to stdout`,
      );
    }
  });

  it('grep "unhealthy\\|degraded" finds the health changes, and only those', () => {
    const lines = runGrep(grepFor(runbookGreps(), 'unhealthy', '/*.log'), stack.logDir);
    for (const line of lines)
      assert.match(line.msg, /^Service (backend|relay|consumer) is (degraded|unhealthy|healthy again)/);
    const messages = lines.map((l) => l.msg);
    assert.ok(
      messages.some((m) =>
        /^Service relay is degraded: outbox: 1 rows waiting, over --backlog-warn 0/.test(m),
      ),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m) =>
        /^Service consumer is degraded: consumer_group: lag \d+\.\ds on identity is above 1s/.test(m),
      ),
    );
    assert.ok(messages.includes('Service relay is healthy again'));
    assert.ok(messages.includes('Service consumer is healthy again'));
  });

  it('grep "Moved event.*to DLQ" finds each dead letter once: the relay one in relay.log, both in *.log', () => {
    const greps = runbookGreps();
    const relayOnly = runGrep(grepFor(greps, 'Moved event', '/relay.log'), stack.logDir);
    assert.deepEqual(
      relayOnly.map((l) => l.msg),
      [
        `Moved event ${oversized.eventId} to DLQ: outbox column payload: event is ${relayOnly[0]?.msg.match(/is (\d+) bytes/)?.[1]} bytes, over --max-event-bytes ${RELAY_MAX_EVENT_BYTES}`,
      ],
    );
    const all = runGrep(grepFor(greps, 'Moved event', '/*.log'), stack.logDir);
    assert.deepEqual(all.map((l) => `${l.service} ${l.event_id ?? ''} ${l.level}`).sort(), [
      `consumer ${failing.eventId} error`,
      `relay ${oversized.eventId} error`,
    ]);
    assert.match(
      all.find((l) => l.service === 'consumer')?.msg ?? '',
      new RegExp(
        `^Moved event ${failing.eventId} to DLQ: Error: handler rejects display name "fail on purpose" \\(delivery 2\\) \\(after 2 deliveries\\)$`,
      ),
    );
  });

  it('grep "Failed to process event" finds one line per failed delivery of the failing event', () => {
    const lines = runGrep(grepFor(runbookGreps(), 'Failed to process event', '/*.log'), stack.logDir);
    assert.deepEqual(
      lines.map((l) => [l.msg.split(':')[0], l.deliveries, l.level]),
      [
        [`Failed to process event ${failing.eventId}`, 1, 'warn'],
        [`Failed to process event ${failing.eventId}`, 2, 'warn'],
      ],
    );
  });

  it('grep "consumer.*lag" finds the lag warning, its recovery and the degraded health, nothing else', () => {
    const lines = runGrep(grepFor(runbookGreps(), 'consumer.*lag', '/*.log'), stack.logDir);
    for (const line of lines) {
      assert.equal(line.service, 'consumer');
      assert.match(line.msg, /\blag\b/);
    }
    const messages = lines.map((l) => l.msg);
    assert.ok(
      messages.some((m) =>
        /^consumer markdown-lint-consumer lag \d+\.\ds on identity: 1 entries not acknowledged \(oldest \d+-\d+\), above --lag-warn-s 1$/.test(
          m,
        ),
      ),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m) => /^consumer markdown-lint-consumer lag back to \d+\.\ds on identity$/.test(m)),
    );
    assert.ok(messages.some((m) => m.startsWith('Service consumer is degraded: consumer_group: lag')));
  });
});

describe('log files in production: the Redis failure drill', {
  skip: await skipUnless('postgres', 'redis'),
}, () => {
  const db = useTestDatabase();
  let redis: RedisServer;
  let dir: string;

  before(async () => {
    redis = await startRedisServer();
    dir = mkdtempSync(join(tmpdir(), 'mm-logs-'));
  });
  afterEach(() => assertNoBinariesLeft());
  after(async () => {
    await redis?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs "unhealthy" while Redis is down and "healthy again" after, where the runbook greps', async () => {
    const common = ['--database-url', db.url, '--redis-url', redis.url];
    const backend = await startBinary('mm-backend', [
      'serve',
      ...common,
      '--log-file',
      join(dir, 'backend.log'),
    ]);
    const relay = await startBinary('mm-relay', ['run', ...common, '--log-file', join(dir, 'relay.log')]);
    await redis.stop();
    const detailed = await fetch(`${backend.url}/health/detailed`);
    assert.equal(detailed.status, 503);
    await eventually(async () => (await fetch(`${relay.url}/health/detailed`)).status === 503, 10_000);
    await redis.restart();
    await eventually(
      async () => (await getJson(`${backend.url}/health/detailed`)).status === 'healthy',
      10_000,
    );
    await eventually(
      async () => (await getJson(`${relay.url}/health/detailed`)).status === 'healthy',
      15_000,
    );
    await Promise.all([backend.stop(), relay.stop()]);

    const lines = runGrep(grepFor(runbookGreps(), 'unhealthy', '/*.log'), dir);
    const messages = lines.map((l) => `${l.service} ${l.level} ${l.msg}`);
    assert.ok(
      messages.some((m) => /^backend error Service backend is unhealthy: redis: /.test(m)),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m) => /^relay error Service relay is unhealthy: redis: /.test(m)),
      messages.join('\n'),
    );
    assert.ok(messages.includes('backend info Service backend is healthy again'));
    assert.ok(messages.includes('relay info Service relay is healthy again'));
    for (const line of lines)
      assert.match(line.msg, /^Service (backend|relay) is (unhealthy|degraded|healthy again)/);
  });
});
