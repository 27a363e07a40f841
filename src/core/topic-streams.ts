// The streams a topic's events are on now: its partition streams under the count recorded with the
// bus (core/partitions.ts). Every reader of a topic (health, metrics, replay, mm-dlq) goes through here.
import type { Bus } from '../ports/bus.ts';
import { partitionStreams, streamOfAggregate } from './partitions.ts';

/** The recorded count; 1 while none is (no relay recorded one yet: the topic keeps its own name). */
export const partitionCountOf = async (bus: Bus, topic: string): Promise<number> =>
  (await bus.partitions(topic)) ?? 1;

/** `identity` for one partition, `identity:0` .. `identity:N-1` for N. */
export const streamsOfTopic = async (bus: Bus, topic: string): Promise<string[]> =>
  partitionStreams(topic, await partitionCountOf(bus, topic));

export const streamsOfTopics = async (bus: Bus, topics: readonly string[]): Promise<string[]> =>
  (await Promise.all(topics.map((topic) => streamsOfTopic(bus, topic)))).flat();

/** Where an aggregate's events go now (a reprocessed event joins its aggregate's current stream). */
export const currentStreamOf = async (bus: Bus, topic: string, aggregateId: string): Promise<string> =>
  streamOfAggregate(topic, aggregateId, await partitionCountOf(bus, topic));
