// Postgres side of the ledger port (mirrors adapters/sqlite/store/ledger.ts).
import type postgres from 'postgres';
import { quoteIdentifier } from '../../core/identifiers.ts';
import type { LedgerReader, LedgerResult, LedgerRow, LedgerWriter } from '../../ports/ledger.ts';
import { pgArray } from './arrays.ts';
import { pgCall } from './errors.ts';

const ledgerTable = (schema: string | undefined): string =>
  schema === undefined ? 'event_ledger' : `${quoteIdentifier(schema, 'schema')}.event_ledger`;

// The consumer's own ledger (no schema given) skips entries a replay holds back.
const notHeld = (schema: string | undefined): string =>
  schema === undefined
    ? `where not exists (select 1 from replay_holds h
        where h.consumer_group = u.consumer_group and h.event_id = u.event_id and h.stream_id = u.stream_id)`
    : '';

/** A text array; one value repeated is filled in by the server instead of sent once per entry. */
const sameForAll = (sql: postgres.TransactionSql, values: readonly string[]) =>
  values.every((v) => v === values[0])
    ? sql`array_fill(${values[0] ?? ''}::text, array[${values.length}::int])`
    : sql`${pgArray(values)}::text[]`;

export const createPostgresLedgerWriter = (sql: postgres.TransactionSql): LedgerWriter => ({
  claim: async (entries, options) => {
    if (entries.length === 0) return new Set();
    // One row back, not one per event: the ids only when some were already recorded or held. JSON,
    // not an array: an array result needs the types postgres.js fetches on each new connection, and
    // one whose fetch was cancelled goes on without them (a string here would claim nothing).
    const [row] = await sql<{ recorded: number; ids: string[] | null }[]>`
      with claimed as (
        insert into ${sql.unsafe(ledgerTable(options?.schema))} (event_id, consumer_group, event_type, stream_id, result)
        select * from unnest(
          ${pgArray(entries.map((e) => e.eventId))}::uuid[],
          ${sameForAll(
            sql,
            entries.map((e) => e.consumerGroup),
          )},
          ${pgArray(entries.map((e) => e.eventType))}::text[],
          ${pgArray(entries.map((e) => e.streamId))}::text[],
          ${sameForAll(
            sql,
            entries.map((e) => e.result),
          )})
          as u(event_id, consumer_group, event_type, stream_id, result)
        ${sql.unsafe(notHeld(options?.schema))}
        on conflict do nothing
        returning event_id)
      select count(*)::int as recorded,
        case when count(*) < ${entries.length} then json_agg(event_id::text) end as ids
      from claimed`;
    if (row && row.recorded === entries.length) return new Set(entries.map((e) => e.eventId));
    return new Set(row?.ids ?? []);
  },
});

type LedgerRecord = {
  event_id: string;
  consumer_group: string;
  event_type: string;
  stream_id: string;
  result: LedgerResult;
  processed_at: Date;
};

export const createPostgresLedgerReader = (sql: postgres.Sql): LedgerReader => ({
  find: (eventId) =>
    pgCall(async () => {
      const rows = await sql<LedgerRecord[]>`
        select event_id, consumer_group, event_type, stream_id, result, processed_at
        from event_ledger where event_id = ${eventId} order by consumer_group`;
      return rows.map(
        (row): LedgerRow => ({
          eventId: row.event_id,
          consumerGroup: row.consumer_group,
          eventType: row.event_type,
          streamId: row.stream_id,
          result: row.result,
          processedAt: row.processed_at.toISOString(),
        }),
      );
    }),

  recorded: (consumerGroup, eventIds) =>
    pgCall(async () => {
      if (eventIds.length === 0) return new Set<string>();
      const rows = await sql<{ event_id: string }[]>`
        select event_id from event_ledger
        where consumer_group = ${consumerGroup} and event_id = any(${pgArray(eventIds)}::uuid[])`;
      return new Set(rows.map((row) => row.event_id));
    }),

  hold: (holds) =>
    pgCall(async () => {
      if (holds.length === 0) return 0;
      const rows = await sql`
        insert into replay_holds (consumer_group, event_id, stream_id)
        select * from unnest(
          ${pgArray(holds.map((h) => h.consumerGroup))}::text[],
          ${pgArray(holds.map((h) => h.eventId))}::uuid[],
          ${pgArray(holds.map((h) => h.streamId))}::text[])
        on conflict do nothing
        returning 1`;
      return rows.length;
    }),

  held: (holds) =>
    pgCall(async () => {
      if (holds.length === 0) return [];
      const rows = await sql<{ consumer_group: string; event_id: string; stream_id: string }[]>`
        select h.consumer_group, h.event_id, h.stream_id from replay_holds h join unnest(
          ${pgArray(holds.map((x) => x.consumerGroup))}::text[],
          ${pgArray(holds.map((x) => x.eventId))}::uuid[],
          ${pgArray(holds.map((x) => x.streamId))}::text[]) as r(consumer_group, event_id, stream_id)
        on h.consumer_group = r.consumer_group and h.event_id = r.event_id and h.stream_id = r.stream_id`;
      return rows.map((row) => ({
        consumerGroup: row.consumer_group,
        eventId: row.event_id,
        streamId: row.stream_id,
      }));
    }),

  release: (holds) =>
    pgCall(async () => {
      if (holds.length === 0) return 0;
      const rows = await sql`
        delete from replay_holds h using unnest(
          ${pgArray(holds.map((x) => x.consumerGroup))}::text[],
          ${pgArray(holds.map((x) => x.eventId))}::uuid[],
          ${pgArray(holds.map((x) => x.streamId))}::text[]) as r(consumer_group, event_id, stream_id)
        where h.consumer_group = r.consumer_group and h.event_id = r.event_id and h.stream_id = r.stream_id
        returning 1`;
      return rows.length;
    }),

  cleanup: (retentionSeconds) =>
    pgCall(async () => {
      const [row] =
        retentionSeconds === undefined
          ? await sql<{ removed: string }[]>`select cleanup_event_ledger() as removed`
          : await sql<{ removed: string }[]>`
              select cleanup_event_ledger(make_interval(secs => ${retentionSeconds})) as removed`;
      return Number(row?.removed ?? 0);
    }),
});
