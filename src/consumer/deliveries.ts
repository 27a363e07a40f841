// Where batches come from: new entries (XREADGROUP >), this consumer's own pending entries after a
// restart (history), and entries idle longer than --claim-idle-ms in anyone's pending list (XAUTOCLAIM).
import { ensureDeadLetterStreams } from '../core/dead-letter-streams.ts';
import { compareStreamIds } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import type { Bus, StreamEntry } from '../ports/bus.ts';
import type { Delivery } from './batch-plan.ts';

export type DeliverySettings = {
  readonly group: string;
  readonly name: string;
  readonly topics: readonly string[];
  readonly batchSize: number;
  readonly blockMs: number;
  readonly claimIdleMs: number;
  readonly startId: string;
};

export type ReclaimPage = { readonly deliveries: Delivery[]; readonly next: string };

export type DeliverySource = {
  /** Creates the group on every topic (with the stream) where it is missing, and each `<topic>.dlq`. */
  ensureGroups(): Promise<string[]>;
  /** Blocks up to `blockMs` (default --block-ms) when nothing new is there. */
  readNew(signal?: AbortSignal, blockMs?: number): Promise<Delivery[]>;
  readHistory(): Promise<Delivery[]>;
  reclaim(stream: string, cursor: string): Promise<ReclaimPage>;
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
    ensureGroups: async () => {
      const created: string[] = [];
      for (const topic of settings.topics) {
        const result = await bus.createGroup(topic, group, { startId: settings.startId });
        if (result.created) created.push(topic);
      }
      await ensureDeadLetterStreams(bus, settings.topics);
      return created;
    },

    readNew: async (signal, blockMs) => {
      const reads = await bus.readGroup({
        group,
        consumer: name,
        streams: settings.topics,
        count: settings.batchSize,
        blockMs: blockMs ?? settings.blockMs,
        ...(signal ? { signal } : {}),
      });
      const deliveries: Delivery[] = [];
      for (const read of reads)
        for (const entry of read.entries) deliveries.push({ stream: read.stream, entry, deliveries: 1 });
      return deliveries;
    },

    readHistory: async () => {
      const reads = await bus.readGroup({
        group,
        consumer: name,
        streams: settings.topics,
        count: settings.batchSize,
        history: true,
      });
      const all = await Promise.all(reads.map((read) => withCounts(read.stream, read.entries)));
      return all.flat();
    },

    reclaim: async (stream, cursor) => {
      const claimed = await bus.autoClaim(stream, group, {
        consumer: name,
        minIdleMs: settings.claimIdleMs,
        start: cursor,
        count: settings.batchSize,
      });
      if (claimed.deleted.length > 0) {
        logger.error(
          `${claimed.deleted.length} pending entries of ${stream} no longer exist (deleted or trimmed before they were acknowledged); dropped from the pending list of ${group}`,
          { stream, ids: claimed.deleted.slice(0, 20) },
        );
      }
      return { deliveries: await withCounts(stream, claimed.entries), next: claimed.next };
    },
  };
};
