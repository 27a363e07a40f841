// SQLite side of the parking port (mirrors adapters/postgres/parking.ts): per group, events waiting
// behind an earlier event of their aggregate, and the blocks that halt an aggregate.
import type { AggregateBlock, ParkedEntry, ParkingStore } from '../../../ports/parking.ts';
import { compareParked, parseParkedFields } from '../../parked-order.ts';
import type { SqliteConnection } from '../driver/connection.ts';
import type { SqliteDriver } from '../driver/driver.ts';
import type { TxScope } from './scope.ts';

/** Where the statements run: the store's own transactions, or the caller's. */
export type SqliteRunner = {
  read<T>(work: (db: SqliteDriver) => T): Promise<T>;
  write<T>(work: (db: SqliteDriver) => T): Promise<T>;
};

export const connectionRunner = (connection: SqliteConnection): SqliteRunner => ({
  read: (work) => connection.read(work, 'database'),
  write: (work) => connection.write(work, 'database'),
});

export const scopeRunner = (scope: TxScope): SqliteRunner => ({ read: scope.run, write: scope.run });

type ParkedRecord = {
  consumer_group: string;
  aggregate_key: string;
  stream: string;
  stream_id: string;
  event_id: string;
  outbox_id: number | null;
  fields: string;
  parked_at: string;
};

type BlockRecord = {
  consumer_group: string;
  aggregate_key: string;
  event_id: string;
  dead_letter_stream: string;
  dead_letter_id: string | null;
  since: string;
};

const parkedOf = (row: ParkedRecord): ParkedEntry => ({
  group: row.consumer_group,
  aggregateKey: row.aggregate_key,
  stream: row.stream,
  streamId: row.stream_id,
  eventId: row.event_id,
  outboxId: row.outbox_id === null ? null : Number(row.outbox_id),
  fields: parseParkedFields(row.fields),
  parkedAt: Date.parse(row.parked_at),
});

const blockOf = (row: BlockRecord): AggregateBlock => ({
  group: row.consumer_group,
  aggregateKey: row.aggregate_key,
  eventId: row.event_id,
  deadLetterStream: row.dead_letter_stream,
  deadLetterId: row.dead_letter_id,
  since: row.since,
});

const parkSql = `INSERT INTO parked_events
    (consumer_group, aggregate_key, stream, stream_id, event_id, outbox_id, fields)
  VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (consumer_group, event_id) DO NOTHING`;

const releasableSql = `SELECT p.aggregate_key FROM parked_events p
  WHERE p.consumer_group = ?
    AND NOT EXISTS (
      SELECT 1 FROM aggregate_blocks b
      WHERE b.consumer_group = p.consumer_group AND b.aggregate_key = p.aggregate_key)
  GROUP BY p.aggregate_key
  ORDER BY min(p.parked_at), p.aggregate_key
  LIMIT ?`;

// One block per aggregate: a later block replaces it, keeping `since` when it is the same event.
const blockSql = `INSERT INTO aggregate_blocks
    (consumer_group, aggregate_key, event_id, dead_letter_stream, dead_letter_id)
  VALUES (?, ?, ?, ?, ?)
  ON CONFLICT (consumer_group, aggregate_key) DO UPDATE SET
    event_id = excluded.event_id,
    dead_letter_stream = excluded.dead_letter_stream,
    dead_letter_id = excluded.dead_letter_id,
    since = CASE WHEN aggregate_blocks.event_id = excluded.event_id
                 THEN aggregate_blocks.since ELSE excluded.since END`;

const blockColumns = 'consumer_group, aggregate_key, event_id, dead_letter_stream, dead_letter_id, since';

export const createSqliteParking = (run: SqliteRunner): ParkingStore => ({
  park: async (events) => {
    if (events.length === 0) return;
    await run.write((db) => {
      const statement = db.prepare(parkSql);
      for (const e of events) {
        statement.run(
          e.group,
          e.aggregateKey,
          e.stream,
          e.streamId,
          e.eventId,
          e.outboxId,
          JSON.stringify(e.fields),
        );
      }
    });
  },

  parked: async (group, aggregateKey) => {
    const rows = await run.read((db) =>
      db
        .prepare(`SELECT consumer_group, aggregate_key, stream, stream_id, event_id, outbox_id, fields,
            parked_at FROM parked_events WHERE consumer_group = ? AND aggregate_key = ?`)
        .all<ParkedRecord>(group, aggregateKey),
    );
    return rows.map(parkedOf).sort(compareParked);
  },

  remove: async (group, eventIds) => {
    if (eventIds.length === 0) return;
    await run.write((db) =>
      db
        .prepare(`DELETE FROM parked_events
          WHERE consumer_group = ? AND event_id IN (SELECT value FROM json_each(?))`)
        .run(group, JSON.stringify(eventIds)),
    );
  },

  releasable: async (group, limit) => {
    const rows = await run.read((db) =>
      db.prepare(releasableSql).all<{ aggregate_key: string }>(group, Math.max(0, Math.trunc(limit))),
    );
    return rows.map((row) => row.aggregate_key);
  },

  count: (group) =>
    run.read(
      (db) =>
        db
          .prepare('SELECT count(*) AS n FROM parked_events WHERE consumer_group = ?')
          .get<{ n: number }>(group)?.n ?? 0,
    ),

  countBehind: (group, aggregateKey) =>
    run.read(
      (db) =>
        db
          .prepare('SELECT count(*) AS n FROM parked_events WHERE consumer_group = ? AND aggregate_key = ?')
          .get<{ n: number }>(group, aggregateKey)?.n ?? 0,
    ),

  block: async (block) => {
    await run.write((db) =>
      db
        .prepare(blockSql)
        .run(block.group, block.aggregateKey, block.eventId, block.deadLetterStream, block.deadLetterId),
    );
  },

  blocks: async (group, aggregateKeys) => {
    if (aggregateKeys?.length === 0) return [];
    const rows = await run.read((db) =>
      aggregateKeys === undefined
        ? db
            .prepare(`SELECT ${blockColumns} FROM aggregate_blocks WHERE consumer_group = ?
              ORDER BY since, aggregate_key`)
            .all<BlockRecord>(group)
        : db
            .prepare(`SELECT ${blockColumns} FROM aggregate_blocks
              WHERE consumer_group = ? AND aggregate_key IN (SELECT value FROM json_each(?))
              ORDER BY since, aggregate_key`)
            .all<BlockRecord>(group, JSON.stringify(aggregateKeys)),
    );
    return rows.map(blockOf);
  },

  blocksOfEvent: async (eventId) => {
    const rows = await run.read((db) =>
      db
        .prepare(`SELECT ${blockColumns} FROM aggregate_blocks WHERE event_id = ?
          ORDER BY consumer_group, aggregate_key`)
        .all<BlockRecord>(eventId),
    );
    return rows.map(blockOf);
  },

  unblock: (group, aggregateKey) =>
    run.write((db) => {
      db.prepare(`DELETE FROM parked_events WHERE consumer_group = ? AND event_id IN
          (SELECT event_id FROM aggregate_blocks WHERE consumer_group = ? AND aggregate_key = ?)`).run(
        group,
        group,
        aggregateKey,
      );
      return (
        db
          .prepare('DELETE FROM aggregate_blocks WHERE consumer_group = ? AND aggregate_key = ?')
          .run(group, aggregateKey).changes > 0
      );
    }),
});
