// mm-consumer's runbook surface: /metrics keys, Prometheus text (promtool), lag that rises while the
// consumer is stopped and falls after it catches up, health that says degraded above the threshold.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertNoBinariesLeft, type RunningBinary, startBinary } from './helpers/binaries.ts';
import { addEntries, userEvent } from './helpers/consumer-events.ts';
import { eventually } from './helpers/eventually.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { promtoolAccepts } from './helpers/promtool.ts';
import { recordPartitions, useTestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

const FAULT_GATE = fileURLToPath(new URL('../fixtures/handlers/fault-gate.mjs', import.meta.url));
const LABELS = 'topic="identity",consumer_group="markdown-lint-consumer"';

describe('mm-consumer observability', { skip: await skipUnless('postgres', 'redis') }, () => {
  const db = useTestDatabase();
  const redis = useTestRedis();
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mm-consumer-obs-'));
    await recordPartitions(redis.client, redis.prefix);
  });
  afterEach(() => assertNoBinariesLeft());
  after(() => rmSync(dir, { recursive: true, force: true }));

  const start = (): Promise<RunningBinary> =>
    startBinary('mm-consumer', [
      'run',
      '--database-url',
      db.url,
      '--redis-url',
      redis.url,
      '--key-prefix',
      redis.prefix,
      '--handler',
      FAULT_GATE,
      '--lag-warn-s',
      '1',
      '--block-ms',
      '200',
    ]);
  const json = async (c: RunningBinary, path: string): Promise<Record<string, unknown>> =>
    (await (await fetch(`${c.url}${path}`)).json()) as Record<string, unknown>;
  const text = async (c: RunningBinary): Promise<string> =>
    (await fetch(`${c.url}/metrics/prometheus`)).text();

  it('serves the runbook metrics, Prometheus text that promtool accepts, and lag that rises and falls', async () => {
    const stream = `${redis.prefix}identity`;
    let consumer = await start();
    const empty = await text(consumer);
    for (const series of [
      `events_processed_success{${LABELS}} 0`,
      `events_processed_failure{${LABELS}} 0`,
      `events_consumed_total{${LABELS}} 0`,
      `consumer_lag_seconds{${LABELS}} 0`,
      `events_skipped_total{${LABELS},reason="no_handler"} 0`,
    ]) {
      assert.ok(empty.includes(series), `series from the start: ${series}`);
    }
    assert.deepEqual(await json(consumer, '/metrics'), {
      consumer_group: 'markdown-lint-consumer',
      events_consumed_total: { identity: 0 },
      consumer_lag_seconds: 0,
      consumer_lag_entries: 0,
      consumer_pending_entries: 0,
      events_processed_success: 0,
      events_processed_failure: 0,
      success_rate: 100,
      events_skipped_total: { no_handler: 0, duplicate: 0 },
      events_duplicates: 0,
      events_dlq_total: { identity: 0 },
      events_parked: 0,
      last_processed_event_id: null,
      last_processed_event_ids: { identity: null },
    });

    const first = Array.from({ length: 5 }, () => userEvent());
    const ids = await addEntries(
      redis.client,
      stream,
      first.map((e) => e.fields),
    );
    await eventually(async () => (await json(consumer, '/metrics')).events_processed_success === 5);
    const m = await json(consumer, '/metrics');
    assert.deepEqual(m.events_consumed_total, { identity: 5 });
    assert.equal(m.last_processed_event_id, ids.at(-1), 'the stream id, usable with replay --from');
    assert.equal(m.success_rate, 100);

    // Stopped: entries pile up and the oldest one ages.
    assert.equal(await consumer.stop(), 0);
    const { gate, events } = (() => {
      const path = join(dir, 'lag');
      writeFileSync(path, '');
      return {
        gate: path,
        events: [
          userEvent({ headers: { fault_gate: path } }),
          ...Array.from({ length: 9 }, () => userEvent()),
        ],
      };
    })();
    await addEntries(
      redis.client,
      stream,
      events.map((e) => e.fields),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    consumer = await start();
    await eventually(() => existsSync(`${gate}.entered`), 10_000);
    const lag1 = Number(
      await eventually(async () => (await json(consumer, '/metrics')).consumer_lag_seconds as number),
    );
    assert.ok(lag1 >= 1.5, `lag counts the time the consumer was stopped: ${lag1}`);
    await eventually(
      async () => Number((await json(consumer, '/metrics')).consumer_lag_seconds) > lag1 + 0.5,
      5_000,
    );
    const health = await json(consumer, '/health/detailed');
    assert.equal(health.status, 'degraded');
    const group = (health.checks as Record<string, Record<string, unknown>>).consumer_group;
    assert.equal(group?.status, 'degraded');
    assert.match(String(group?.reason), /lag \d+\.\ds on identity is above 1s/);
    assert.equal(group?.lag_entries, 10);
    assert.equal(group?.pending, 10);
    assert.ok(Number(group?.consumers) >= 1, 'consumers known to the group (the stopped one stays listed)');
    await consumer.waitForLog(
      /consumer markdown-lint-consumer lag \d+\.\ds on identity: 10 entries not acknowledged/,
    );

    rmSync(gate);
    await eventually(async () => {
      const now = await json(consumer, '/metrics');
      return Number(now.consumer_lag_seconds) < 0.5 && now.consumer_lag_entries === 0;
    }, 10_000);
    await consumer.waitForLog(/consumer markdown-lint-consumer lag back to 0\.0s on identity/);
    assert.equal((await json(consumer, '/health/detailed')).status, 'healthy');

    const full = await text(consumer);
    for (const name of [
      `consumer_lag_seconds{${LABELS}}`,
      `events_processed_success{${LABELS}} 10`,
      `events_consumed_total{${LABELS}} 10`,
      `event_end_to_end_latency_seconds_bucket{le="0.5",${LABELS}}`,
      `consumer_batch_duration_seconds_count{${LABELS}}`,
      `events_dlq_total{${LABELS},stage="consumer"} 0`,
    ]) {
      assert.ok(full.includes(name), `prometheus text has ${name}`);
    }
    for (const body of [empty, full]) promtoolAccepts(body);
    assert.equal(await consumer.stop(), 0);
  });
});
