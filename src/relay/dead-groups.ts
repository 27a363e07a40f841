// Which consumer groups have a backlog that nobody reads: no consumer of the group renewed its
// heartbeat (or, for consumers without one, read) for --dead-group-after. Such a group holds its
// streams back until the hard cap trims what it owes, so it is reported long before that.
import { NoGroupError } from '../core/errors.ts';
import type { GroupBacklog } from '../core/stream-backlog.ts';
import type { Bus } from '../ports/bus.ts';
import type { DeadGroup } from './retention.ts';

export type GroupWatch = {
  /**
   * The groups (of the backlogs per stream) dead at `now`. A group never seen alive counts as
   * silent from the first sweep that found it with a backlog.
   */
  sweep(backlogs: ReadonlyMap<string, readonly GroupBacklog[]>, now: number): Promise<DeadGroup[]>;
};

export const createGroupWatch = (bus: Bus, deadAfterMs: number): GroupWatch => {
  const firstSilent = new Map<string, number>();

  /** The newest sign of life of the group: a heartbeat, or a consumer's last read where the backend tracks it. */
  const lastSeen = async (group: string, streams: readonly string[], now: number): Promise<number | null> => {
    const beats = Object.values(await bus.heartbeats(group));
    let seen = beats.length > 0 ? Math.max(...beats) : null;
    for (const stream of streams) {
      const consumers = await bus.consumers(stream, group).catch((thrown: unknown) => {
        if (thrown instanceof NoGroupError) return [];
        throw thrown;
      });
      for (const consumer of consumers) {
        if (consumer.idleMs === null) continue;
        const at = now - consumer.idleMs;
        if (seen === null || at > seen) seen = at;
      }
    }
    return seen;
  };

  return {
    sweep: async (backlogs, now) => {
      const owing = new Map<string, string[]>();
      for (const [stream, groups] of backlogs) {
        for (const backlog of groups) {
          if (backlog.oldestUnackedId === null) continue;
          owing.set(backlog.group, [...(owing.get(backlog.group) ?? []), stream]);
        }
      }
      for (const group of firstSilent.keys()) if (!owing.has(group)) firstSilent.delete(group);
      const dead: DeadGroup[] = [];
      for (const [group, streams] of owing) {
        const seen = await lastSeen(group, streams, now);
        if (seen !== null) firstSilent.delete(group);
        else if (!firstSilent.has(group)) firstSilent.set(group, now);
        const silentSince = seen ?? firstSilent.get(group) ?? now;
        if (now - silentSince > deadAfterMs) dead.push({ group, streams, silentSince });
      }
      return dead;
    },
  };
};
