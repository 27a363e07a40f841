// Redis's bookkeeping of consumer-group progress (entries-read and lag), ported as it is in Redis 7:
// exact while no deleted entry lies ahead of the group, an estimate where it can be, unknown (null)
// otherwise. Trims do not count as deletions; XDEL does.
import { compareIds, type EntryId, isZeroId } from './ids.ts';

export type StreamCounters = {
  readonly length: number;
  readonly lastId: EntryId;
  /** The oldest entry's id; zero when the stream is empty. */
  readonly firstId: EntryId;
  /** Every entry ever added (Redis `entries-added`). */
  readonly entriesAdded: number;
  /** The largest id ever removed by XDEL (Redis `max-deleted-entry-id`). */
  readonly maxDeletedId: EntryId;
};

/** Whether an entry deleted by XDEL lies at or after `start` (Redis streamRangeHasTombstones, end open). */
export const hasTombstonesFrom = (s: StreamCounters, start: EntryId): boolean => {
  if (s.length === 0 || isZeroId(s.maxDeletedId)) return false;
  if (compareIds(s.firstId, s.maxDeletedId) > 0) return false;
  return compareIds(start, s.maxDeletedId) <= 0;
};

/** How many entries were added up to and including `id`, when that can be known (Redis's estimate). */
export const entriesUpTo = (s: StreamCounters, id: EntryId): number | null => {
  if (s.entriesAdded === 0) return 0;
  if (s.length === 0 && compareIds(id, s.lastId) < 1) return s.entriesAdded;
  const toLast = compareIds(id, s.lastId);
  if (toLast === 0) return s.entriesAdded;
  if (toLast > 0) return null;
  if (isZeroId(s.maxDeletedId) || compareIds(s.maxDeletedId, s.firstId) < 0) {
    const toFirst = compareIds(id, s.firstId);
    if (toFirst < 0) return s.entriesAdded - s.length;
    if (toFirst === 0) return s.entriesAdded - s.length + 1;
  }
  return null;
};

/** A group's entries-read after it is delivered `id` (past its last-delivered id). */
export const entriesReadAfter = (
  s: StreamCounters,
  entriesRead: number | null,
  id: EntryId,
): number | null => {
  if (entriesRead !== null && !hasTombstonesFrom(s, id)) return entriesRead + 1;
  if (s.entriesAdded > 0) return entriesUpTo(s, id);
  return entriesRead;
};

/** Entries not yet delivered to the group (XINFO GROUPS `lag`), or null when unknown. */
export const groupLag = (
  s: StreamCounters,
  group: { readonly lastId: EntryId; readonly entriesRead: number | null },
): number | null => {
  if (s.entriesAdded === 0) return 0;
  if (group.entriesRead !== null && !hasTombstonesFrom(s, group.lastId)) {
    return s.entriesAdded - group.entriesRead;
  }
  const read = entriesUpTo(s, group.lastId);
  return read === null ? null : s.entriesAdded - read;
};
