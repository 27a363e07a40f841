// Delivery through consumer groups in SQL: XREADGROUP (`>` and history), the pending entries lists
// (XACK, XPENDING summary and extended) and XAUTOCLAIM, with Redis's counters and edge cases.
import type { AutoClaimResult, PendingEntry, PendingSummary, StreamEntry } from '../../../ports/bus.ts';
import type { SqliteDriver } from '../driver/driver.ts';
import { countersOf, type EntryRow, entriesBetween, findStream, type StreamRow, toEntry } from './entries.ts';
import { findGroup, type GroupRow } from './groups.ts';
import { compareIds, type EntryId, formatId, incrementId, maxId, rangeEnd, rangeStart } from './ids.ts';
import { entriesReadAfter } from './lag.ts';

const ensureConsumer = (db: SqliteDriver, groupId: number, consumer: string): void => {
  db.prepare('INSERT INTO bus_consumers (group_id, name) VALUES (?, ?) ON CONFLICT DO NOTHING').run(
    groupId,
    consumer,
  );
};

// An entry delivered again after SETID moved the group back changes owner and starts counting anew.
const deliverSql = `INSERT INTO bus_pending (group_id, ms, seq, consumer, deliveries, delivered_at)
  VALUES (?, ?, ?, ?, 1, ?)
  ON CONFLICT (group_id, ms, seq) DO UPDATE SET
    consumer = excluded.consumer, deliveries = 1, delivered_at = excluded.delivered_at`;

/** XREADGROUP `>`: entries after the group's last-delivered id, now pending for `consumer`. */
export const deliverNew = (
  db: SqliteDriver,
  stream: StreamRow,
  group: GroupRow,
  consumer: string,
  count: number,
  nowMs: number,
): StreamEntry[] => {
  const after = incrementId({ ms: group.last_ms, seq: group.last_seq });
  if (!after) return [];
  const rows = entriesBetween(db, stream.id, after, maxId, count > 0 ? count : -1);
  if (rows.length === 0) return [];
  ensureConsumer(db, group.id, consumer);
  const counters = countersOf(db, stream);
  const deliver = db.prepare(deliverSql);
  let entriesRead = group.entries_read;
  for (const row of rows) {
    entriesRead = entriesReadAfter(counters, entriesRead, row);
    deliver.run(group.id, row.ms, row.seq, consumer, nowMs);
  }
  const last = rows[rows.length - 1] as EntryRow;
  db.prepare('UPDATE bus_groups SET last_ms = ?, last_seq = ?, entries_read = ? WHERE id = ?').run(
    last.ms,
    last.seq,
    entriesRead,
    group.id,
  );
  return rows.map(toEntry);
};

type PendingJoinRow = {
  ms: number;
  seq: number;
  consumer: string;
  deliveries: number;
  delivered_at: number;
  fields: string | null;
};

const bumpSql =
  'UPDATE bus_pending SET consumer = ?, deliveries = deliveries + 1, delivered_at = ? WHERE group_id = ? AND ms = ? AND seq = ?';

/**
 * XREADGROUP `0`: this consumer's own pending entries, oldest first, delivered again (count + 1).
 * Entries deleted meanwhile stay pending and count towards `count` but are left out (Redis: nil).
 */
export const readHistory = (
  db: SqliteDriver,
  stream: StreamRow,
  group: GroupRow,
  consumer: string,
  count: number,
  nowMs: number,
): StreamEntry[] => {
  ensureConsumer(db, group.id, consumer);
  const rows = db
    .prepare(`SELECT p.ms, p.seq, p.consumer, p.deliveries, p.delivered_at, e.fields
      FROM bus_pending p
      LEFT JOIN bus_entries e ON e.stream_id = ? AND e.ms = p.ms AND e.seq = p.seq
      WHERE p.group_id = ? AND p.consumer = ?
      ORDER BY p.ms, p.seq LIMIT ?`)
    .all<PendingJoinRow>(stream.id, group.id, consumer, count > 0 ? count : -1);
  const bump = db.prepare(bumpSql);
  const entries: StreamEntry[] = [];
  for (const row of rows) {
    if (row.fields === null) continue;
    bump.run(consumer, nowMs, group.id, row.ms, row.seq);
    entries.push(toEntry(row as EntryRow));
  }
  return entries;
};

/** Whether the group has entries it has not delivered yet (a cheap look before a write transaction). */
export const hasUndelivered = (db: SqliteDriver, stream: string, group: string): boolean => {
  const streamRow = findStream(db, stream);
  const groupRow = streamRow && findGroup(db, streamRow.id, group);
  if (!streamRow || !groupRow) return true; // let the read itself report NOGROUP
  return (
    db
      .prepare('SELECT 1 AS found FROM bus_entries WHERE stream_id = ? AND (ms, seq) > (?, ?) LIMIT 1')
      .get(streamRow.id, groupRow.last_ms, groupRow.last_seq) !== undefined
  );
};

export const ackIds = (db: SqliteDriver, stream: string, group: string, ids: readonly EntryId[]): number => {
  const streamRow = findStream(db, stream);
  const groupRow = streamRow && findGroup(db, streamRow.id, group);
  if (!groupRow) return 0; // XACK on a missing key or group acknowledges nothing, without an error
  const statement = db.prepare('DELETE FROM bus_pending WHERE group_id = ? AND ms = ? AND seq = ?');
  let acked = 0;
  for (const id of ids) acked += statement.run(groupRow.id, id.ms, id.seq).changes;
  return acked;
};

export const pendingSummary = (db: SqliteDriver, group: GroupRow): PendingSummary => {
  const byConsumer = db
    .prepare(
      'SELECT consumer, count(*) AS n FROM bus_pending WHERE group_id = ? GROUP BY consumer ORDER BY consumer',
    )
    .all<{ consumer: string; n: number }>(group.id);
  if (byConsumer.length === 0) return { count: 0, minId: null, maxId: null, consumers: {} };
  const edge = (order: 'ASC' | 'DESC'): string | null => {
    const row = db
      .prepare(
        `SELECT ms, seq FROM bus_pending WHERE group_id = ? ORDER BY ms ${order}, seq ${order} LIMIT 1`,
      )
      .get<EntryId>(group.id);
    return row ? formatId(row) : null;
  };
  return {
    count: byConsumer.reduce((sum, row) => sum + row.n, 0),
    minId: edge('ASC'),
    maxId: edge('DESC'),
    consumers: Object.fromEntries(byConsumer.map((row) => [row.consumer, row.n])),
  };
};

type PendingRow = { ms: number; seq: number; consumer: string; deliveries: number; delivered_at: number };

export const pendingBetween = (
  db: SqliteDriver,
  group: GroupRow,
  options: { start?: string; end?: string; count: number; consumer?: string; minIdleMs?: number },
  nowMs: number,
): PendingEntry[] => {
  const from = rangeStart(options.start ?? '-');
  const to = rangeEnd(options.end ?? '+');
  if (!from || !to || options.count <= 0 || compareIds(from, to) > 0) return [];
  const idleBefore = options.minIdleMs ? nowMs - options.minIdleMs : Number.MAX_SAFE_INTEGER;
  const rows = db
    .prepare(`SELECT ms, seq, consumer, deliveries, delivered_at FROM bus_pending
      WHERE group_id = ? AND (ms, seq) >= (?, ?) AND (ms, seq) <= (?, ?)
        AND (? IS NULL OR consumer = ?) AND delivered_at <= ?
      ORDER BY ms, seq LIMIT ?`)
    .all<PendingRow>(
      group.id,
      from.ms,
      from.seq,
      to.ms,
      to.seq,
      options.consumer ?? null,
      options.consumer ?? null,
      idleBefore,
      options.count,
    );
  return rows.map((row) => ({
    id: formatId(row),
    consumer: row.consumer,
    idleMs: Math.max(0, nowMs - row.delivered_at),
    deliveries: row.deliveries,
  }));
};

/**
 * XAUTOCLAIM as Redis 7 does it: scan the pending list from `start` (at most count x 10 entries),
 * drop and report entries that no longer exist, skip those idle less than `minIdleMs`, hand the rest
 * to `consumer` (delivery count + 1), stop after `count` results; `next` is where to go on, or 0-0.
 */
export const autoClaim = (
  db: SqliteDriver,
  stream: StreamRow,
  group: GroupRow,
  options: { consumer: string; minIdleMs: number; start?: string; count: number },
  nowMs: number,
): AutoClaimResult => {
  const from = rangeStart(options.start ?? '0-0');
  let budget = Math.max(1, options.count);
  if (!from) return { next: '0-0', entries: [], deleted: [] };
  const rows = db
    .prepare(`SELECT p.ms, p.seq, p.consumer, p.deliveries, p.delivered_at, e.fields
      FROM bus_pending p
      LEFT JOIN bus_entries e ON e.stream_id = ? AND e.ms = p.ms AND e.seq = p.seq
      WHERE p.group_id = ? AND (p.ms, p.seq) >= (?, ?)
      ORDER BY p.ms, p.seq LIMIT ?`)
    .all<PendingJoinRow>(stream.id, group.id, from.ms, from.seq, budget * 10);
  const drop = db.prepare('DELETE FROM bus_pending WHERE group_id = ? AND ms = ? AND seq = ?');
  const claim = db.prepare(bumpSql);
  const entries: StreamEntry[] = [];
  const deleted: string[] = [];
  let last: EntryId | undefined;
  let consumerKnown = false;
  for (const row of rows) {
    if (budget === 0) break;
    last = row;
    if (row.fields === null) {
      drop.run(group.id, row.ms, row.seq);
      deleted.push(formatId(row));
      budget -= 1;
      continue;
    }
    if (options.minIdleMs > 0 && nowMs - row.delivered_at < options.minIdleMs) continue;
    if (!consumerKnown) {
      ensureConsumer(db, group.id, options.consumer);
      consumerKnown = true;
    }
    claim.run(options.consumer, nowMs, group.id, row.ms, row.seq);
    entries.push(toEntry(row as EntryRow));
    budget -= 1;
  }
  const next =
    last &&
    db
      .prepare(
        'SELECT ms, seq FROM bus_pending WHERE group_id = ? AND (ms, seq) > (?, ?) ORDER BY ms, seq LIMIT 1',
      )
      .get<EntryId>(group.id, last.ms, last.seq);
  return { next: next ? formatId(next) : '0-0', entries, deleted };
};
