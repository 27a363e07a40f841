// Postgres side of the parking port (mirrors adapters/sqlite/store/parking.ts): per group, events
// waiting behind an earlier event of their aggregate, and the blocks that halt an aggregate.
import type postgres from 'postgres';
import type { AggregateBlock, ParkedEntry, ParkingStore } from '../../ports/parking.ts';
import { compareParked, parseParkedFields } from '../parked-order.ts';
import { pgArray } from './arrays.ts';
import { pgCall } from './errors.ts';

type ParkedRecord = {
  consumer_group: string;
  aggregate_key: string;
  stream: string;
  stream_id: string;
  event_id: string;
  outbox_id: string | null;
  fields: string;
  parked_at: Date;
};

type BlockRecord = {
  consumer_group: string;
  aggregate_key: string;
  event_id: string;
  dead_letter_stream: string;
  dead_letter_id: string | null;
  since: Date;
};

const parkedOf = (row: ParkedRecord): ParkedEntry => ({
  group: row.consumer_group,
  aggregateKey: row.aggregate_key,
  stream: row.stream,
  streamId: row.stream_id,
  eventId: row.event_id,
  outboxId: row.outbox_id === null ? null : Number(row.outbox_id),
  fields: parseParkedFields(row.fields),
  parkedAt: row.parked_at.getTime(),
});

const blockOf = (row: BlockRecord): AggregateBlock => ({
  group: row.consumer_group,
  aggregateKey: row.aggregate_key,
  eventId: row.event_id,
  deadLetterStream: row.dead_letter_stream,
  deadLetterId: row.dead_letter_id,
  since: row.since.toISOString(),
});

/** Over the pool (each call on its own) or inside a transaction (parked with the effect it follows). */
export const createPostgresParking = (sql: postgres.Sql | postgres.TransactionSql): ParkingStore => {
  const q = sql as postgres.Sql;
  return {
    park: (events) =>
      pgCall(async () => {
        if (events.length === 0) return;
        await q`
          insert into parked_events
            (consumer_group, aggregate_key, stream, stream_id, event_id, outbox_id, fields)
          select * from unnest(
            ${pgArray(events.map((e) => e.group))}::text[],
            ${pgArray(events.map((e) => e.aggregateKey))}::text[],
            ${pgArray(events.map((e) => e.stream))}::text[],
            ${pgArray(events.map((e) => e.streamId))}::text[],
            ${pgArray(events.map((e) => e.eventId))}::text[],
            ${pgArray(events.map((e) => e.outboxId))}::bigint[],
            ${pgArray(events.map((e) => JSON.stringify(e.fields)))}::json[])
          on conflict (consumer_group, event_id) do nothing`;
      }),

    parked: (group, aggregateKey) =>
      pgCall(async () => {
        const rows = await q<ParkedRecord[]>`
          select consumer_group, aggregate_key, stream, stream_id, event_id, outbox_id, fields::text as fields,
            parked_at
          from parked_events where consumer_group = ${group} and aggregate_key = ${aggregateKey}`;
        return rows.map(parkedOf).sort(compareParked);
      }),

    remove: (group, eventIds) =>
      pgCall(async () => {
        if (eventIds.length === 0) return;
        await q`
          delete from parked_events
          where consumer_group = ${group} and event_id = any(${pgArray(eventIds)}::text[])`;
      }),

    releasable: (group, limit) =>
      pgCall(async () => {
        const rows = await q<{ aggregate_key: string }[]>`
          select p.aggregate_key from parked_events p
          where p.consumer_group = ${group}
            and not exists (
              select 1 from aggregate_blocks b
              where b.consumer_group = p.consumer_group and b.aggregate_key = p.aggregate_key)
          group by p.aggregate_key
          order by min(p.parked_at), p.aggregate_key
          limit ${Math.max(0, Math.trunc(limit))}`;
        return rows.map((row) => row.aggregate_key);
      }),

    count: (group) =>
      pgCall(async () => {
        const [row] = await q<{ n: number }[]>`
          select count(*)::int as n from parked_events where consumer_group = ${group}`;
        return row?.n ?? 0;
      }),

    countBehind: (group, aggregateKey) =>
      pgCall(async () => {
        const [row] = await q<{ n: number }[]>`
          select count(*)::int as n from parked_events
          where consumer_group = ${group} and aggregate_key = ${aggregateKey}`;
        return row?.n ?? 0;
      }),

    // One block per aggregate: a later block replaces it, keeping `since` when it is the same event.
    block: (block) =>
      pgCall(async () => {
        await q`
          insert into aggregate_blocks as b
            (consumer_group, aggregate_key, event_id, dead_letter_stream, dead_letter_id)
          values (${block.group}, ${block.aggregateKey}, ${block.eventId}, ${block.deadLetterStream},
            ${block.deadLetterId})
          on conflict (consumer_group, aggregate_key) do update set
            event_id = excluded.event_id,
            dead_letter_stream = excluded.dead_letter_stream,
            dead_letter_id = excluded.dead_letter_id,
            since = case when b.event_id = excluded.event_id then b.since else excluded.since end`;
      }),

    blocks: (group, aggregateKeys) =>
      pgCall(async () => {
        if (aggregateKeys?.length === 0) return [];
        const rows =
          aggregateKeys === undefined
            ? await q<BlockRecord[]>`
                select consumer_group, aggregate_key, event_id, dead_letter_stream, dead_letter_id, since from aggregate_blocks where consumer_group = ${group}
                order by since, aggregate_key`
            : await q<BlockRecord[]>`
                select consumer_group, aggregate_key, event_id, dead_letter_stream, dead_letter_id, since from aggregate_blocks
                where consumer_group = ${group} and aggregate_key = any(${pgArray(aggregateKeys)}::text[])
                order by since, aggregate_key`;
        return rows.map(blockOf);
      }),

    blocksOfEvent: (eventId) =>
      pgCall(async () => {
        const rows = await q<BlockRecord[]>`
          select consumer_group, aggregate_key, event_id, dead_letter_stream, dead_letter_id, since from aggregate_blocks where event_id = ${eventId} order by consumer_group, aggregate_key`;
        return rows.map(blockOf);
      }),

    unblock: (group, aggregateKey) =>
      pgCall(async () => {
        const [row] = await q<{ lifted: number }[]>`
          with lifted as (
            delete from aggregate_blocks where consumer_group = ${group} and aggregate_key = ${aggregateKey}
            returning event_id),
          stale as (
            delete from parked_events p using lifted
            where p.consumer_group = ${group} and p.event_id = lifted.event_id)
          select count(*)::int as lifted from lifted`;
        return (row?.lifted ?? 0) > 0;
      }),
  };
};
