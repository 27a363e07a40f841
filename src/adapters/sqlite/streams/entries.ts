// Streams and their entries in SQL. A session caches the stream rows one operation touches (last id,
// length, counters) and writes them back once, so a batch of adds costs one insert per entry.
import type { StreamFields } from '../../../core/envelope.ts';
import { ValidationError } from '../../../core/errors.ts';
import type { StreamEntry } from '../../../ports/bus.ts';
import type { SqliteDriver } from '../driver/driver.ts';
import { compareIds, type EntryId, formatId, nextAddId, zeroId } from './ids.ts';
import type { StreamCounters } from './lag.ts';

export type StreamRow = {
  id: number;
  name: string;
  length: number;
  last_ms: number;
  last_seq: number;
  entries_added: number;
  max_deleted_ms: number;
  max_deleted_seq: number;
};

export type EntryRow = { ms: number; seq: number; fields: string };

export const toEntry = (row: EntryRow): StreamEntry => ({
  id: `${row.ms}-${row.seq}`,
  fields: JSON.parse(row.fields) as StreamFields,
});

/** The fields as stored (one JSON object of strings), or undefined when there are none. */
export const encodeFields = (fields: StreamFields): string | undefined => {
  let count = 0;
  let allText = true;
  for (const name in fields) {
    count += 1;
    if (typeof fields[name] !== 'string') allText = false;
  }
  if (count === 0) return undefined;
  if (allText) return JSON.stringify(fields);
  return JSON.stringify(Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)])));
};

export const emptyFieldsError = (stream: string): ValidationError =>
  new ValidationError(`an entry for stream ${stream} needs at least one field`);

const streamColumns = 'id, name, length, last_ms, last_seq, entries_added, max_deleted_ms, max_deleted_seq';

export const findStream = (db: SqliteDriver, name: string): StreamRow | undefined =>
  db.prepare(`SELECT ${streamColumns} FROM bus_streams WHERE name = ?`).get<StreamRow>(name);

// Per entry besides its fields: the id and the node overhead Redis has for an entry, roughly, so
// the same --stream-max-bytes means about the same stream in both modes.
const ENTRY_OVERHEAD_BYTES = 32;

/** The stream's size as Redis would roughly count it: stored field text plus a per-entry overhead. */
export const estimateStreamBytes = (db: SqliteDriver, name: string): number => {
  const row = findStream(db, name);
  if (!row) return 0;
  const sum = db
    .prepare(
      'SELECT COALESCE(SUM(length(CAST(fields AS BLOB))), 0) AS bytes FROM bus_entries WHERE stream_id = ?',
    )
    .get<{ bytes: number }>(row.id);
  return (sum?.bytes ?? 0) + row.length * ENTRY_OVERHEAD_BYTES;
};

export const firstEntryId = (db: SqliteDriver, streamId: number): EntryId =>
  db
    .prepare('SELECT ms, seq FROM bus_entries WHERE stream_id = ? ORDER BY ms, seq LIMIT 1')
    .get<EntryId>(streamId) ?? zeroId;

export const countersOf = (db: SqliteDriver, row: StreamRow): StreamCounters => ({
  length: row.length,
  lastId: { ms: row.last_ms, seq: row.last_seq },
  firstId: row.length > 0 ? firstEntryId(db, row.id) : zeroId,
  entriesAdded: row.entries_added,
  maxDeletedId: { ms: row.max_deleted_ms, seq: row.max_deleted_seq },
});

export const entryExists = (db: SqliteDriver, streamId: number, id: EntryId): boolean =>
  db
    .prepare('SELECT 1 AS found FROM bus_entries WHERE stream_id = ? AND ms = ? AND seq = ?')
    .get(streamId, id.ms, id.seq) !== undefined;

const rangeSql = (order: 'ASC' | 'DESC'): string =>
  `SELECT ms, seq, fields FROM bus_entries
   WHERE stream_id = ? AND (ms, seq) >= (?, ?) AND (ms, seq) <= (?, ?)
   ORDER BY ms ${order}, seq ${order} LIMIT ?`;
const forwardSql = rangeSql('ASC');
const reverseSql = rangeSql('DESC');

/** Entries between two inclusive bounds, oldest first (or newest first), at most `count` (-1: all). */
export const entriesBetween = (
  db: SqliteDriver,
  streamId: number,
  from: EntryId,
  to: EntryId,
  count: number,
  reverse = false,
): EntryRow[] =>
  compareIds(from, to) > 0
    ? []
    : db
        .prepare(reverse ? reverseSql : forwardSql)
        .all<EntryRow>(streamId, from.ms, from.seq, to.ms, to.seq, count);

export type StreamSession = {
  find(name: string): StreamRow | undefined;
  /** The stream, created empty when missing (XADD, XGROUP CREATE MKSTREAM). */
  ensure(name: string): StreamRow;
  add(name: string, encodedFields: string, nowMs: number): string;
  del(name: string, ids: readonly EntryId[]): number;
  trimBefore(name: string, keepFrom: EntryId | 'all'): number;
  /** Writes back every stream row the session changed. */
  flush(): void;
};

export const createStreamSession = (db: SqliteDriver): StreamSession => {
  const rows = new Map<string, StreamRow | undefined>();
  const dirty = new Set<StreamRow>();
  const find = (name: string): StreamRow | undefined => {
    if (!rows.has(name)) rows.set(name, findStream(db, name));
    return rows.get(name);
  };
  const ensure = (name: string): StreamRow => {
    const found = find(name);
    if (found) return found;
    const created = db
      .prepare(`INSERT INTO bus_streams (name) VALUES (?) RETURNING ${streamColumns}`)
      .get<StreamRow>(name) as StreamRow;
    rows.set(name, created);
    return created;
  };
  return {
    find,
    ensure,
    add: (name, encodedFields, nowMs) => {
      const row = ensure(name);
      const id = nextAddId({ ms: row.last_ms, seq: row.last_seq }, nowMs);
      db.prepare('INSERT INTO bus_entries (stream_id, ms, seq, fields) VALUES (?, ?, ?, ?)').run(
        row.id,
        id.ms,
        id.seq,
        encodedFields,
      );
      row.last_ms = id.ms;
      row.last_seq = id.seq;
      row.length += 1;
      row.entries_added += 1;
      dirty.add(row);
      return formatId(id);
    },
    del: (name, ids) => {
      const row = find(name);
      if (!row) return 0;
      const statement = db.prepare('DELETE FROM bus_entries WHERE stream_id = ? AND ms = ? AND seq = ?');
      let deleted = 0;
      for (const id of ids) {
        if (statement.run(row.id, id.ms, id.seq).changes === 0) continue;
        deleted += 1;
        if (compareIds(id, { ms: row.max_deleted_ms, seq: row.max_deleted_seq }) > 0) {
          row.max_deleted_ms = id.ms;
          row.max_deleted_seq = id.seq;
        }
      }
      row.length -= deleted;
      if (deleted > 0) dirty.add(row);
      return deleted;
    },
    trimBefore: (name, keepFrom) => {
      const row = find(name);
      if (!row) return 0;
      const { changes } =
        keepFrom === 'all'
          ? db.prepare('DELETE FROM bus_entries WHERE stream_id = ?').run(row.id)
          : db
              .prepare('DELETE FROM bus_entries WHERE stream_id = ? AND (ms, seq) < (?, ?)')
              .run(row.id, keepFrom.ms, keepFrom.seq);
      row.length -= changes;
      if (changes > 0) dirty.add(row);
      return changes;
    },
    flush: () => {
      const statement =
        db.prepare(`UPDATE bus_streams SET length = ?, last_ms = ?, last_seq = ?, entries_added = ?,
          max_deleted_ms = ?, max_deleted_seq = ? WHERE id = ?`);
      for (const row of dirty) {
        statement.run(
          row.length,
          row.last_ms,
          row.last_seq,
          row.entries_added,
          row.max_deleted_ms,
          row.max_deleted_seq,
          row.id,
        );
      }
      dirty.clear();
    },
  };
};

/** The id from which `maxLen` newest entries remain (XTRIM MAXLEN), or null when nothing goes. */
export const maxLenCutoff = (db: SqliteDriver, row: StreamRow, maxLen: number): EntryId | 'all' | null => {
  if (row.length <= maxLen) return null;
  if (maxLen === 0) return 'all';
  return (
    db
      .prepare('SELECT ms, seq FROM bus_entries WHERE stream_id = ? ORDER BY ms, seq LIMIT 1 OFFSET ?')
      .get<EntryId>(row.id, row.length - maxLen) ?? null
  );
};
