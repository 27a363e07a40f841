// Which partition stream each outbox row goes to: hash(aggregate_id) mod the topic's recorded count.
// The counts are read again at every drain, as soon as it holds the relay lock (overlapping the first
// claim), so a switch made by another relay under that lock is seen by the very next drain.
import { isTopicName } from '../core/envelope.ts';
import { partitionStream, partitionStreams, streamOfAggregate } from '../core/partitions.ts';
import type { Bus } from '../ports/bus.ts';
import type { OutboxRow } from '../ports/outbox.ts';

export type PartitionRouter = {
  /** Starts reading the recorded counts, for the drain that just took the relay lock. */
  refresh(): void;
  /** The stream of each row, in order. A topic seen for the first time gets its count read (or recorded). */
  route(rows: readonly OutboxRow[]): Promise<string[]>;
  /** Every partition stream of the topics known so far, under their last-read counts. */
  streams(): string[];
};

export const createPartitionRouter = (
  bus: Bus,
  options: { readonly topics: readonly string[]; readonly partitions: number },
): PartitionRouter => {
  const counts = new Map<string, number>();
  let loading: Promise<void> = Promise.resolve();

  /** A topic without a recorded count (a new topic, or Redis lost its keys) gets this relay's. */
  const load = async (topic: string): Promise<void> => {
    let recorded = await bus.partitions(topic);
    if (recorded === undefined) {
      await bus.setPartitions(topic, options.partitions);
      recorded = options.partitions;
    }
    counts.set(topic, recorded);
  };

  const known = (): string[] => [...new Set([...options.topics, ...counts.keys()])];

  return {
    refresh: () => {
      loading = Promise.all(known().map(load)).then(() => {});
      loading.catch(() => {}); // surfaces when route awaits it
    },
    route: async (rows) => {
      await loading;
      const unseen = new Set<string>();
      // A topic that is no topic (a poison row, dead-lettered by the publisher) gets nothing recorded.
      for (const row of rows) if (!counts.has(row.topic) && isTopicName(row.topic)) unseen.add(row.topic);
      if (unseen.size > 0) await Promise.all([...unseen].map(load));
      return rows.map((row) => {
        const n = counts.get(row.topic) ?? 1;
        // One partition: no hash to compute, the topic's own name.
        return n === 1 ? partitionStream(row.topic, 0, 1) : streamOfAggregate(row.topic, row.aggregateId, n);
      });
    },
    streams: () => known().flatMap((topic) => partitionStreams(topic, counts.get(topic) ?? 1)),
  };
};
