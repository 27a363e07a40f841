// Postgres side of the ledger port (mirrors adapters/sqlite/store/ledger.ts).
import type postgres from 'postgres';
import { quoteIdentifier } from '../../core/identifiers.ts';
import type { LedgerReader, LedgerResult, LedgerRow, LedgerWriter } from '../../ports/ledger.ts';
import { pgArray } from './arrays.ts';
import { pgCall } from './errors.ts';

const ledgerTable = (schema: string | undefined): string =>
  schema === undefined ? 'event_ledger' : `${quoteIdentifier(schema, 'schema')}.event_ledger`;

export const createPostgresLedgerWriter = (sql: postgres.TransactionSql): LedgerWriter => ({
  claim: async (entries, options) => {
    if (entries.length === 0) return new Set();
    const rows = await sql<{ event_id: string }[]>`
      insert into ${sql.unsafe(ledgerTable(options?.schema))} (event_id, consumer_group, event_type, stream_id, result)
      select * from unnest(
        ${pgArray(entries.map((e) => e.eventId))}::uuid[],
        ${pgArray(entries.map((e) => e.consumerGroup))}::text[],
        ${pgArray(entries.map((e) => e.eventType))}::text[],
        ${pgArray(entries.map((e) => e.streamId))}::text[],
        ${pgArray(entries.map((e) => e.result))}::text[])
      on conflict do nothing
      returning event_id`;
    return new Set(rows.map((row) => row.event_id));
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
