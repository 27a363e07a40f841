// The last resort: a hard limit trims the oldest entries even when groups still owe them. Never
// silently: before each slice goes, every group's share of it (entries it had not acknowledged:
// pending, or not yet delivered) is counted, and each group that lost entries is logged by name.
import { compareStreamIds, nextStreamId } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import type { GroupBacklog } from '../core/stream-backlog.ts';
import type { Bus } from '../ports/bus.ts';

/** Entries read back per slice: the ids being removed are read so each group's share is exact. */
const SLICE = 5_000;

export type HardTrim = {
  readonly stream: string;
  /** How many of the oldest entries to remove. */
  readonly count: number;
  /** What the log line says was hit: `hard cap of 200 entries`. */
  readonly cap: string;
  readonly backlogs: readonly GroupBacklog[];
};

/** Counts `count` entries per group; group `''` counts entries of a stream no group reads yet. */
export type OnTrimmedUnconsumed = (stream: string, group: string, count: number) => void;

/** Removes the oldest `count` entries; returns how many went. */
export const trimHard = async (
  bus: Bus,
  logger: Logger,
  trim: HardTrim,
  onTrimmed: OnTrimmedUnconsumed,
): Promise<number> => {
  const { stream, backlogs } = trim;
  const owed = new Map<string, number>();
  let removed = 0;
  while (removed < trim.count) {
    const slice = await bus.range(stream, { count: Math.min(SLICE, trim.count - removed) });
    const first = slice[0]?.id;
    const last = slice[slice.length - 1]?.id;
    if (first === undefined || last === undefined) break;
    for (const backlog of backlogs) {
      if (backlog.oldestUnackedId === null || compareStreamIds(backlog.oldestUnackedId, last) > 0) continue;
      const undelivered = slice.filter((e) => compareStreamIds(e.id, backlog.lastDeliveredId) > 0).length;
      const pending =
        backlog.pending === 0
          ? 0
          : (await bus.pendingRange(stream, backlog.group, { start: first, end: last, count: slice.length }))
              .length;
      owed.set(backlog.group, (owed.get(backlog.group) ?? 0) + undelivered + pending);
    }
    const gone = await bus.trim(stream, { minId: nextStreamId(last) });
    removed += gone;
    if (gone === 0) break;
  }
  if (removed === 0) return 0;
  if (backlogs.length === 0) {
    onTrimmed(stream, '', removed);
    logger.error(
      `Stream ${stream} hit its ${trim.cap}: trimmed ${removed} entries; no consumer group has read them yet`,
      { stream, trimmed: removed },
    );
    return removed;
  }
  for (const backlog of backlogs) {
    const lost = owed.get(backlog.group) ?? 0;
    if (lost === 0) continue;
    onTrimmed(stream, backlog.group, lost);
    logger.error(
      `Stream ${stream} hit its ${trim.cap}: trimmed ${lost} entries consumer group ${backlog.group} had not acknowledged (${backlog.pending} pending, oldest ${backlog.oldestUnackedId}); it will never see them`,
      { stream, consumer_group: backlog.group, trimmed: lost, oldest_unacked_id: backlog.oldestUnackedId },
    );
  }
  return removed;
};
