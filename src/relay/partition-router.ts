// Which partition stream each outbox row goes to: hash(aggregate_id) mod the topic's recorded count.
// The counts are read again at every drain, as soon as it joined the relays (overlapping the first
// claim), so a switch made by another relay while the relays were paused is seen by the very next
// drain. A relay claims by its own --partitions: when another relay has switched one of its topics to
// another count, the drain fails before it publishes and the relay stops (exit 78) to be restarted with
// the new count, so two partition splits never run side by side.
import { isTopicName } from '../core/envelope.ts';
import { ConfigError } from '../core/errors.ts';
import { partitionStream, partitionStreams, streamOfAggregate } from '../core/partitions.ts';
import type { Bus } from '../ports/bus.ts';
import type { OutboxRow } from '../ports/outbox.ts';

export type PartitionRouter = {
  /** Starts reading the recorded counts, for the drain that just joined the relays. */
  refresh(): void;
  /** Waits for the counts the last refresh read; ConfigError when a topic's differs from --partitions. */
  verify(): Promise<void>;
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
    if (recorded !== options.partitions && options.topics.includes(topic)) {
      throw new ConfigError([
        `topic ${topic} now has ${recorded} partitions (another mm-relay switched it), but this mm-relay ` +
          `claims by --partitions ${options.partitions}: restart it with --partitions ${recorded}`,
      ]);
    }
    counts.set(topic, recorded);
  };

  const known = (): string[] => [...new Set([...options.topics, ...counts.keys()])];

  return {
    refresh: () => {
      loading = Promise.all(known().map(load)).then(() => {});
      loading.catch(() => {}); // surfaces when route awaits it
    },
    verify: () => loading,
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
