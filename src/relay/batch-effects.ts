// What follows a committed batch: counters, the trimmer's record of new entries, and log lines for
// failures (one summary per batch, one line per dead letter; nothing per published event).
import type { Logger } from '../core/logger.ts';
import type { RelayMetrics } from './metrics.ts';
import type { BatchReport, PublishPolicy } from './publish-batch.ts';
import type { Trimmer } from './trimmer.ts';

export type BatchEffects = {
  readonly metrics: RelayMetrics;
  readonly trimmer: Trimmer;
  readonly logger: Logger;
  readonly policy: PublishPolicy;
  /** Told which topics a committed batch published to (unlisted topics turn health degraded). */
  readonly onPublished?: (topics: readonly string[]) => void;
};

const idsByStream = (report: BatchReport): Map<string, string[]> => {
  const streams = new Map<string, string[]>();
  for (const { stream, streamId } of report.published) {
    const ids = streams.get(stream);
    if (ids) ids.push(streamId);
    else streams.set(stream, [streamId]);
  }
  return streams;
};

export const applyBatchReport = (
  report: BatchReport,
  effects: BatchEffects,
  timing: { durationS: number; publishedAt: number },
): void => {
  const { logger } = effects;
  effects.metrics.batchCommitted(report, timing.durationS, timing.publishedAt);
  const byStream = idsByStream(report);
  for (const [stream, ids] of byStream) effects.trimmer.record(stream, ids);
  if (report.published.length > 0)
    effects.onPublished?.([...new Set(report.published.map(({ row }) => row.topic))]);
  for (const dead of report.deadLettered) {
    logger.error(`Moved event ${dead.row.eventId} to DLQ: ${dead.reason}`, {
      event_id: dead.row.eventId,
      topic: dead.row.topic,
      dlq_stream: dead.dlqStream,
      outbox_id: dead.row.id,
      attempts: dead.attempts,
      stage: 'relay',
    });
  }
  const first = report.failed[0];
  if (first) {
    const others = report.failed.length - 1;
    logger.warn(
      `Failed to publish event ${first.row.eventId} (attempt ${first.attempts} of ${effects.policy.maxAttempts}): ${first.error.message}; retrying at ${first.nextAttemptAt.toISOString()}${others > 0 ? ` (and ${others} more events of this batch)` : ''}`,
      {
        event_id: first.row.eventId,
        topic: first.row.topic,
        failed: report.failed.length,
        held: report.held,
      },
    );
  }
};
