// mm-relay metrics on the process registry; the runbook's JSON view at /metrics reads the same registry.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { successRate, sumByLabel, sumOf } from '../core/metrics.ts';
import type { OutboxBacklog } from '../ports/outbox.ts';
import type { BatchReport } from './publish-batch.ts';
import type { RetentionStatus } from './retention.ts';

export type RelayMetrics = {
  /** Counts a committed batch: published, dead-lettered and failed events, and their latency. */
  batchCommitted(report: BatchReport, durationS: number, publishedAt: number): void;
  /** Events of a batch that rolled back on a transient failure (they stay in the outbox). */
  batchFailed(events: number): void;
  backlog(sample: OutboxBacklog): void;
  /** Reads the partitions this relay holds whenever the metrics are read. */
  partitions(held: () => number, count: number): void;
  /** Entries a hard limit trimmed that `group` had not acknowledged (`''`: a stream no group reads). */
  trimmedUnconsumed(stream: string, group: string, count: number): void;
  /** How full the hard limits are, who holds each stream back, which groups are dead. */
  retention(status: RetentionStatus): void;
  /** Starts the per-stream series of these (partition) streams at 0. */
  trackStreams(streams: readonly string[]): void;
  json(): Promise<Record<string, unknown>>;
};

export const createRelayMetrics = (registry: Registry, topics: readonly string[]): RelayMetrics => {
  const registers = [registry];
  const published = new Counter({
    name: 'events_published_total',
    help: 'Events published to their topic stream',
    labelNames: ['topic'] as const,
    registers,
  });
  const deadLettered = new Counter({
    name: 'events_dlq_total',
    help: 'Events the relay moved to <topic>.dlq after --max-attempts failures of their own',
    // `stage` as on the consumer's series of the same name, so dead letters can be split by stage.
    labelNames: ['topic', 'stage'] as const,
    registers,
  });
  // Series exist from the start, so rate() and increase() have something to work on.
  for (const topic of topics) {
    published.inc({ topic }, 0);
    deadLettered.inc({ topic, stage: 'relay' }, 0);
  }
  const success = new Counter({
    name: 'publish_success_total',
    help: 'Publish attempts that succeeded, one per event',
    registers,
  });
  const failure = new Counter({
    name: 'publish_failure_total',
    help: 'Publish attempts that failed, one per event (own failures and rolled-back batches)',
    registers,
  });
  const backlog = new Gauge({ name: 'outbox_backlog', help: 'Rows waiting in the outbox', registers });
  const oldestAge = new Gauge({
    name: 'outbox_oldest_age_seconds',
    help: 'Age of the oldest row waiting in the outbox',
    registers,
  });
  const trimmed = new Counter({
    name: 'stream_trimmed_unconsumed_total',
    help: 'Entries a hard limit trimmed that this consumer group had not acknowledged (group "": no group read the stream yet)',
    labelNames: ['stream', 'group'] as const,
    registers,
  });
  for (const topic of topics) trimmed.inc({ stream: topic, group: '' }, 0);
  const fill = new Gauge({
    name: 'stream_hard_limit_fill_ratio',
    help: 'Share of a hard limit (limit: entries or bytes) the stream takes; group: the one whose oldest unacknowledged entry holds it back ("" when none)',
    labelNames: ['stream', 'limit', 'group'] as const,
    registers,
  });
  const dead = new Gauge({
    name: 'consumer_group_dead',
    help: '1 while the group has a backlog and no live consumer for longer than --dead-group-after',
    labelNames: ['group'] as const,
    registers,
  });
  let heldNow: () => number = () => 0;
  new Gauge({
    name: 'relay_partitions_owned',
    help: 'Outbox partitions this relay holds by lease and drains; summed over the relays, the partition count',
    registers,
    collect() {
      this.set(heldNow());
    },
  });
  const partitionCount = new Gauge({
    name: 'relay_partitions',
    help: 'Outbox partitions the relays split among them (--partitions)',
    registers,
  });
  const batchDuration = new Histogram({
    name: 'relay_publish_batch_duration_seconds',
    help: 'Claim, publish and commit of one outbox batch',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const latency = new Histogram({
    name: 'relay_commit_to_publish_seconds',
    help: 'From the outbox row being written to its event being published',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers,
  });

  return {
    batchCommitted: (report, durationS, publishedAt) => {
      batchDuration.observe(durationS);
      const byTopic = new Map<string, number>();
      for (const { row } of report.published) {
        byTopic.set(row.topic, (byTopic.get(row.topic) ?? 0) + 1);
        latency.observe(Math.max(0, (publishedAt - Date.parse(row.occurredAt)) / 1000));
      }
      for (const [topic, count] of byTopic) published.inc({ topic }, count);
      // Labelled by the dead-letter stream's topic: a row's own topic may be no topic at all.
      for (const { dlqStream } of report.deadLettered)
        deadLettered.inc({ topic: dlqStream.replace(/\.dlq$/, ''), stage: 'relay' });
      success.inc(report.published.length);
      failure.inc(report.failed.length + report.deadLettered.length);
    },
    batchFailed: (events) => failure.inc(events),
    backlog: (sample) => {
      backlog.set(sample.count);
      oldestAge.set(sample.oldestAgeSeconds);
    },
    partitions: (held, count) => {
      heldNow = held;
      partitionCount.set(count);
    },
    trimmedUnconsumed: (stream, group, count) => trimmed.inc({ stream, group }, count),
    retention: (status) => {
      // Reset, then set: the holder of a stream changes, and its old series must not linger.
      fill.reset();
      for (const s of status.streams) {
        for (const f of s.fills)
          fill.set({ stream: s.stream, limit: f.limit, group: s.heldBy?.group ?? '' }, f.ratio);
        for (const group of s.groups) trimmed.inc({ stream: s.stream, group }, 0);
      }
      dead.reset();
      for (const group of status.groups) dead.set({ group }, 0);
      for (const d of status.deadGroups) dead.set({ group: d.group }, 1);
    },
    trackStreams: (streams) => {
      for (const stream of streams) trimmed.inc({ stream, group: '' }, 0);
    },
    json: async () => {
      const succeeded = await sumOf(registry, 'publish_success_total');
      const failed = await sumOf(registry, 'publish_failure_total');
      return {
        events_published_total: await sumByLabel(registry, 'events_published_total', 'topic'),
        events_dlq_total: await sumByLabel(registry, 'events_dlq_total', 'topic'),
        outbox_backlog: await sumOf(registry, 'outbox_backlog'),
        publish_success_total: succeeded,
        publish_failure_total: failed,
        success_rate: successRate(succeeded, failed),
        outbox_oldest_age_seconds:
          Math.round((await sumOf(registry, 'outbox_oldest_age_seconds')) * 1000) / 1000,
        partitions_owned: await sumOf(registry, 'relay_partitions_owned'),
        partitions: await sumOf(registry, 'relay_partitions'),
      };
    },
  };
};
