// Raw baselines measured in the same run: what the hardware does with the plainest code, so the
// services' figures can be read as ratios that hold on a noisy machine. (The raw pipeline, the
// longest of them, has its own file: raw-pipeline.ts.)
import type { Redis } from 'ioredis';
import type postgres from 'postgres';
import { pgArray } from '../../src/adapters/postgres/arrays.ts';
import { streamFieldsOf, userEvents } from './events.ts';
import { drainBatch } from './raw-pipeline.ts';
import { rate } from './stats.ts';

export const RAW_CONSUMER_GROUP = 'raw-baseline';

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

/** The raw pipeline's drain batch (DELETE ... SKIP LOCKED LIMIT 1000 RETURNING + XADD) until empty. */
export const rawDrain = async (sql: postgres.Sql, redis: Redis, key: string): Promise<void> => {
  while ((await drainBatch(sql, redis, key)) > 0) {}
};

type ReadReply = [string, [string, string[]][]][] | null;

/** XREADGROUP COUNT 1000 + one transaction of ledger inserts per batch + XACK, until the stream is read. */
export const rawConsume = async (sql: postgres.Sql, redis: Redis, key: string): Promise<void> => {
  await redis.xgroup('CREATE', key, RAW_CONSUMER_GROUP, '0');
  for (;;) {
    const reply = (await redis.xreadgroup(
      'GROUP',
      RAW_CONSUMER_GROUP,
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
        select e, ${RAW_CONSUMER_GROUP}, t, s from unnest(${pgArray(eventIds)}::uuid[], ${pgArray(types)}::text[],
          ${pgArray(ids)}::text[]) as u(e, t, s)
        on conflict do nothing`,
    );
    await redis.xack(key, RAW_CONSUMER_GROUP, ...ids);
  }
};
