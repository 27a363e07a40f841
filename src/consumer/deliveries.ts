// Where batches come from: new entries of the partitions this consumer owns (XREADGROUP >), pending
// entries claimed with XAUTOCLAIM (a taken-over partition's, at once; failed ones, after
// --claim-idle-ms), and events released from the parking store.
import { compareStreamIds } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import type { Bus, StreamEntry } from '../ports/bus.ts';
import type { ParkedEntry } from '../ports/parking.ts';
import type { Delivery } from './batch-plan.ts';

export type DeliverySettings = {
  readonly group: string;
  readonly name: string;
  readonly batchSize: number;
  readonly blockMs: number;
  readonly startId: string;
};

export type ReclaimPage = {
  readonly deliveries: Delivery[];
  readonly next: string;
  readonly deleted: string[];
};

export type DeliverySource = {
  /** Creates the group on the stream (and the stream) if missing; true when it did. */
  ensureGroup(stream: string): Promise<boolean>;
  /** Blocks up to `blockMs` when nothing new is there. */
  readNew(streams: readonly string[], signal: AbortSignal | undefined, blockMs: number): Promise<Delivery[]>;
  /**
   * One page of pending entries idle at least `minIdleMs`, claimed for this consumer, in id order;
   * `count` pending entries are looked at (default: the batch size).
   */
  claim(stream: string, cursor: string, minIdleMs: number, count?: number): Promise<ReclaimPage>;
};

const bounds = (entries: readonly StreamEntry[]): { start: string; end: string } => {
  let start = entries[0]?.id ?? '-';
  let end = start;
  for (const { id } of entries) {
    if (compareStreamIds(id, start) < 0) start = id;
    if (compareStreamIds(id, end) > 0) end = id;
  }
  return { start, end };
};

/** A parked event as a delivery again; `attempts` is how often its handler already ran. */
export const releasedDelivery = (event: ParkedEntry, attempts: number): Delivery => ({
  stream: event.stream,
  entry: { id: event.streamId, fields: event.fields },
  deliveries: attempts + 1,
  parked: true,
  parkedAt: event.parkedAt,
});

export const createDeliverySource = (
  bus: Bus,
  settings: DeliverySettings,
  logger: Logger,
): DeliverySource => {
  const { group, name } = settings;

  /** Delivery counts from the pending list; entries no longer ours (claimed meanwhile) are left out. */
  const withCounts = async (stream: string, entries: readonly StreamEntry[]): Promise<Delivery[]> => {
    if (entries.length === 0) return [];
    const pending = await bus.pendingRange(stream, group, {
      ...bounds(entries),
      consumer: name,
      count: Math.min(10_000, entries.length + 1_000),
    });
    const counts = new Map(pending.map((p) => [p.id, p.deliveries]));
    return entries.flatMap((entry) => {
      const deliveries = counts.get(entry.id);
      return deliveries === undefined ? [] : [{ stream, entry, deliveries }];
    });
  };

  return {
    ensureGroup: async (stream) =>
      (await bus.createGroup(stream, group, { startId: settings.startId })).created,

    readNew: async (streams, signal, blockMs) => {
      if (streams.length === 0) return [];
      const reads = await bus.readGroup({
        group,
        consumer: name,
        streams,
        // COUNT is per stream: the batch size is shared, so a read (and its transaction) stays
        // within it however many partitions a consumer owns.
        count: Math.max(1, Math.ceil(settings.batchSize / streams.length)),
        blockMs,
        ...(signal ? { signal } : {}),
      });
      const deliveries: Delivery[] = [];
      for (const read of reads)
        for (const entry of read.entries) deliveries.push({ stream: read.stream, entry, deliveries: 1 });
      return deliveries;
    },

    claim: async (stream, cursor, minIdleMs, count = settings.batchSize) => {
      const claimed = await bus.autoClaim(stream, group, {
        consumer: name,
        minIdleMs,
        start: cursor,
        count,
      });
      if (claimed.deleted.length > 0) {
        logger.error(
          `${claimed.deleted.length} pending entries of ${stream} no longer exist (deleted or trimmed before they were acknowledged); dropped from the pending list of ${group}`,
          { stream, ids: claimed.deleted.slice(0, 20) },
        );
      }
      const deliveries = await withCounts(stream, claimed.entries);
      return { deliveries, next: claimed.next, deleted: claimed.deleted };
    },
  };
};
