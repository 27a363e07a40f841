// Poison outbox rows, in production and local mode: a row the relay cannot turn into an event (a time
// JavaScript cannot hold, a malformed or dead-letter topic, headers not an object, an entry over
// --max-event-bytes) is dead-lettered at once while other aggregates flow; it stays as a dead row
// holding its aggregate's later rows, released by mm-dlq resolve and by reprocess.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openLocalPorts } from '../src/adapters/sqlite/local-ports.ts';
import { systemClock } from '../src/core/clock.ts';
import { ValidationError } from '../src/core/errors.ts';
import { uuidv7 } from '../src/core/ids.ts';
import { silentLogger } from '../src/core/logger.ts';
import { prepareDlqCommand } from '../src/dlq/commands.ts';
import { contextStyle, memoryOutput } from '../src/dlq/io.ts';
import type { DlqFlags } from '../src/dlq/settings.ts';
import type { Bus } from '../src/ports/bus.ts';
import type { Store } from '../src/ports/store.ts';
import { eventually } from './helpers/eventually.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { useTestRedis } from './helpers/redis.ts';
import { createTestBus, readStream, startTestRelay, type TestRelay } from './helpers/relay.ts';
import { skipUnless } from './helpers/services.ts';

type Row = { topic: string; aggregateId: string; payload: string; headers: string; occurredAt?: string };

const insertSql = {
  postgres: `insert into outbox (event_id, topic, event_type, aggregate_type, aggregate_id, payload, headers,
      occurred_at) values ($1::uuid, $2, 'user.updated', 'user', $3, $4::text::jsonb, $5::text::jsonb,
      coalesce($6::text::timestamptz, clock_timestamp()))`,
  sqlite: `insert into outbox (event_id, topic, event_type, aggregate_type, aggregate_id, payload, headers,
      occurred_at) values ($1, $2, 'user.updated', 'user', $3, $4, $5,
      coalesce($6, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))`,
};

const MAX = 2_000;

const runDlq = async (
  deps: { store: Store; bus: Bus },
  command: 'resolve' | 'reprocess',
  flags: DlqFlags,
): Promise<string> => {
  const output = memoryOutput();
  const ctx = {
    ...deps,
    parking: deps.store.parking,
    place: { text: 'the test bus', keyOf: (stream: string) => stream },
    io: output.io,
    style: contextStyle(output.io),
    clock: systemClock,
    actor: 'test',
  };
  await prepareDlqCommand(command, flags)(ctx);
  return output.stdout();
};

const scenario = (mode: 'postgres' | 'sqlite', deps: () => { store: Store; bus: Bus }) => {
  let running: TestRelay | undefined;
  after(async () => {
    await running?.relay.stop();
  });

  it(`dead-letters poison rows at once, holds their aggregates, and releases them (${mode})`, async () => {
    const { store, bus } = deps();
    const ids: Record<string, string> = {};
    const insert = async (name: string, row: Row): Promise<void> => {
      ids[name] = uuidv7();
      await store.withTransaction((tx) =>
        tx.query(insertSql[mode], [
          ids[name],
          row.topic,
          row.aggregateId,
          row.payload,
          row.headers,
          row.occurredAt ?? null,
        ]),
      );
    };
    const fine = (aggregateId: string, topic = 'identity'): Row => ({
      topic,
      aggregateId,
      payload: '{"n":1}',
      headers: '{}',
    });
    const big = JSON.stringify({ notes: 'é'.repeat(3_000) });
    await insert('infinite', { ...fine('agg-a'), occurredAt: 'infinity' });
    await insert('behindInfinite', fine('agg-a'));
    await insert('emptyTopic', fine('agg-b', ''));
    await insert('dlqTopic', fine('agg-c', 'identity.dlq'));
    await insert('auditTopic', fine('agg-c2', 'identity.dlq.audit'));
    await insert('arrayHeaders', { ...fine('agg-d'), headers: '[1,2]' });
    await insert('oversized', { ...fine('agg-e'), payload: big });
    await insert('behindOversized', fine('agg-e'));
    await insert('unlisted', fine('agg-f', 'billing'));
    await insert('healthy', fine('agg-g'));
    if (mode === 'postgres')
      await insert('farFuture', { ...fine('agg-h'), occurredAt: '275761-01-01T00:00:00Z' });

    running = await startTestRelay({ store, bus }, { pollIntervalMs: 50, maxEventBytes: MAX });

    // Other aggregates flow, including a well-formed topic nobody listed.
    await eventually(async () => (await bus.len('identity')) === 1, 10_000, { message: 'healthy event' });
    await eventually(async () => (await bus.len('billing')) === 1, 5_000, { message: 'unlisted topic' });
    const expectedIdentityDlq = mode === 'postgres' ? 4 : 3;
    await eventually(async () => (await bus.len('identity.dlq')) === expectedIdentityDlq, 5_000, {
      message: 'identity.dlq',
    });
    await eventually(async () => (await bus.len('outbox.dlq')) === 3, 5_000, { message: 'outbox.dlq' });
    assert.equal((await readStream(bus, 'identity'))[0]?.fields.event_id, ids.healthy);

    const letters = new Map(
      [...(await readStream(bus, 'identity.dlq')), ...(await readStream(bus, 'outbox.dlq'))].map((e) => [
        e.fields.event_id,
        e,
      ]),
    );
    const letter = (name: string) => letters.get(ids[name]) ?? assert.fail(`no dead letter for ${name}`);
    for (const name of ['infinite', 'emptyTopic', 'dlqTopic', 'auditTopic', 'arrayHeaders', 'oversized']) {
      assert.equal(letter(name).fields.dlq_stage, 'relay');
      assert.equal(letter(name).fields.dlq_attempts, '1', `${name} dead-lettered at once`);
    }
    assert.match(letter('infinite').fields.dlq_error_message ?? '', /^outbox column occurred_at: /);
    assert.match(letter('emptyTopic').fields.dlq_error_message ?? '', /^outbox column topic: /);
    assert.match(letter('dlqTopic').fields.dlq_error_message ?? '', /dead-letter or audit stream/);
    assert.match(letter('arrayHeaders').fields.dlq_error_message ?? '', /^outbox column headers: /);
    assert.match(letter('oversized').fields.dlq_error_message ?? '', /over --max-event-bytes 2000/);
    if (mode === 'postgres')
      assert.match(letter('farFuture').fields.dlq_error_message ?? '', /^outbox column occurred_at: /);
    // The dead letter keeps a preview; the size and hash name the full body.
    // The full body stays in the dead row, found by its dead letter.
    const oversizedLetter = letter('oversized').fields;
    // The dead row commits with the drain, just after its dead letter was written.
    const deadRow = await eventually(
      () => store.outbox.deadRow({ stream: 'identity.dlq', id: letter('oversized').id }),
      5_000,
      { message: 'dead row kept' },
    );
    const full = deadRow?.payloadJson ?? assert.fail('dead row kept');
    assert.deepEqual(JSON.parse(full), JSON.parse(big));
    assert.ok(Buffer.byteLength(oversizedLetter.payload ?? '') <= MAX);
    assert.ok(full.startsWith(oversizedLetter.payload ?? '-'));
    assert.equal(oversizedLetter.dlq_payload_bytes, String(Buffer.byteLength(full)));
    assert.equal(oversizedLetter.dlq_payload_sha256, createHash('sha256').update(full).digest('hex'));

    // The rows behind a dead row wait; health names the unlisted topic.
    assert.equal((await bus.len('identity')) + 0, 1);
    const health = (await (await running.relay.app.request('/health/detailed')).json()) as {
      checks: Record<string, { status: string; reason: string }>;
    };
    assert.equal(health.checks.topics?.status, 'degraded');
    assert.match(health.checks.topics?.reason ?? '', /billing/);
    assert.equal((await store.outbox.backlog()).count, 2, 'the two held rows');

    // resolve releases the aggregate: its later row is published.
    const resolved = await runDlq({ store, bus }, 'resolve', {
      stream: 'identity.dlq',
      id: letter('infinite').id,
    });
    assert.match(resolved, /^resolved /);
    await eventually(
      async () => (await readStream(bus, 'identity')).some((e) => e.fields.event_id === ids.behindInfinite),
      5_000,
      { message: 'released after resolve' },
    );
    assert.equal(
      await store.outbox.deadRow({ stream: 'identity.dlq', id: letter('infinite').id }),
      undefined,
    );

    // reprocess honours --max-event-bytes, then publishes the full body from the dead row, first.
    await assert.rejects(
      runDlq({ store, bus }, 'reprocess', {
        stream: 'identity.dlq',
        id: letter('oversized').id,
        maxEventBytes: String(MAX),
      }),
      (error) => error instanceof ValidationError && /over --max-event-bytes/.test(error.message),
    );
    await runDlq({ store, bus }, 'reprocess', {
      stream: 'identity.dlq',
      id: letter('oversized').id,
      maxEventBytes: '100000',
    });
    const published = await eventually(async () => {
      const entries = await readStream(bus, 'identity');
      return entries.some((e) => e.fields.event_id === ids.behindOversized) ? entries : undefined;
    }, 5_000);
    const order = published.map((e) => e.fields.event_id);
    const republished = published.find((e) => e.fields.event_id === ids.oversized);
    assert.equal(JSON.parse(republished?.fields.payload ?? '{}').notes, JSON.parse(big).notes);
    assert.ok(order.indexOf(ids.oversized) < order.indexOf(ids.behindOversized), 'released in order');
    // The drain commits (deleting the rows) just after it published them.
    await eventually(async () => (await store.outbox.backlog()).count === 0, 5_000, {
      message: 'outbox empty',
    });
  });
};

describe('relay poison rows on Postgres and Redis', { skip: await skipUnless('postgres', 'redis') }, () => {
  const db = useTestDatabase();
  const redis = useTestRedis();
  let bus: Bus;
  before(() => {
    bus = createTestBus(redis.url, redis.prefix);
  });
  after(async () => {
    await bus.close();
  });
  scenario('postgres', () => ({ store: db.store, bus }));
});

describe('relay poison rows in local mode', () => {
  let dir: string;
  let local: Awaited<ReturnType<typeof openLocalPorts>>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mm-poison-'));
    local = await openLocalPorts({ file: join(dir, 'local.db'), logger: silentLogger });
  });
  after(async () => {
    await local.close();
    rmSync(dir, { recursive: true, force: true });
  });
  scenario('sqlite', () => ({ store: local.store, bus: local.bus }));
});
