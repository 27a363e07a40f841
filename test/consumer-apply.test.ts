// mm-consumer against real Postgres and Redis: exactly-once effect per group through the ledger.
import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { HandlerContext } from '../src/consumer/handler.ts';
import { loadHandlerModule } from '../src/consumer/handler-module.ts';
import { lintProfileHandler } from '../src/consumer/lint-profile-handler.ts';
import { parseReplayFrom, runReplay } from '../src/consumer/replay.ts';
import { ValidationError } from '../src/core/errors.ts';
import { uuidv7 } from '../src/core/ids.ts';
import { ensureIdempotentProcessing } from '../src/idempotency/ensure-idempotent-processing.ts';
import { addEntries, userEvent } from './helpers/consumer-events.ts';
import { type RunningConsumer, startConsumer } from './helpers/consumer-harness.ts';
import { eventually } from './helpers/eventually.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { useTestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

const GROUP = 'markdown-lint-consumer';
const fixture = (name: string): string =>
  fileURLToPath(new URL(`../fixtures/handlers/${name}`, import.meta.url));

describe('mm-consumer exactly-once effect', { skip: await skipUnless('postgres', 'redis') }, () => {
  const db = useTestDatabase();
  const redis = useTestRedis({ perTest: true });
  const running: RunningConsumer[] = [];
  const stream = (): string => `${redis.prefix}identity`;
  const start = async (options: Parameters<typeof startConsumer>[1] = {}): Promise<RunningConsumer> => {
    const consumer = await startConsumer(
      { store: db.store, redisUrl: redis.url, keyPrefix: redis.prefix },
      options,
    );
    running.push(consumer);
    return consumer;
  };
  const ledgerRows = async (eventId: string): Promise<Array<{ consumer_group: string; result: string }>> => [
    ...(await db.sql<{ consumer_group: string; result: string }[]>`
      select consumer_group, result from event_ledger where event_id = ${eventId} order by consumer_group`),
  ];
  const version = async (userId: string): Promise<number | undefined> =>
    (await db.sql<{ version: number }[]>`select version from lint_profiles where user_id = ${userId}`)[0]
      ?.version;
  const pending = async (group = GROUP): Promise<number> =>
    Number(((await redis.client.xpending(stream(), group)) as [number])[0]);

  before(async () => {
    await db.sql`create table consumer_effects (consumer_group text, event_id uuid, applied int, primary key (consumer_group, event_id))`;
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.stop()));
  });

  it('applies a batch with one set-based upsert, keeping the order of one user’s events', async () => {
    const created = userEvent();
    const updated = userEvent({ type: 'user.updated', userId: created.userId, email: 'new@example.com' });
    const disabled = userEvent({ type: 'user.disabled', userId: created.userId, email: 'new@example.com' });
    const others = Array.from({ length: 50 }, () => userEvent());
    await addEntries(
      redis.client,
      stream(),
      [created, updated, disabled, ...others].map((e) => e.fields),
    );
    const consumer = await start();
    await eventually(async () => (await consumer.metrics()).events_processed_success === 53, 10_000);
    const [profile] =
      await db.sql`select email, status, version, last_event_id from lint_profiles where user_id = ${created.userId}`;
    assert.deepEqual(
      { ...profile },
      { email: 'new@example.com', status: 'disabled', version: 3, last_event_id: disabled.eventId },
    );
    for (const other of others.slice(0, 5)) assert.equal(await version(other.userId), 1);
    assert.equal(await pending(), 0);
    const [ledger] =
      await db.sql`select count(*)::int as n from event_ledger where consumer_group = ${GROUP} and result = 'applied'`;
    assert.equal(ledger?.n, 53);
  });

  it('delivers one event three times (re-XADD, reclaim, replay): one ledger row, one effect', async () => {
    const event = userEvent();
    await addEntries(redis.client, stream(), [event.fields]);
    let consumer = await start({ claimIdleMs: 300 });
    await eventually(async () => (await ledgerRows(event.eventId)).length === 1);

    // 1. The relay publishes it again (same event_id, new stream entry), beside a new event: a batch
    // of first deliveries that turns out to hold one recorded before applies only the new one.
    const beside = userEvent();
    await addEntries(redis.client, stream(), [event.fields, beside.fields]);
    await eventually(
      async () => ((await consumer.metrics()).events_skipped_total as { duplicate: number }).duplicate === 1,
    );
    await eventually(async () => (await ledgerRows(beside.eventId)).length === 1);
    assert.equal(await version(beside.userId), 1);
    assert.equal(await version(event.userId), 1, 'the duplicate had no effect');

    // 2. A consumer reads it and dies before acknowledging: another one reclaims it.
    await consumer.stop();
    const [ghostEntry] = await addEntries(redis.client, stream(), [event.fields]);
    const read = await redis.client.xreadgroup(
      'GROUP',
      GROUP,
      'ghost',
      'COUNT',
      10,
      'STREAMS',
      stream(),
      '>',
    );
    assert.equal((read as [string, unknown[]][])[0]?.[1].length, 1, 'the ghost holds the entry');
    consumer = await start({ claimIdleMs: 300 });
    await eventually(async () => (await pending()) === 0, 10_000);
    assert.equal(((await consumer.metrics()).events_skipped_total as { duplicate: number }).duplicate, 1);

    // 3. An operator replays the stream from the start.
    const report = await runReplay(
      { bus: consumer.bus, ledger: db.store.ledger },
      { group: GROUP, topic: 'identity', from: parseReplayFrom('start'), dryRun: false },
    );
    assert.equal(
      report.redeliver,
      4,
      `the stream holds three entries of the event and the one beside it: ${JSON.stringify(report)}`,
    );
    assert.equal(report.alreadyApplied, 4);
    await eventually(
      async () => ((await consumer.metrics()).events_skipped_total as { duplicate: number }).duplicate === 5,
    ); // this process: reclaim + 4 replayed

    assert.deepEqual(await ledgerRows(event.eventId), [{ consumer_group: GROUP, result: 'applied' }]);
    assert.equal(await version(event.userId), 1, 'the effect was applied once');
    assert.equal(await pending(), 0);
    assert.ok(ghostEntry);
  });

  it('runs two groups on one stream, each applying every event once', async () => {
    const events = Array.from({ length: 100 }, () => userEvent());
    await addEntries(
      redis.client,
      stream(),
      events.map((e) => e.fields),
    );
    const audit = await loadHandlerModule(fixture('effect-counter.mjs'), process.cwd());
    await start();
    await start({ group: 'audit-consumer', handlers: audit });
    await addEntries(
      redis.client,
      stream(),
      events.slice(0, 10).map((e) => e.fields),
    ); // duplicates for both
    const audited = running[1];
    await eventually(
      async () => (await pending()) === 0 && (await pending('audit-consumer')) === 0,
      10_000,
    ).catch((error) => {
      throw new Error(`${error.message} ${audited?.logs().slice(-5).join('')}`);
    });
    const ids = events.map((e) => e.eventId);
    const userIds = events.map((e) => e.userId);
    const count = async () => {
      const [row] = await db.sql`
        select (select count(*)::int from event_ledger where event_id = any(${ids}) and consumer_group = ${GROUP}) as lint,
               (select count(*)::int from event_ledger where event_id = any(${ids}) and consumer_group = 'audit-consumer') as audit,
               (select count(*)::int from lint_profiles where user_id = any(${userIds}) and version <> 1) as lint_twice,
               (select count(*)::int from consumer_effects where event_id = any(${ids}) and applied = 1) as audit_once,
               (select count(*)::int from consumer_effects where event_id = any(${ids}) and applied <> 1) as audit_twice`;
      return { ...row };
    };
    await eventually(async () => (await count()).audit_once === 100);
    const counts = await count();
    assert.deepEqual(
      { ...counts },
      { lint: 100, audit: 100, lint_twice: 0, audit_once: 100, audit_twice: 0 },
    );
  });

  it('a batch holding an event recorded before: per-event handlers leave no effect outside its transaction', async () => {
    const group = 'per-event-effects';
    // One statement per event, each after a pause: the handlers are still running long after the
    // ledger claim answered.
    const countEach = async (event: { eventId: string }, context: HandlerContext): Promise<void> => {
      await sleep(2);
      await context.tx.query(
        `insert into consumer_effects (consumer_group, event_id, applied) values ($1, $2, 1)
         on conflict (consumer_group, event_id) do update set applied = consumer_effects.applied + 1`,
        [context.consumerGroup, event.eventId],
      );
    };
    const handlers = { 'user.created': countEach };
    const seen = userEvent();
    await addEntries(redis.client, stream(), [seen.fields]);
    const recorded = async (): Promise<number> =>
      (await db.sql`select event_id from event_ledger where consumer_group = ${group}`).length;
    let consumer = await start({ group, handlers });
    await eventually(async () => (await recorded()) === 1);
    await consumer.stop();
    // Read as one batch of first deliveries by the next consumer: the recorded event first.
    const fresh = Array.from({ length: 30 }, () => userEvent());
    await addEntries(
      redis.client,
      stream(),
      [seen, ...fresh].map((e) => e.fields),
    );
    consumer = await start({ group, handlers });
    await eventually(async () => (await recorded()) === 31 && (await pending(group)) === 0, 10_000);
    const effects = await db.sql<{ event_id: string; applied: number }[]>`
      select event_id, applied from consumer_effects where consumer_group = ${group}`;
    assert.deepEqual(
      new Map(effects.map((row) => [row.event_id, row.applied])),
      new Map([seen, ...fresh].map((e) => [e.eventId, 1])),
    );
    assert.equal(((await consumer.metrics()).events_skipped_total as { duplicate: number }).duplicate, 1);
  });

  it('isolates a failing event: the rest of its batch commits in the same transaction', async () => {
    const bad = userEvent({ email: 'reject@example.com' });
    const events = [
      ...Array.from({ length: 10 }, () => userEvent()),
      bad,
      ...Array.from({ length: 9 }, () => userEvent()),
    ];
    await addEntries(
      redis.client,
      stream(),
      events.map((e) => e.fields),
    );
    const picky = {
      ...lintProfileHandler,
      applyBatch: async (
        items: Parameters<typeof lintProfileHandler.applyBatch>[0],
        context: Parameters<typeof lintProfileHandler.applyBatch>[1],
      ) => {
        if (items.some((item) => item.prepared.email === 'reject@example.com'))
          throw new Error('rejected address');
        await lintProfileHandler.applyBatch(items, context);
      },
    };
    const consumer = await start({
      handlers: { 'user.created': picky },
      maxDeliveries: 1,
      batchSize: 100,
    });
    await eventually(async () => (await consumer.metrics()).events_processed_success === 19, 10_000);
    assert.equal((await consumer.metrics()).events_processed_failure, 1);
    assert.ok(consumer.logs().some((line) => line.includes('redone event by event')));
    assert.equal(await version(bad.userId), undefined);
    for (const event of events.filter((e) => e !== bad)) assert.equal(await version(event.userId), 1);
    assert.deepEqual(await ledgerRows(bad.eventId), []);
    assert.equal(await redis.client.xlen(`${redis.prefix}identity.dlq`), 1);
  });

  it('consumes several topics: counts and dead letters per topic', async () => {
    const identity = Array.from({ length: 5 }, () => userEvent());
    const billing = Array.from({ length: 3 }, () => userEvent({ topic: 'billing' }));
    const poison = userEvent({ topic: 'billing', payload: { id: 7 } });
    await addEntries(
      redis.client,
      stream(),
      identity.map((e) => e.fields),
    );
    const billingIds = await addEntries(
      redis.client,
      `${redis.prefix}billing`,
      [...billing, poison].map((e) => e.fields),
    );
    const consumer = await start({ topics: ['identity', 'billing'], maxDeliveries: 1 });
    await eventually(async () => (await redis.client.xlen(`${redis.prefix}billing.dlq`)) === 1, 10_000);
    await eventually(async () => (await consumer.metrics()).events_processed_success === 8);
    const metrics = await consumer.metrics();
    assert.deepEqual(metrics.events_consumed_total, { identity: 5, billing: 4 });
    assert.deepEqual(metrics.events_dlq_total, { identity: 0, billing: 1 });
    // The group's last acknowledged entry: the poison one, dead-lettered, is done with too.
    await eventually(
      async () =>
        ((await consumer.metrics()).last_processed_event_ids as Record<string, string>).billing ===
        billingIds[3],
    );
    assert.equal(await redis.client.xlen(`${redis.prefix}identity.dlq`), 0);
  });

  it('stops gracefully: what was read is applied and acknowledged', async () => {
    const events = Array.from({ length: 300 }, () => userEvent());
    await addEntries(
      redis.client,
      stream(),
      events.map((e) => e.fields),
    );
    const consumer = await start({ batchSize: 25 });
    await eventually(async () => Number((await consumer.metrics()).events_processed_success) > 0);
    await consumer.stop();
    assert.equal(await pending(), 0, 'nothing read was left unacknowledged');
    const [row] = await db.sql`select count(*)::int as n from event_ledger where consumer_group = ${GROUP}`;
    const [read] = (await redis.client.xinfo('GROUPS', stream())) as unknown[][];
    assert.ok(read);
    assert.ok((row?.n ?? 0) > 0);
  });
});

describe('ensureIdempotentProcessing', { skip: await skipUnless('postgres') }, () => {
  const db = useTestDatabase();

  it('runs the process once per group, undoes the ledger row when it throws, validates the schema', async () => {
    const eventId = uuidv7();
    const options = { eventId, eventType: 'user.created', consumerGroup: 'lib-group', schema: 'public' };
    let runs = 0;
    const process = async (): Promise<string> => {
      runs += 1;
      return 'done';
    };
    const first = await db.store.withTransaction((tx) =>
      ensureIdempotentProcessing({ ...options, tx, process }),
    );
    assert.deepEqual(first, { status: 'applied', result: 'done' });
    const again = await db.store.withTransaction((tx) =>
      ensureIdempotentProcessing({ ...options, tx, process }),
    );
    assert.deepEqual(again, { status: 'duplicate' });
    const other = await db.store.withTransaction((tx) =>
      ensureIdempotentProcessing({ ...options, consumerGroup: 'other-group', tx, process }),
    );
    assert.equal(other.status, 'applied');
    assert.equal(runs, 2);

    const failing = uuidv7();
    await db.store.withTransaction(async (tx) => {
      await assert.rejects(
        ensureIdempotentProcessing({
          ...options,
          eventId: failing,
          tx,
          process: async () => {
            throw new Error('handler broke');
          },
        }),
        /handler broke/,
      );
    });
    assert.equal(
      (await db.store.ledger.find(failing)).length,
      0,
      'the ledger row went with the failed effect',
    );

    await db.store.withTransaction(async (tx) => {
      await assert.rejects(
        ensureIdempotentProcessing({
          ...options,
          eventId: uuidv7(),
          schema: 'public"; drop table event_ledger; --',
          tx,
          process,
        }),
        ValidationError,
      );
      await assert.rejects(
        ensureIdempotentProcessing({ ...options, eventId: 'nope', tx, process }),
        ValidationError,
      );
    });
    assert.equal(runs, 2);
    assert.equal((await db.store.ledger.find(eventId)).length, 2, 'one row per group');
  });

  it('cleanup_event_ledger() removes only rows older than the retention', async () => {
    const ages = { old: '31 days', recent: '29 days', fresh: '1 second' };
    const ids: Record<string, string> = {};
    for (const [name, age] of Object.entries(ages)) {
      ids[name] = uuidv7();
      await db.sql`
        insert into event_ledger (event_id, consumer_group, event_type, stream_id, processed_at)
        values (${ids[name] as string}, 'cleanup', 'user.created', '1-0', now() - ${age}::interval)`;
    }
    const [removed] = await db.sql`select cleanup_event_ledger() as n`;
    assert.equal(Number(removed?.n), 1);
    const left = await db.sql<
      { event_id: string }[]
    >`select event_id from event_ledger where consumer_group = 'cleanup'`;
    assert.deepEqual(new Set(left.map((r) => r.event_id)), new Set([ids.recent, ids.fresh]));
    const [shorter] = await db.sql`select cleanup_event_ledger(interval '1 day') as n`;
    assert.equal(Number(shorter?.n), 1);
  });
});
