// What a reprocess puts back on the origin stream: the original event verbatim (no `dlq_*` fields,
// same event_id) with headers `reprocessed_from` and `reprocess_count` added.
import { parseDeadLetter } from '../../core/dead-letter.ts';
import { isTopicName, type JsonValue, type StreamFields } from '../../core/envelope.ts';
import { ValidationError } from '../../core/errors.ts';
import type { DlqStream } from './names.ts';

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

/** The stream a dead letter's event belongs on: its recorded origin, else the DLQ's topic. */
export const originStreamOf = (fields: StreamFields, dlq: DlqStream): string => {
  const origin = fields.dlq_origin_stream;
  if (origin === undefined || origin === '') return dlq.topic;
  if (!isTopicName(origin)) {
    throw new ValidationError(
      `cannot reprocess: origin stream "${origin.slice(0, 100)}" is not a topic stream`,
    );
  }
  return origin;
};

/**
 * @param priorReprocesses how often this very dead letter was reprocessed before (forced re-publishes),
 *   on top of the count the event already carried from earlier trips through the DLQ.
 */
export const republish = (
  dlqFields: StreamFields,
  dlqId: string,
  dlq: DlqStream,
  priorReprocesses: number,
): Republished => {
  const original = parseDeadLetter(dlqFields).original;
  const headers = parseHeaders(original.headers);
  const reprocessCount = countOf(headers.reprocess_count) + 1 + priorReprocesses;
  headers.reprocessed_from = dlqId;
  headers.reprocess_count = reprocessCount;
  const fields: StreamFields = { ...original, headers: JSON.stringify(headers) };
  return { stream: originStreamOf(dlqFields, dlq), fields, reprocessCount };
};
