// mm-relay metrics on the process registry; the runbook's JSON view at /metrics reads the same registry.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { successRate, sumByLabel, sumOf } from '../core/metrics.ts';
import type { OutboxBacklog } from '../ports/outbox.ts';
import type { BatchReport } from './publish-batch.ts';

export type RelayMetrics = {
  /** Counts a committed batch: published, dead-lettered and failed events, and their latency. */
  batchCommitted(report: BatchReport, durationS: number, publishedAt: number): void;
  /** Events of a batch that rolled back on a transient failure (they stay in the outbox). */
  batchFailed(events: number): void;
  backlog(sample: OutboxBacklog): void;
  leader(isLeader: boolean): void;
  trimmedUnconsumed(stream: string, count: number): void;
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
    help: 'Entries removed by the --stream-hard-max cap before every consumer group acknowledged them',
    labelNames: ['stream'] as const,
    registers,
  });
  for (const topic of topics) trimmed.inc({ stream: topic }, 0);
  const leader = new Gauge({
    name: 'relay_leader',
    help: '1 when this relay drained the last batch (holds the outbox lock), 0 on standby',
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
    leader: (isLeader) => leader.set(isLeader ? 1 : 0),
    trimmedUnconsumed: (stream, count) => trimmed.inc({ stream }, count),
    trackStreams: (streams) => {
      for (const stream of streams) trimmed.inc({ stream }, 0);
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
      };
    },
  };
};
