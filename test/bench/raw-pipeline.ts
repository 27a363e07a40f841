// The raw pipeline baseline: the plainest outbox -> stream -> ledger code on the project's tables
// (a producer's insert, one drain loop, one consumer loop), what the services' pipeline is compared with.
import type { Redis } from 'ioredis';
import type postgres from 'postgres';
import { pgArray } from '../../src/adapters/postgres/arrays.ts';
import type { NewOutboxEvent } from '../../src/ports/outbox.ts';

export const RAW_GROUP = 'raw-pipeline';

/** The producer: one statement (and one commit) for a batch of up to 500 rows. */
export const rawInsert = async (sql: postgres.Sql, events: readonly NewOutboxEvent[]): Promise<void> => {
  await sql`
    insert into outbox (event_id, topic, event_type, aggregate_type, aggregate_id, payload, headers)
    select * from unnest(
      ${pgArray(events.map((e) => e.eventId))}::uuid[],
      ${pgArray(events.map((e) => e.topic))}::text[],
      ${pgArray(events.map((e) => e.eventType))}::text[],
      ${pgArray(events.map((e) => e.aggregateType))}::text[],
      ${pgArray(events.map((e) => e.aggregateId))}::text[],
      ${pgArray(events.map((e) => JSON.stringify(e.payload)))}::jsonb[],
      ${pgArray(events.map((e) => JSON.stringify(e.headers ?? {})))}::jsonb[])`;
};

/** Moves up to 1000 rows: deleted and published in one transaction, so a failed XADD keeps them. */
export const drainBatch = (sql: postgres.Sql, redis: Redis, key: string): Promise<number> =>
  sql.begin(async (tx) => {
    const rows = await tx`
      delete from outbox where id = any(array(
        select id from outbox order by id for update skip locked limit 1000))
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

/** The drain loop: woken by NOTIFY, drains until a batch comes back short, waits again. */
export const runRawDrain = async (
  sql: postgres.Sql,
  redis: Redis,
  key: string,
  listening: () => void,
): Promise<never> => {
  let notified = true;
  let wake = (): void => {};
  await sql.listen('mm_outbox', () => {
    notified = true;
    wake();
  });
  listening();
  for (;;) {
    if (!notified) await new Promise<void>((resolve) => (wake = resolve));
    notified = false;
    while ((await drainBatch(sql, redis, key)) === 1000) {}
  }
};

type ReadReply = [string, [string, string[]][]][] | null;

const field = (fields: string[], name: string): string => fields[fields.indexOf(name) + 1] as string;

/** The consumer loop: a blocked read of 500, ledger rows and profiles in one transaction, one XACK. */
export const runRawConsumer = async (
  sql: postgres.Sql,
  redis: Redis,
  key: string,
  applied: (count: number) => void,
): Promise<never> => {
  for (;;) {
    const reply = (await redis.xreadgroup(
      'GROUP',
      RAW_GROUP,
      'raw',
      'COUNT',
      500,
      'BLOCK',
      1000,
      'STREAMS',
      key,
      '>',
    )) as ReadReply;
    const entries = reply?.[0]?.[1] ?? [];
    if (entries.length === 0) continue;
    const ids = entries.map(([id]) => id);
    const eventIds = entries.map(([, f]) => field(f, 'event_id'));
    const users = entries.map(([, f]) => JSON.parse(field(f, 'payload')) as Record<string, string>);
    // Each bench event creates its own user, so no user appears twice in one upsert.
    await sql.begin((tx) => [
      tx`insert into event_ledger (event_id, consumer_group, event_type, stream_id)
         select e, ${RAW_GROUP}, t, s from unnest(${pgArray(eventIds)}::uuid[],
           ${pgArray(entries.map(([, f]) => field(f, 'event_type')))}::text[], ${pgArray(ids)}::text[]) as u(e, t, s)`,
      tx`insert into lint_profiles (user_id, email, display_name, status, last_event_id)
         select * from unnest(${pgArray(users.map((u) => u.id ?? null))}::uuid[],
           ${pgArray(users.map((u) => u.email ?? null))}::text[],
           ${pgArray(users.map((u) => u.display_name ?? null))}::text[],
           ${pgArray(users.map((u) => u.status ?? null))}::text[], ${pgArray(eventIds)}::uuid[])
         on conflict (user_id) do update set email = excluded.email, display_name = excluded.display_name,
           status = excluded.status, last_event_id = excluded.last_event_id,
           version = lint_profiles.version + 1, updated_at = now()`,
    ]);
    await redis.xack(key, RAW_GROUP, ...ids);
    applied(ids.length);
  }
};
