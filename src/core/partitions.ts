// Partitions: how an aggregate maps to one of a topic's N partition streams, the same in every mode.
//
// partition = (first 7 hex digits of md5(aggregate_id), as an integer) mod N. Seven hex digits (28
// bits) keep the number exact in JavaScript, Postgres `int` and SQLite, so the database can store
// the hash per outbox row (`outbox.partition_hash`) and every writer and reader agrees on it.
import { createHash } from 'node:crypto';

/** The recorded partition count of a topic lives under this key (Redis) or row (local file). */
export const partitionCountKey = (topic: string): string => `${topic}:partitions`;

export const MAX_PARTITIONS = 256;

export const partitionHash = (aggregateId: string): number =>
  Number.parseInt(createHash('md5').update(aggregateId, 'utf8').digest('hex').slice(0, 7), 16);

export const partitionOf = (aggregateId: string, partitions: number): number =>
  partitionHash(aggregateId) % partitions;

/** N = 1 keeps the topic's own name (`identity`); N > 1 names `identity:0` .. `identity:N-1`. */
export const partitionStream = (topic: string, partition: number, partitions: number): string =>
  partitions === 1 ? topic : `${topic}:${partition}`;

export const partitionStreams = (topic: string, partitions: number): string[] =>
  Array.from({ length: partitions }, (_, p) => partitionStream(topic, p, partitions));

export const streamOfAggregate = (topic: string, aggregateId: string, partitions: number): string =>
  partitionStream(topic, partitionOf(aggregateId, partitions), partitions);

/** `identity:3` -> { topic: 'identity', partition: 3 }; `identity` -> partition 0. */
export const topicOfStream = (stream: string): { readonly topic: string; readonly partition: number } => {
  const match = /^(.*):(\d+)$/.exec(stream);
  if (match?.[1] && match[2] !== undefined) return { topic: match[1], partition: Number(match[2]) };
  return { topic: stream, partition: 0 };
};

/** One aggregate's identity across topics and groups: type and id. */
export const aggregateKeyOf = (event: {
  readonly aggregateType: string;
  readonly aggregateId: string;
}): string => `${event.aggregateType}/${event.aggregateId}`;
