// Samples the group's lag on each topic continuously: the age of the oldest entry it has not
// acknowledged (pending or undelivered) and how many entries that is, over the topic's partition
// streams (each one's lag kept for health); warns above --lag-warn-s.
import { coerceError } from '../core/errors.ts';
import { compareStreamIds } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import { groupBacklog, lagSeconds } from '../core/stream-backlog.ts';
import { streamsOfTopic } from '../core/topic-streams.ts';
import type { Bus } from '../ports/bus.ts';
import { lastProcessedId } from './group-position.ts';
import type { ConsumerMetrics } from './metrics.ts';

export type GroupLag = {
  /** The topic, or for one partition its stream. */
  readonly topic: string;
  /** False when the group does not exist on the stream (yet). */
  readonly exists: boolean;
  readonly seconds: number;
  readonly entries: number;
  readonly pending: number;
  /** Entries not yet delivered to the group; null when the backend cannot tell. */
  readonly undelivered: number | null;
  readonly consumers: number;
  readonly oldestUnackedId: string | null;
  readonly lastDeliveredId: string | null;
};

export type TopicLag = GroupLag & { readonly partitions: readonly GroupLag[] };

const older = (a: string | null, b: string | null): string | null => {
  if (a === null) return b;
  if (b === null) return a;
  return compareStreamIds(a, b) <= 0 ? a : b;
};

/** One topic over its partition streams: the worst age, the sums of entries. */
export const sampleTopicLag = async (
  bus: Bus,
  topic: string,
  group: string,
  now: number,
): Promise<TopicLag> => {
  const streams = await streamsOfTopic(bus, topic);
  const partitions = await Promise.all(streams.map((s) => sampleGroupLag(bus, s, group, now)));
  const undelivered = partitions.some((p) => p.exists && p.undelivered === null)
    ? null
    : partitions.reduce((sum, p) => sum + (p.undelivered ?? 0), 0);
  return {
    topic,
    exists: partitions.length > 0 && partitions.every((p) => p.exists),
    seconds: Math.max(0, ...partitions.map((p) => p.seconds)),
    entries: partitions.reduce((sum, p) => sum + p.entries, 0),
    pending: partitions.reduce((sum, p) => sum + p.pending, 0),
    undelivered,
    consumers: Math.max(0, ...partitions.map((p) => p.consumers)),
    oldestUnackedId: partitions.reduce<string | null>((o, p) => older(o, p.oldestUnackedId), null),
    lastDeliveredId: partitions.length === 1 ? (partitions[0]?.lastDeliveredId ?? null) : null,
    partitions,
  };
};

export const sampleGroupLag = async (
  bus: Bus,
  topic: string,
  group: string,
  now: number,
): Promise<GroupLag> => {
  const info = (await bus.groups(topic)).find((g) => g.name === group);
  if (!info) {
    return {
      topic,
      exists: false,
      seconds: 0,
      entries: 0,
      pending: 0,
      undelivered: null,
      consumers: 0,
      oldestUnackedId: null,
      lastDeliveredId: null,
    };
  }
  const backlog = await groupBacklog(bus, topic, info);
  return {
    topic,
    exists: true,
    seconds: lagSeconds(backlog, now),
    entries: backlog.pending + (backlog.undelivered ?? 0),
    pending: backlog.pending,
    undelivered: backlog.undelivered,
    consumers: backlog.consumers,
    oldestUnackedId: backlog.oldestUnackedId,
    lastDeliveredId: backlog.lastDeliveredId,
  };
};

export type LagMonitor = {
  /** Samples every topic now, updates the gauges and logs threshold crossings. */
  sample(): Promise<TopicLag[]>;
  last(): TopicLag[] | undefined;
  start(): void;
  stop(): void;
};

export type LagMonitorOptions = {
  readonly bus: Bus;
  readonly group: string;
  readonly topics: readonly string[];
  readonly metrics: ConsumerMetrics;
  readonly logger: Logger;
  readonly warnAboveS: number;
  /** The group's parked events, sampled with the lag (the `events_parked` gauge). */
  readonly parked?: () => Promise<number>;
  readonly intervalMs?: number;
  /** A warning is repeated this often while the lag stays above the threshold. */
  readonly repeatWarningMs?: number;
  readonly now?: () => number;
};

export const createLagMonitor = (options: LagMonitorOptions): LagMonitor => {
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? 1_000;
  const repeatMs = options.repeatWarningMs ?? 60_000;
  const warnedAt = new Map<string, number>();
  let latest: TopicLag[] | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;

  const judge = (lag: GroupLag): void => {
    const previous = warnedAt.get(lag.topic);
    const fields = {
      topic: lag.topic,
      lag_seconds: lag.seconds,
      lag_entries: lag.entries,
      pending: lag.pending,
    };
    if (lag.seconds > options.warnAboveS) {
      if (previous !== undefined && now() - previous < repeatMs) return;
      warnedAt.set(lag.topic, now());
      options.logger.warn(
        `consumer ${options.group} lag ${lag.seconds.toFixed(1)}s on ${lag.topic}: ${lag.entries} entries not acknowledged (oldest ${lag.oldestUnackedId}), above --lag-warn-s ${options.warnAboveS}`,
        fields,
      );
    } else if (previous !== undefined) {
      warnedAt.delete(lag.topic);
      options.logger.info(
        `consumer ${options.group} lag back to ${lag.seconds.toFixed(1)}s on ${lag.topic}`,
        fields,
      );
    }
  };

  const recordPositions = async (lags: readonly TopicLag[]): Promise<void> => {
    for (const lag of lags) {
      for (const partition of lag.partitions) {
        const id = await lastProcessedId(options.bus, partition);
        if (id !== null) options.metrics.processed(lag.topic, id);
      }
    }
  };

  const sample = async (): Promise<TopicLag[]> => {
    const at = now();
    const lags = await Promise.all(
      options.topics.map((t) => sampleTopicLag(options.bus, t, options.group, at)),
    );
    for (const lag of lags) {
      options.metrics.lag(lag.topic, lag);
      judge(lag);
    }
    if (options.parked) options.metrics.parked(await options.parked());
    await recordPositions(lags);
    latest = lags;
    return lags;
  };

  // One sample at a time: a slow Redis must not pile samples up.
  const tick = (): void => {
    if (running) return;
    running = sample()
      .catch((thrown: unknown) => {
        options.logger.debug(`lag sample failed: ${coerceError(thrown).message}`);
      })
      .finally(() => {
        running = undefined;
      });
  };

  return {
    sample,
    last: () => latest,
    start: () => {
      if (timer) return;
      tick();
      timer = setInterval(tick, intervalMs);
      timer.unref();
    },
    stop: () => {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
};
