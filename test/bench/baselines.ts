// Raw baselines measured in the same run: what the hardware does with the plainest code, so the
// services' figures can be read as ratios that hold on a noisy machine.
import type { Redis } from 'ioredis';
import type postgres from 'postgres';
import { pgArray } from '../../src/adapters/postgres/arrays.ts';
import type { Store } from '../../src/ports/store.ts';
import { streamFieldsOf, userEvents } from './events.ts';
import { rate } from './stats.ts';

export const fillOutbox = async (store: Store, count: number, batch = 2_000): Promise<void> => {
  for (let done = 0; done < count; done += batch) {
    const events = userEvents(Math.min(batch, count - done), done);
    await store.withTransaction((tx) => tx.outbox.insert(events));
  }
};

/** Pipelined XADD, 500 a batch (events generated before the clock starts). */
export const rawXadd = async (redis: Redis, key: string, count: number): Promise<number> => {
  const rows = userEvents(count).map((event, i) => streamFieldsOf(event, i));
  const started = performance.now();
  for (let at = 0; at < rows.length; at += 500) {
    const pipeline = redis.pipeline();
    for (const fields of rows.slice(at, at + 500)) pipeline.xadd(key, '*', ...fields);
    await pipeline.exec();
  }
  return rate(count, performance.now() - started);
};

/** DELETE ... FOR UPDATE SKIP LOCKED LIMIT 1000 RETURNING + pipelined XADD, one transaction a batch. */
export const rawDrain = async (sql: postgres.Sql, redis: Redis, key: string): Promise<number> => {
  let total = 0;
  const started = performance.now();
  for (;;) {
    const drained = await sql.begin(async (tx) => {
      const rows = await tx`
        delete from outbox where id in (select id from outbox order by id for update skip locked limit 1000)
        returning id, event_id, topic, event_type, aggregate_type, aggregate_id, payload::text as payload,
                  headers::text as headers, occurred_at`;
      if (rows.length === 0) return 0;
      const pipeline = redis.pipeline();
      for (const r of rows) {
        pipeline.xadd(
          key,
          '*',
          'event_id',
          r.event_id,
          'event_type',
          r.event_type,
          'topic',
          r.topic,
          'aggregate_type',
          r.aggregate_type,
          'aggregate_id',
          r.aggregate_id,
          'payload',
          r.payload,
          'occurred_at',
          (r.occurred_at as Date).toISOString(),
          'outbox_id',
          r.id,
          'headers',
          r.headers,
          'schema_version',
          '1',
        );
      }
      await pipeline.exec();
      return rows.length;
    });
    if (drained === 0) break;
    total += drained;
  }
  return rate(total, performance.now() - started);
};

type ReadReply = [string, [string, string[]][]][] | null;

/** XREADGROUP COUNT 1000 + one transaction of ledger inserts per batch + XACK. */
export const rawConsume = async (
  sql: postgres.Sql,
  redis: Redis,
  key: string,
  count: number,
): Promise<number> => {
  const rows = userEvents(count).map((event, i) => streamFieldsOf(event, i));
  for (let at = 0; at < rows.length; at += 1000) {
    const pipeline = redis.pipeline();
    for (const fields of rows.slice(at, at + 1000)) pipeline.xadd(key, '*', ...fields);
    await pipeline.exec();
  }
  await redis.xgroup('CREATE', key, 'raw-baseline', '0');
  let total = 0;
  const started = performance.now();
  for (;;) {
    const reply = (await redis.xreadgroup(
      'GROUP',
      'raw-baseline',
      'c',
      'COUNT',
      1000,
      'STREAMS',
      key,
      '>',
    )) as ReadReply;
    const entries = reply?.[0]?.[1] ?? [];
    if (entries.length === 0) break;
    const ids = entries.map(([id]) => id);
    const eventIds = entries.map(([, f]) => f[f.indexOf('event_id') + 1] as string);
    const types = entries.map(([, f]) => f[f.indexOf('event_type') + 1] as string);
    await sql.begin(
      (tx) => tx`
        insert into event_ledger (event_id, consumer_group, event_type, stream_id)
        select e, 'raw-baseline', t, s from unnest(${pgArray(eventIds)}::uuid[], ${pgArray(types)}::text[],
          ${pgArray(ids)}::text[]) as u(e, t, s)
        on conflict do nothing`,
    );
    await redis.xack(key, 'raw-baseline', ...ids);
    total += ids.length;
  }
  return rate(total, performance.now() - started);
};
