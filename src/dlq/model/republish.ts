// What a reprocess puts back on its topic: the original event verbatim (no `dlq_*` fields, same
// event_id) with headers `reprocessed_from` and `reprocess_count` added, on its aggregate's partition
// stream under the count recorded now (which may differ from the one it failed under).
import { parseDeadLetter } from '../../core/dead-letter.ts';
import { isTopicName, type JsonValue, type StreamFields } from '../../core/envelope.ts';
import { NotFoundError, ValidationError } from '../../core/errors.ts';
import { partitionCountKey, streamOfAggregate, topicOfStream } from '../../core/partitions.ts';
import type { Bus } from '../../ports/bus.ts';
import type { DlqStream } from './names.ts';
import type { Place } from './place.ts';

export type Republished = {
  readonly stream: string;
  readonly fields: StreamFields;
  readonly reprocessCount: number;
};

const parseHeaders = (raw: string | undefined): Record<string, JsonValue> => {
  if (raw === undefined || raw === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ValidationError(
      'cannot reprocess: the event headers are not a JSON object, so reprocess headers cannot be added (resolve it instead)',
    );
  }
  return parsed as Record<string, JsonValue>;
};

const countOf = (value: JsonValue | undefined): number => {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : 0;
};

/** The stream a dead letter's event came from: its recorded origin (a topic or partition stream), else the DLQ's topic. */
export const originStreamOf = (fields: StreamFields, dlq: DlqStream): string => {
  const origin = fields.dlq_origin_stream;
  if (origin === undefined || origin === '') return dlq.topic;
  if (!isTopicName(topicOfStream(origin).topic)) {
    throw new ValidationError(
      `cannot reprocess: origin stream "${origin.slice(0, 100)}" is not a topic stream`,
    );
  }
  return origin;
};

/** The topic a dead letter's event belongs to (`identity` for an origin `identity:3`). */
export const originTopicOf = (fields: StreamFields, dlq: DlqStream): string =>
  topicOfStream(originStreamOf(fields, dlq)).topic;

/** Where a reprocessed event goes: its aggregate's partition stream among `partitions` (recorded now). */
export const reprocessStreamOf = (fields: StreamFields, dlq: DlqStream, partitions: number): string => {
  const topic = originTopicOf(fields, dlq);
  if (partitions === 1) return topic;
  const aggregateId = parseDeadLetter(fields).original.aggregate_id;
  if (aggregateId === undefined || aggregateId === '') {
    throw new ValidationError(
      `cannot reprocess: the event has no aggregate_id, so its partition of ${topic} is unknown (resolve it instead)`,
    );
  }
  return streamOfAggregate(topic, aggregateId, partitions);
};

/**
 * The partition count recorded now for the topic of a dead letter's event. None recorded: no relay
 * ran where mm-dlq looks (the wrong place), and where the event would go is unknown; NotFoundError
 * (exit 66) instead of guessing, so nothing is published to a stream no consumer reads.
 */
export const currentPartitionsOf = async (
  ctx: { readonly bus: Bus; readonly place: Place },
  fields: StreamFields,
  dlq: DlqStream,
): Promise<number> => {
  const topic = originTopicOf(fields, dlq);
  const recorded = await ctx.bus.partitions(topic);
  if (recorded !== undefined) return recorded;
  throw new NotFoundError(
    `topic ${topic} has no recorded partition count in ${ctx.place.text} (key ${ctx.place.keyOf(partitionCountKey(topic))}): wrong prefix or database, or no mm-relay has run there; nothing was republished`,
  );
};

/**
 * @param partitions the partition count recorded for the event's topic now.
 * @param priorReprocesses how often this very dead letter was reprocessed before (forced re-publishes),
 *   on top of the count the event already carried from earlier trips through the DLQ.
 */
export const republish = (
  dlqFields: StreamFields,
  dlqId: string,
  dlq: DlqStream,
  priorReprocesses: number,
  partitions = 1,
): Republished => {
  const original = parseDeadLetter(dlqFields).original;
  const headers = parseHeaders(original.headers);
  const reprocessCount = countOf(headers.reprocess_count) + 1 + priorReprocesses;
  headers.reprocessed_from = dlqId;
  headers.reprocess_count = reprocessCount;
  const fields: StreamFields = { ...original, headers: JSON.stringify(headers) };
  return { stream: reprocessStreamOf(dlqFields, dlq, partitions), fields, reprocessCount };
};
