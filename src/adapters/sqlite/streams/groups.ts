// Consumer groups in SQL: XGROUP CREATE (MKSTREAM) / SETID / DESTROY and XINFO GROUPS, with Redis's
// NOGROUP and "key must exist" failures.
import { NoGroupError } from '../../../core/errors.ts';
import type { GroupInfo } from '../../../ports/bus.ts';
import type { SqliteDriver } from '../driver/driver.ts';
import { countersOf, findStream, type StreamRow, type StreamSession } from './entries.ts';
import { type EntryId, formatId, parsePositionId } from './ids.ts';
import { groupLag } from './lag.ts';

export type GroupRow = {
  id: number;
  stream_id: number;
  name: string;
  last_ms: number;
  last_seq: number;
  entries_read: number | null;
};

const groupColumns = 'id, stream_id, name, last_ms, last_seq, entries_read';

export const findGroup = (db: SqliteDriver, streamId: number, name: string): GroupRow | undefined =>
  db
    .prepare(`SELECT ${groupColumns} FROM bus_groups WHERE stream_id = ? AND name = ?`)
    .get<GroupRow>(streamId, name);

/** The stream and its group, or NOGROUP as Redis words it. */
export const requireGroup = (
  db: SqliteDriver,
  stream: string,
  group: string,
): { stream: StreamRow; group: GroupRow } => {
  const streamRow = findStream(db, stream);
  const groupRow = streamRow && findGroup(db, streamRow.id, group);
  if (!streamRow || !groupRow)
    throw new NoGroupError(`NOGROUP No such key '${stream}' or consumer group '${group}'`);
  return { stream: streamRow, group: groupRow };
};

const startIdOf = (row: StreamRow, text: string): EntryId =>
  text === '$' ? { ms: row.last_ms, seq: row.last_seq } : parsePositionId(text);

const requireStream = (db: SqliteDriver, stream: string): StreamRow => {
  const row = findStream(db, stream);
  if (!row) throw new NoGroupError(`NOGROUP stream ${stream} does not exist (XGROUP needs the key to exist)`);
  return row;
};

export const createGroup = (
  session: StreamSession,
  db: SqliteDriver,
  stream: string,
  group: string,
  startId: string,
) => {
  const row = session.ensure(stream);
  const start = startIdOf(row, startId);
  const { changes } = db
    .prepare(`INSERT INTO bus_groups (stream_id, name, last_ms, last_seq, entries_read) VALUES (?, ?, ?, ?, NULL)
      ON CONFLICT (stream_id, name) DO NOTHING`)
    .run(row.id, group, start.ms, start.seq);
  return { created: changes > 0 };
};

export const setGroupId = (db: SqliteDriver, stream: string, group: string, id: string): void => {
  const row = requireStream(db, stream);
  const start = startIdOf(row, id);
  const { changes } = db
    .prepare(
      'UPDATE bus_groups SET last_ms = ?, last_seq = ?, entries_read = NULL WHERE stream_id = ? AND name = ?',
    )
    .run(start.ms, start.seq, row.id, group);
  if (changes === 0)
    throw new NoGroupError(`NOGROUP No such consumer group '${group}' for key name '${stream}'`);
};

export const destroyGroup = (db: SqliteDriver, stream: string, group: string): boolean => {
  const row = requireStream(db, stream);
  const found = findGroup(db, row.id, group);
  if (!found) return false;
  db.prepare('DELETE FROM bus_pending WHERE group_id = ?').run(found.id);
  db.prepare('DELETE FROM bus_consumers WHERE group_id = ?').run(found.id);
  db.prepare('DELETE FROM bus_groups WHERE id = ?').run(found.id);
  return true;
};

type GroupSummaryRow = GroupRow & { consumers: number; pending: number };

export const groupInfos = (db: SqliteDriver, stream: string): GroupInfo[] => {
  const row = findStream(db, stream);
  if (!row) return [];
  const counters = countersOf(db, row);
  return db
    .prepare(`SELECT ${groupColumns},
        (SELECT count(*) FROM bus_consumers c WHERE c.group_id = g.id) AS consumers,
        (SELECT count(*) FROM bus_pending p WHERE p.group_id = g.id) AS pending
      FROM bus_groups g WHERE stream_id = ? ORDER BY name`)
    .all<GroupSummaryRow>(row.id)
    .map((g) => {
      const lastId = { ms: g.last_ms, seq: g.last_seq };
      return {
        name: g.name,
        consumers: g.consumers,
        pending: g.pending,
        lastDeliveredId: formatId(lastId),
        entriesRead: g.entries_read,
        lag: groupLag(counters, { lastId, entriesRead: g.entries_read }),
      };
    });
};
