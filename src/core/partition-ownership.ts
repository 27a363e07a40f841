// Which partitions a member of a lease group owns (a consumer its group's partition streams, a relay
// its outbox partitions), by lease. Every tick (a third of --lease-ms) it announces itself, renews the
// leases it holds, takes the free ones it wants and marks the ones it no longer wants; the member's
// loop takes new partitions over, releases unwanted ones once no batch of theirs is in flight, and
// drops lost ones.
//
// A partition's states: new (taken, not yet taken over: a consumer's pending entries come first) ->
// active (worked on) -> unwanted (still owned and renewed until the loop releases it); any of them
// -> lost (a renewal failed to keep the token: another member may own it now).

import type { LeaseFence, LeaseStore } from '../ports/leases.ts';
import { coerceError } from './errors.ts';
import type { Logger } from './logger.ts';
import { wantedResources } from './partition-assignment.ts';

export type PartitionStatus = 'new' | 'active' | 'unwanted';

export type OwnedPartition = {
  readonly stream: string;
  readonly fence: LeaseFence;
  readonly status: PartitionStatus;
  /** Local deadline, on the safe side: when the renewal was sent plus the lease's time to live. */
  readonly deadline: number;
  /** The lease's expiry by the database's clock (epoch ms), for health. */
  readonly expiresAt: number;
};

export type OwnershipChanges = {
  readonly taken: readonly OwnedPartition[];
  readonly lost: readonly string[];
};

export type Ownership = {
  /** Heartbeat, renew, take what is wanted and free; mark what is no longer wanted. */
  tick(resources: readonly string[]): Promise<void>;
  /** What changed since the last call: partitions to take over, partitions to forget. */
  changes(): OwnershipChanges;
  activate(stream: string): void;
  /**
   * Active partitions with time left on their lease (reads stop well before a lease runs out); not
   * unwanted ones: their pending and parked work is left to the next owner.
   */
  readable(now: number): string[];
  /** How long a read may block so that every readable lease outlives it. */
  readBudget(now: number): number;
  unwanted(): string[];
  fence(stream: string): LeaseFence | undefined;
  /** Gives the lease up (the partition's work is finished). */
  release(stream: string): Promise<void>;
  /** A fenced commit: forget the partition now; a later tick takes it again if it is still wanted. */
  drop(stream: string): void;
  /** Releases every lease and leaves the group (on stop). */
  leave(): Promise<void>;
  partitions(): OwnedPartition[];
  members(): readonly string[];
  /** Every partition the last tick wanted is held: nothing to take once another member lets go. */
  settled(): boolean;
  /** Whether the live members differ from those of the last tick (a join, a leave, a death). */
  membersChanged(): Promise<boolean>;
};

export type OwnershipOptions = {
  readonly leases: LeaseStore;
  readonly group: string;
  readonly name: string;
  readonly leaseMs: number;
  readonly now: () => number;
  readonly logger: Logger;
};

export const createOwnership = (options: OwnershipOptions): Ownership => {
  const { leases, group, name, leaseMs, logger } = options;
  const owned = new Map<string, OwnedPartition>();
  let taken: OwnedPartition[] = [];
  let lost: string[] = [];
  let members: string[] = [];
  let wanted = new Set<string>();
  let failing = false;
  // Reads stop this long before a lease would run out, so a stalled renewal never leaves a read
  // delivering entries of a partition someone else owns by then.
  const margin = Math.max(1, Math.floor(leaseMs / 4));

  const lose = (stream: string, why: string): void => {
    if (!owned.delete(stream)) return;
    lost.push(stream);
    taken = taken.filter((p) => p.stream !== stream);
    logger.warn(`lost the lease on ${stream} (${why}); its work is left to the new owner`, { stream });
  };

  /** Takes or renews the lease; `keep`: still wanted (undefined for a new take). */
  const take = async (stream: string, keep: boolean | undefined): Promise<void> => {
    const sentAt = options.now();
    const before = owned.get(stream);
    const lease = await leases.acquire(group, stream, name, leaseMs);
    const held = owned.get(stream);
    // Released or dropped by the loop while the renewal was on its way: leave it so.
    if (before && !held) return;
    if (!lease) {
      if (held) lose(stream, 'another member holds it');
      return;
    }
    const fence: LeaseFence = { group, resource: stream, holder: name, token: lease.token };
    if (held && held.fence.token !== lease.token) {
      // Our lease ran out and was taken again: someone may have worked in between; start over.
      lose(stream, `it expired; token ${held.fence.token} -> ${lease.token}`);
    }
    // The status as it is now: the loop may have taken the partition over (activated it) while the
    // renewal was on its way, and a status read before the renewal would undo that for good.
    const current = owned.get(stream);
    const status: PartitionStatus =
      current === undefined || current.status === 'new' ? 'new' : keep === false ? 'unwanted' : 'active';
    const next: OwnedPartition = {
      stream,
      fence,
      status,
      deadline: sentAt + leaseMs,
      expiresAt: lease.expiresAt,
    };
    owned.set(stream, next);
    if (!current) {
      taken.push(next);
      logger.info(`took the lease on ${stream} (token ${lease.token})`, { stream, token: lease.token });
    }
  };

  const liveMembers = async (): Promise<string[]> =>
    (await leases.members(group)).map((m) => m.member).sort();

  const tick = async (resources: readonly string[]): Promise<void> => {
    try {
      await leases.heartbeat(group, name, leaseMs);
      members = await liveMembers();
      wanted = new Set(wantedResources(resources, members, name));
      for (const stream of [...owned.keys()]) await take(stream, wanted.has(stream));
      for (const stream of wanted) if (!owned.has(stream)) await take(stream, undefined);
      if (failing) logger.info('leases renewed again');
      failing = false;
    } catch (thrown) {
      // The leases run out on their own; reads stop before they do (see `readable`).
      if (!failing) logger.warn(`lease renewal failed, retrying: ${coerceError(thrown).message}`);
      failing = true;
    }
  };

  // Not the unwanted ones: the loop releases a partition once no read of it is in flight, and under
  // steady load a read is always in flight while the partition is still read.
  const readable = (now: number): string[] =>
    [...owned.values()]
      .filter((p) => p.status === 'active' && p.deadline - now > margin)
      .map((p) => p.stream);

  return {
    tick,
    changes: () => {
      const result = { taken, lost };
      taken = [];
      lost = [];
      return result;
    },
    activate: (stream) => {
      const partition = owned.get(stream);
      if (partition?.status === 'new') owned.set(stream, { ...partition, status: 'active' });
    },
    readable,
    readBudget: (now) => {
      let budget = Number.POSITIVE_INFINITY;
      for (const stream of readable(now)) {
        const partition = owned.get(stream);
        if (partition) budget = Math.min(budget, partition.deadline - now - margin);
      }
      return Math.max(1, budget);
    },
    unwanted: () => [...owned.values()].filter((p) => p.status === 'unwanted').map((p) => p.stream),
    fence: (stream) => owned.get(stream)?.fence,
    release: async (stream) => {
      const partition = owned.get(stream);
      if (!partition) return;
      owned.delete(stream);
      await leases.release(partition.fence).catch(() => false);
      logger.info(`released the lease on ${stream}`, { stream });
    },
    drop: (stream) => lose(stream, 'a commit was fenced'),
    leave: async () => {
      const all = [...owned.values()];
      owned.clear();
      await Promise.allSettled(all.map((p) => leases.release(p.fence)));
      await leases.leave(group, name).catch(() => {});
    },
    partitions: () => [...owned.values()],
    members: () => members,
    settled: () => [...wanted].every((stream) => owned.has(stream)),
    membersChanged: async () => (await liveMembers()).join('\n') !== members.join('\n'),
  };
};
