// mm-consumer metrics on the process registry, labelled by topic and consumer group; the runbook's
// JSON view at /metrics reads the same registry.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { maxOf, successRate, sumByLabel, sumOf } from '../core/metrics.ts';

export const SkipReasons = ['no_handler', 'duplicate'] as const;
export type SkipReason = (typeof SkipReasons)[number];

export type TopicCounts = {
  readonly consumed: number;
  readonly success: number;
  readonly failure: number;
  readonly deadLettered: number;
  readonly skipped: Readonly<Record<SkipReason, number>>;
};

/** Duplicates are acknowledged without a handler run; they are not successes of this consumer. */
export const successesOf = (acked: number, duplicates: number): number => Math.max(0, acked - duplicates);

export type LagValues = { readonly seconds: number; readonly entries: number; readonly pending: number };

export type ConsumerMetrics = {
  count(topic: string, counts: TopicCounts): void;
  batchSeconds(topic: string, seconds: number): void;
  /** Seconds from each event's occurred_at to now, for the events just applied. */
  endToEnd(topic: string, occurredAtMs: readonly number[], nowMs: number): void;
  lag(topic: string, values: LagValues): void;
  transientRetry(dependency: string): void;
  /** Events of the group waiting in the parking store. */
  parked(count: number): void;
  processed(topic: string, streamId: string): void;
  json(): Promise<Record<string, unknown>>;
};

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const round2 = (value: number): number => Math.round(value * 100) / 100;

export const createConsumerMetrics = (
  registry: Registry,
  options: { group: string; topics: readonly string[]; compareIds: (a: string, b: string) => number },
): ConsumerMetrics => {
  const labelNames = ['topic', 'consumer_group'] as const;
  const registers = [registry];
  const consumed = new Counter({
    name: 'events_consumed_total',
    help: 'Stream entries delivered to this consumer (redeliveries included)',
    labelNames,
    registers,
  });
  // Counters under the runbook's names, which lack the `_total` suffix promtool's lint asks for.
  const success = new Counter({
    name: 'events_processed_success',
    help: 'Deliveries processed to completion (applied, or skipped for want of a handler); duplicates not included',
    labelNames,
    registers,
  });
  const failure = new Counter({
    name: 'events_processed_failure',
    help: 'Deliveries that failed (handler error, unparseable, dead-lettered)',
    labelNames,
    registers,
  });
  const skipped = new Counter({
    name: 'events_skipped_total',
    help: 'Events acknowledged without running a handler, by reason (no_handler, duplicate)',
    labelNames: ['topic', 'consumer_group', 'reason'] as const,
    registers,
  });
  const duplicates = new Counter({
    name: 'events_duplicates_total',
    help: 'Deliveries of events the group had already recorded in the ledger (acknowledged without a handler run)',
    labelNames,
    registers,
  });
  const dlq = new Counter({
    name: 'events_dlq_total',
    help: 'Events moved to <topic>.dlq',
    labelNames: ['topic', 'consumer_group', 'stage'] as const,
    registers,
  });
  const lagSeconds = new Gauge({
    name: 'consumer_lag_seconds',
    help: 'Age of the oldest entry the group has not acknowledged (0 when caught up)',
    labelNames,
    registers,
  });
  const lagEntries = new Gauge({
    name: 'consumer_lag_entries',
    help: 'Entries the group has not acknowledged: pending plus not yet delivered',
    labelNames,
    registers,
  });
  const pending = new Gauge({
    name: 'consumer_pending_entries',
    help: 'Entries delivered to the group and not yet acknowledged',
    labelNames,
    registers,
  });
  const batch = new Histogram({
    name: 'consumer_batch_duration_seconds',
    help: 'Time to apply and acknowledge one batch: ledger, handlers, commit, ack',
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const endToEnd = new Histogram({
    name: 'event_end_to_end_latency_seconds',
    help: 'From occurred_at (outbox write) to the effect committed and acknowledged',
    labelNames,
    buckets: latencyBuckets,
    registers,
  });
  const retries = new Counter({
    name: 'consumer_transient_retries_total',
    help: 'Retries after a dependency failed (no event attempt counted), by dependency',
    labelNames: ['consumer_group', 'dependency'] as const,
    registers,
  });

  const parked = new Gauge({
    name: 'events_parked',
    help: 'Events waiting behind an earlier failing or dead-lettered event of their aggregate (parked)',
    labelNames: ['consumer_group'] as const,
    registers,
  });

  const group = options.group;
  parked.set({ consumer_group: group }, 0);
  // Every series exists from the start at 0, so the runbook's PromQL has data before the first event.
  for (const topic of options.topics) {
    const labels = { topic, consumer_group: group };
    consumed.inc(labels, 0);
    success.inc(labels, 0);
    failure.inc(labels, 0);
    for (const reason of SkipReasons) skipped.inc({ ...labels, reason }, 0);
    duplicates.inc(labels, 0);
    dlq.inc({ ...labels, stage: 'consumer' }, 0);
    lagSeconds.set(labels, 0);
    lagEntries.set(labels, 0);
    pending.set(labels, 0);
  }

  const lastIds = new Map<string, string>();

  return {
    count: (topic, counts) => {
      const labels = { topic, consumer_group: group };
      if (counts.consumed > 0) consumed.inc(labels, counts.consumed);
      if (counts.success > 0) success.inc(labels, counts.success);
      if (counts.failure > 0) failure.inc(labels, counts.failure);
      if (counts.deadLettered > 0) dlq.inc({ ...labels, stage: 'consumer' }, counts.deadLettered);
      for (const reason of SkipReasons) {
        if (counts.skipped[reason] > 0) skipped.inc({ ...labels, reason }, counts.skipped[reason]);
      }
      if (counts.skipped.duplicate > 0) duplicates.inc(labels, counts.skipped.duplicate);
    },
    batchSeconds: (topic, seconds) => batch.observe({ topic, consumer_group: group }, seconds),
    endToEnd: (topic, occurredAtMs, nowMs) => {
      if (occurredAtMs.length === 0) return;
      const child = endToEnd.labels(topic, group);
      for (const at of occurredAtMs) child.observe(Math.max(0, (nowMs - at) / 1000));
    },
    lag: (topic, values) => {
      const labels = { topic, consumer_group: group };
      lagSeconds.set(labels, round2(values.seconds));
      lagEntries.set(labels, values.entries);
      pending.set(labels, values.pending);
    },
    transientRetry: (dependency) => retries.inc({ consumer_group: group, dependency }),
    parked: (count) => parked.set({ consumer_group: group }, count),
    processed: (topic, streamId) => {
      const previous = lastIds.get(topic);
      if (previous === undefined || options.compareIds(streamId, previous) > 0) lastIds.set(topic, streamId);
    },
    json: async () => {
      const succeeded = await sumOf(registry, 'events_processed_success');
      const failed = await sumOf(registry, 'events_processed_failure');
      const lastByTopic = Object.fromEntries(options.topics.map((t) => [t, lastIds.get(t) ?? null]));
      return {
        consumer_group: group,
        events_consumed_total: await sumByLabel(registry, 'events_consumed_total', 'topic'),
        consumer_lag_seconds: round2(await maxOf(registry, 'consumer_lag_seconds')),
        consumer_lag_entries: await sumOf(registry, 'consumer_lag_entries'),
        consumer_pending_entries: await sumOf(registry, 'consumer_pending_entries'),
        events_processed_success: succeeded,
        events_processed_failure: failed,
        success_rate: successRate(succeeded, failed),
        events_skipped_total: await sumByLabel(registry, 'events_skipped_total', 'reason'),
        events_duplicates: await sumOf(registry, 'events_duplicates_total'),
        events_dlq_total: await sumByLabel(registry, 'events_dlq_total', 'topic'),
        events_parked: await sumOf(registry, 'events_parked'),
        last_processed_event_id: Object.values(lastByTopic).find((id) => id !== null) ?? null,
        last_processed_event_ids: lastByTopic,
      };
    },
  };
};
