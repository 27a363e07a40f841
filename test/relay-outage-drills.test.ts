// The runbook's "Redis Failure Recovery" drill against the built relay and its own redis-server:
// stopped or paused longer than max-attempts x backoff, nothing is dead-lettered, health reports the
// outage, and every event arrives once Redis is back.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Bus } from '../src/ports/bus.ts';
import { assertNoBinariesLeft, type RunningBinary, startBinary } from './helpers/binaries.ts';
import { eventually } from './helpers/eventually.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { type RedisServer, startRedisServer } from './helpers/redis.ts';
import {
  createTestBus,
  distinctEventIds,
  readStream,
  type WrittenEvent,
  writeUserEvents,
} from './helpers/relay.ts';
import { skipUnless } from './helpers/services.ts';

type Health = { status: string; checks: Record<string, { status: string; reason?: string }> };

describe('mm-relay Redis outage drills', { skip: await skipUnless('postgres') }, () => {
  const db = useTestDatabase();
  let server: RedisServer | undefined;
  let bus: Bus | undefined;

  afterEach(async () => {
    await bus?.close();
    bus = undefined;
    await server?.kill();
    server = undefined;
    await db.sql`delete from outbox`;
    assertNoBinariesLeft();
  });

  const startRelay = (redisUrl: string): Promise<RunningBinary> =>
    startBinary('mm-relay', [
      'run',
      '--database-url',
      db.url,
      '--redis-url',
      redisUrl,
      '--max-attempts',
      '2',
      '--retry-backoff-ms',
      '50',
      '--retry-backoff-max-ms',
      '100',
      '--poll-interval-ms',
      '100',
    ]);
  const health = async (relay: RunningBinary): Promise<Health> =>
    (await (
      await fetch(`${relay.url}/health/detailed`, { signal: AbortSignal.timeout(4_000) })
    ).json()) as Health;
  const untouchedRows = async (): Promise<{ rows: number; maxAttempts: number }> => {
    const [row] = await db.sql<{ rows: number; max: number | null }[]>`
      select count(*)::int as rows, max(attempts) as max from outbox`;
    return { rows: row?.rows ?? 0, maxAttempts: row?.max ?? 0 };
  };
  const allArrive = async (relay: RunningBinary, events: readonly WrittenEvent[]): Promise<void> => {
    const reader = bus ?? assert.fail('no bus');
    const want = new Set(events.map((e) => e.eventId));
    await eventually(
      async () => {
        const got = distinctEventIds(await readStream(reader, 'identity'));
        return [...want].every((id) => got.has(id));
      },
      30_000,
      { message: `all ${want.size} events in identity` },
    );
    assert.equal(await reader.len('identity.dlq'), 0, 'nothing dead-lettered');
    const metrics = (await (await fetch(`${relay.url}/metrics`)).json()) as Record<string, unknown>;
    assert.deepEqual(metrics.events_dlq_total, { identity: 0 });
  };

  it('retries a stopped Redis forever without burning attempts, then publishes everything', async () => {
    server = await startRedisServer({ appendOnly: true });
    bus = createTestBus(server.url, '');
    const relay = await startRelay(server.url);
    const before = await writeUserEvents(db.store, { users: 25, updatesPerUser: 1 });
    await eventually(async () => (await bus?.len('identity')) === 50, 10_000);

    await server.stop();
    const during = await writeUserEvents(db.store, { users: 50, updatesPerUser: 1 });
    await relay.waitForLog(/Redis unavailable, retrying in \d+ ms/, 10_000);
    // More failed publishes than --max-attempts (2) would allow an event of its own.
    await eventually(async () => {
      const reason = (await health(relay)).checks.relay?.reason ?? '';
      return Number(/retrying \((\d+) failures\)/.exec(reason)?.[1] ?? 0) >= 5;
    }, 15_000);
    const report = await health(relay);
    assert.equal(report.status, 'unhealthy');
    assert.equal(report.checks.redis?.status, 'unhealthy');
    assert.match(report.checks.relay?.reason ?? '', /^Redis unavailable for \d+ s/);
    assert.deepEqual(await untouchedRows(), { rows: 100, maxAttempts: 0 });

    await server.restart();
    await allArrive(relay, [...before, ...during]);
    await relay.waitForLog(/Redis available again after \d+ ms; publishing resumed/);
    assert.doesNotMatch(relay.output(), /Moved event/);
    assert.equal(await relay.stop(), 0);
  });

  it('rides out a paused Redis (SIGSTOP): health answers within seconds, then everything arrives', async () => {
    server = await startRedisServer();
    bus = createTestBus(server.url, '');
    const relay = await startRelay(server.url);
    server.pause();
    const during = await writeUserEvents(db.store, { users: 20, updatesPerUser: 2 });
    const started = Date.now();
    const report = await health(relay);
    assert.ok(Date.now() - started < 4_000);
    assert.ok(['degraded', 'unhealthy'].includes(report.status), `health said ${report.status}`);
    assert.equal(report.checks.redis?.status, 'unhealthy');
    await relay.waitForLog(/Redis unavailable, retrying in \d+ ms/, 15_000);
    assert.equal((await untouchedRows()).maxAttempts, 0);
    server.resume();
    await allArrive(relay, during);
    assert.equal(await relay.stop(), 0);
  });
});
