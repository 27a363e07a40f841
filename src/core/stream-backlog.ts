// What each consumer group still owes on a stream: the oldest entry it has not acknowledged
// (pending or not yet delivered). Consumer lag and safe trimming are both computed from it.
import type { Bus, GroupInfo } from '../ports/bus.ts';
import { compareStreamIds, streamIdTime } from './ids.ts';

export type GroupBacklog = {
  readonly group: string;
  /** The oldest entry the group has not acknowledged; null when it is fully caught up. */
  readonly oldestUnackedId: string | null;
  readonly pending: number;
  /** Entries not yet delivered to the group, when the backend knows (Redis `lag`). */
  readonly undelivered: number | null;
  readonly consumers: number;
  readonly lastDeliveredId: string;
};

const minId = (a: string | null, b: string | null): string | null => {
  if (a === null) return b;
  if (b === null) return a;
  return compareStreamIds(a, b) <= 0 ? a : b;
};

export const groupBacklog = async (bus: Bus, stream: string, info: GroupInfo): Promise<GroupBacklog> => {
  const [pending, next] = await Promise.all([
    info.pending > 0 ? bus.pending(stream, info.name) : Promise.resolve(undefined),
    bus.range(stream, { start: `(${info.lastDeliveredId}`, count: 1 }),
  ]);
  return {
    group: info.name,
    oldestUnackedId: minId(pending?.minId ?? null, next[0]?.id ?? null),
    pending: info.pending,
    undelivered: info.lag,
    consumers: info.consumers,
    lastDeliveredId: info.lastDeliveredId,
  };
};

export const streamBacklogs = async (bus: Bus, stream: string): Promise<GroupBacklog[]> =>
  Promise.all((await bus.groups(stream)).map((info) => groupBacklog(bus, stream, info)));

/**
 * The oldest entry any group still needs, or null when every group has acknowledged everything
 * (or there are no groups). Entries strictly older than it are safe to trim.
 */
export const oldestNeededId = (backlogs: readonly GroupBacklog[]): string | null =>
  backlogs.reduce<string | null>((oldest, b) => minId(oldest, b.oldestUnackedId), null);

/** Seconds since the oldest unacknowledged entry was added (0 when caught up). */
export const lagSeconds = (backlog: GroupBacklog, now: number): number =>
  backlog.oldestUnackedId === null ? 0 : Math.max(0, (now - streamIdTime(backlog.oldestUnackedId)) / 1000);
