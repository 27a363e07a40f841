// What a settled batch leaves behind: log lines for failures only, counters for everything.
import { compareStreamIds } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import { topicOfStream } from '../core/partitions.ts';
import type { BatchPlan, Delivery } from './batch-plan.ts';
import type { ConsumerMetrics } from './metrics.ts';
import type { Settlement } from './settle.ts';

type Tally = {
  consumed: number;
  success: number;
  failure: number;
  deadLettered: number;
};

type TopicOf = (stream: string) => string;

/** Metrics speak of topics: a partition stream counts for its topic. A batch has few streams. */
const topicLookup = (): TopicOf => {
  const known = new Map<string, string>();
  return (stream) => {
    let topic = known.get(stream);
    if (topic === undefined) {
      topic = topicOfStream(stream).topic;
      known.set(stream, topic);
    }
    return topic;
  };
};

const tallies = (plan: BatchPlan, settlement: Settlement, topicOf: TopicOf): Map<string, Tally> => {
  const byTopic = new Map<string, Tally>();
  const of = (stream: string): Tally => {
    const topic = topicOf(stream);
    let tally = byTopic.get(topic);
    if (!tally) {
      tally = { consumed: 0, success: 0, failure: 0, deadLettered: 0 };
      byTopic.set(topic, tally);
    }
    return tally;
  };
  for (const delivery of plan.deliveries) if (!delivery.parked) of(delivery.stream).consumed += 1;
  // Parked events are acknowledged but not processed yet: they count once released and applied.
  // Duplicates are not successes.
  for (const planned of settlement.applied) of(planned.delivery.stream).success += 1;
  for (const [stream, n] of settlement.skippedBy) of(stream).success += n;
  for (const rejected of settlement.retrying) of(rejected.delivery.stream).failure += 1;
  for (const dead of settlement.deadLettered) {
    of(dead.delivery.stream).failure += 1;
    of(dead.delivery.stream).deadLettered += 1;
  }
  return byTopic;
};

const label = (eventId: string | undefined, delivery: Delivery): string =>
  eventId ?? `${delivery.stream}/${delivery.entry.id}`;

export const logFailures = (logger: Logger, settlement: Settlement, maxDeliveries: number): void => {
  for (const { delivery, error, eventId } of [...settlement.retrying, ...settlement.deadLettered]) {
    logger.warn(`Failed to process event ${label(eventId, delivery)}: ${error.message}`, {
      event_id: eventId,
      stream: delivery.stream,
      stream_id: delivery.entry.id,
      deliveries: delivery.deliveries,
      max_deliveries: maxDeliveries,
      error_class: error.name,
    });
  }
  for (const dead of settlement.deadLettered) {
    logger.error(`Moved event ${label(dead.eventId, dead.delivery)} to DLQ: ${dead.reason}`, {
      event_id: dead.eventId,
      stream: dead.delivery.stream,
      stream_id: dead.delivery.entry.id,
      dlq_stream: dead.dlqStream,
      error_class: dead.error.name,
      attempts: dead.delivery.deliveries,
    });
  }
};

/** Stream-keyed counts summed per topic. */
const byTopic = (counts: ReadonlyMap<string, number>, topicOf: TopicOf): Map<string, number> => {
  const sums = new Map<string, number>();
  for (const [stream, n] of counts) {
    const topic = topicOf(stream);
    sums.set(topic, (sums.get(topic) ?? 0) + n);
  }
  return sums;
};

export const countBatch = (
  metrics: ConsumerMetrics,
  plan: BatchPlan,
  settlement: Settlement,
  times: { startedAt: number; finishedAt: number },
): void => {
  const topicOf = topicLookup();
  const skipped = byTopic(settlement.skippedBy, topicOf);
  const duplicates = byTopic(settlement.duplicatesBy, topicOf);
  const lastIds = new Map<string, string>();
  for (const planned of settlement.done) {
    const topic = topicOf(planned.delivery.stream);
    const id = planned.delivery.entry.id;
    const last = lastIds.get(topic);
    if (last === undefined || compareStreamIds(id, last) > 0) lastIds.set(topic, id);
  }
  for (const [topic, tally] of tallies(plan, settlement, topicOf)) {
    metrics.count(topic, {
      ...tally,
      skipped: { no_handler: skipped.get(topic) ?? 0, duplicate: duplicates.get(topic) ?? 0 },
    });
    metrics.batchSeconds(topic, (times.finishedAt - times.startedAt) / 1000);
    const last = lastIds.get(topic);
    if (last !== undefined) metrics.processed(topic, last);
  }
  const occurred = new Map<string, number[]>();
  for (const planned of settlement.applied) {
    const topic = topicOf(planned.delivery.stream);
    let list = occurred.get(topic);
    if (!list) {
      list = [];
      occurred.set(topic, list);
    }
    list.push(Date.parse(planned.event.occurredAt));
  }
  for (const [topic, at] of occurred) metrics.endToEnd(topic, at, times.finishedAt);
};
