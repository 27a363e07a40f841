// What the overview and the streams page show besides the services: the outbox backlog, each
// topic's partition streams and dead-letter stream, and what every consumer group still owes on each.
import { dlqStreamOf } from '../../core/envelope.ts';
import { streamIdTime } from '../../core/ids.ts';
import { topicOfStream } from '../../core/partitions.ts';
import { streamBacklogs } from '../../core/stream-backlog.ts';
import { streamsOfTopic, streamsOfTopics } from '../../core/topic-streams.ts';
import type { Bus, PendingSummary } from '../../ports/bus.ts';
import type { Store } from '../../ports/store.ts';
import type { Probe } from './probe.ts';

export type OutboxView = {
  readonly count: number;
  readonly oldestAgeSeconds: number | null;
  readonly from: string;
};

export type StreamView = {
  readonly name: string;
  readonly kind: 'topic' | 'dlq';
  readonly topic: string;
  /** Its partition number when the topic has several (`identity:2`), else null. */
  readonly partition: number | null;
  readonly length: number;
};

export type GroupView = {
  readonly stream: string;
  readonly group: string;
  readonly pending: number;
  /** Entries not yet delivered, when the backend knows. */
  readonly undelivered: number | null;
  readonly lagSeconds: number;
  readonly consumers: number;
  readonly lastDeliveredId: string;
  /** Pending entries by consumer name (XPENDING summary). */
  readonly pendingByConsumer: Readonly<Record<string, number>>;
};

/** From the database when the console has one, else the largest backlog a relay reports. */
export const outboxView = async (
  store: Store | undefined,
  probes: readonly Probe[],
): Promise<OutboxView | null> => {
  if (store) {
    const backlog = await store.outbox.backlog();
    return { count: backlog.count, oldestAgeSeconds: backlog.oldestAgeSeconds, from: 'database' };
  }
  const reported = probes
    .filter((probe) => probe.record.role === 'relay')
    .map((probe) => probe.metrics?.outbox_backlog)
    .filter((value): value is number => typeof value === 'number');
  return reported.length === 0
    ? null
    : { count: Math.max(...reported), oldestAgeSeconds: null, from: 'relay metrics' };
};

/** Each topic's streams (one per partition) and its one dead-letter stream. */
export const streamViews = async (bus: Bus, topics: readonly string[]): Promise<StreamView[]> => {
  const perTopic = await Promise.all(
    topics.map(async (topic) => {
      const streams = await streamsOfTopic(bus, topic);
      const partitioned = streams.length > 1;
      return Promise.all([
        ...streams.map(
          async (name): Promise<StreamView> => ({
            name,
            kind: 'topic',
            topic,
            partition: partitioned ? topicOfStream(name).partition : null,
            length: await bus.len(name),
          }),
        ),
        bus.len(dlqStreamOf(topic)).then(
          (length): StreamView => ({
            name: dlqStreamOf(topic),
            kind: 'dlq',
            topic,
            partition: null,
            length,
          }),
        ),
      ]);
    }),
  );
  return perTopic.flat();
};

const noPending: PendingSummary = { count: 0, minId: null, maxId: null, consumers: {} };

export const groupViews = async (
  bus: Bus,
  topics: readonly string[],
  nowMs: number,
): Promise<GroupView[]> => {
  const perStream = await Promise.all(
    (await streamsOfTopics(bus, topics)).map(async (stream) => {
      const backlogs = await streamBacklogs(bus, stream).catch(() => []);
      return Promise.all(
        backlogs.map(async (backlog): Promise<GroupView> => {
          const pending = backlog.pending > 0 ? await bus.pending(stream, backlog.group) : noPending;
          return {
            stream,
            group: backlog.group,
            pending: backlog.pending,
            undelivered: backlog.undelivered,
            lagSeconds:
              backlog.oldestUnackedId === null
                ? 0
                : Math.max(0, Math.round((nowMs - streamIdTime(backlog.oldestUnackedId)) / 100) / 10),
            consumers: backlog.consumers,
            lastDeliveredId: backlog.lastDeliveredId,
            pendingByConsumer: pending.consumers,
          };
        }),
      );
    }),
  );
  return perStream.flat();
};
