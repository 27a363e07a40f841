// Which outbox partitions this relay drains. Partition p of N (rows whose partition_hash mod N is p,
// the streams' own partition function) is the lease `outbox:p` of the lease group `mm-relay/outbox`.
// The live relays split the N evenly (core/partition-assignment.ts) and hand them over by lease, with
// fencing tokens: a relay that stops releases its leases, a dead one's run out after --lease-ms. Every
// tick (a third of --lease-ms) the relay renews what it holds, takes what it wants and is free, and
// releases what it no longer wants; a drain in flight keeps its leases from being taken until it ends.
import { coerceError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { type OwnershipTicks, startOwnershipTicks } from '../core/ownership-ticks.ts';
import { createOwnership } from '../core/partition-ownership.ts';
import type { LeaseStore } from '../ports/leases.ts';
import type { ClaimScope } from '../ports/outbox.ts';

/** A name no consumer group can have (`/`), so relays and consumers never share a member list. */
export const RELAY_LEASE_GROUP = 'mm-relay/outbox';

export const outboxPartitionResource = (partition: number): string => `outbox:${partition}`;

const partitionOfResource = (resource: string): number => Number(resource.slice('outbox:'.length));

export type HeldPartition = {
  readonly partition: number;
  readonly token: number;
  /** The lease's expiry by the database's clock (epoch ms). */
  readonly expiresAt: number;
};

export type RelayPartitions = {
  /** Takes the first leases, then keeps ticking until `stop`. */
  start(): Promise<void>;
  /** Renews, takes and releases now (a fenced drain calls it to learn what it still holds). */
  tick(): Promise<void>;
  /** What a drain may claim now: the partitions held with time left on their lease. */
  scope(now: number): ClaimScope;
  /** Partitions held now (by this relay's clock), in order. */
  held(now: number): HeldPartition[];
  /** The live relays of the group, as last seen. */
  relays(): readonly string[];
  readonly count: number;
  readonly name: string;
  /** Stops ticking and releases every lease, so the others take them at their next tick. */
  stop(): Promise<void>;
};

export type RelayPartitionsOptions = {
  readonly leases: LeaseStore;
  readonly name: string;
  /** N: the relays' --partitions. */
  readonly count: number;
  readonly leaseMs: number;
  readonly logger: Logger;
  readonly now: () => number;
  /** Told when partitions were taken, so the relay drains them at once. */
  readonly onTaken?: () => void;
};

export const createRelayPartitions = (options: RelayPartitionsOptions): RelayPartitions => {
  const { leases, name, count, leaseMs, logger } = options;
  const ownership = createOwnership({
    leases,
    group: RELAY_LEASE_GROUP,
    name,
    leaseMs,
    now: options.now,
    logger,
  });
  const resources = Array.from({ length: count }, (_, p) => outboxPartitionResource(p));
  const tickEveryMs = Math.max(100, Math.floor(leaseMs / 3));
  let ticks: OwnershipTicks | undefined;
  let ticking: Promise<void> | undefined;
  let stopped = false;

  const settle = async (): Promise<void> => {
    const { taken } = ownership.changes();
    // A relay has nothing to take over: the rows of a new partition simply wait in the outbox.
    for (const partition of taken) ownership.activate(partition.stream);
    // A drain in flight keeps the lease until it commits (the release waits for it); the next drain
    // no longer claims the partition.
    for (const resource of ownership.unwanted()) await ownership.release(resource);
    if (taken.length > 0) options.onTaken?.();
  };

  const tick = (): Promise<void> => {
    ticking ??= (async () => {
      try {
        if (stopped) return;
        await ownership.tick(resources);
        await settle();
      } catch (thrown) {
        logger.warn(`relay partition leases: ${coerceError(thrown).message}`);
      } finally {
        ticking = undefined;
      }
    })();
    return ticking;
  };

  const held = (now: number): HeldPartition[] =>
    ownership
      .partitions()
      .filter((p) => p.deadline > now)
      .map((p) => ({
        partition: partitionOfResource(p.stream),
        token: p.fence.token,
        expiresAt: p.expiresAt,
      }))
      .sort((a, b) => a.partition - b.partition);

  return {
    start: async () => {
      if (stopped || ticks) return;
      await tick();
      ticks = startOwnershipTicks({ ownership, tick, tickEveryMs, now: options.now });
    },
    tick,
    scope: (now) => {
      const readable = ownership.readable(now).sort();
      return {
        count,
        partitions: readable.map(partitionOfResource).sort((a, b) => a - b),
        fences: readable.flatMap((resource) => ownership.fence(resource) ?? []),
      };
    },
    held,
    relays: () => ownership.members(),
    count,
    name,
    stop: async () => {
      stopped = true;
      ticks?.stop();
      await ticking?.catch(() => {});
      await ownership.leave().catch(() => {});
    },
  };
};
