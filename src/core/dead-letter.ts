// The dead-letter record: the original entry verbatim plus `dlq_*` fields saying where, why and
// how often it failed. Relay, consumer, mm-dlq and the drills all read and write this one shape.
import { createHash } from 'node:crypto';
import type { StreamFields } from './envelope.ts';

export const DeadLetterStages = ['relay', 'consumer'] as const;
export type DeadLetterStage = (typeof DeadLetterStages)[number];

export const MAX_STACK_CHARS = 4_000;
export const MAX_MESSAGE_CHARS = 2_000;
const DLQ_PREFIX = 'dlq_';

export type Failure = {
  readonly stage: DeadLetterStage;
  readonly originStream: string;
  /** Stream id of the failed entry (consumer stage). */
  readonly originId?: string | undefined;
  readonly consumerGroup?: string | undefined;
  readonly error: Error;
  readonly attempts: number;
  /** ISO 8601 UTC. */
  readonly firstFailedAt: string;
  readonly failedAt: string;
};

export type DeadLetter = {
  readonly original: StreamFields;
  readonly stage: DeadLetterStage | string;
  readonly originStream: string;
  readonly originId: string | undefined;
  readonly consumerGroup: string | undefined;
  readonly errorClass: string;
  readonly errorMessage: string;
  readonly errorStack: string;
  readonly attempts: number;
  readonly firstFailedAt: string;
  readonly failedAt: string;
  readonly fingerprint: string;
};

/**
 * Error text with the parts that vary between occurrences of one problem normalised away
 * (uuids, stream ids, numbers, hex, quoted values), so failures group by cause.
 */
export const normaliseErrorMessage = (message: string): string =>
  message
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>')
    .replace(/\b\d{10,}-\d+\b/g, '<stream-id>')
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '<value>')
    .replace(/\b0x[0-9a-f]+\b|\b[0-9a-f]{16,}\b/gi, '<hex>')
    .replace(/\b\d+(?:\.\d+)?\b/g, '<n>')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);

export const errorFingerprint = (errorClass: string, message: string): string =>
  createHash('sha256')
    .update(`${errorClass}\u0000${normaliseErrorMessage(message)}`)
    .digest('hex')
    .slice(0, 12);

const withoutDlqFields = (fields: StreamFields): StreamFields =>
  Object.fromEntries(Object.entries(fields).filter(([name]) => !name.startsWith(DLQ_PREFIX)));

/** The fields of a dead-letter entry: the original fields (minus older `dlq_*`) and the failure. */
export const deadLetterFields = (original: StreamFields, failure: Failure): StreamFields => {
  const errorClass = failure.error.name || 'Error';
  const message = failure.error.message.slice(0, MAX_MESSAGE_CHARS);
  const fields: StreamFields = {
    ...withoutDlqFields(original),
    dlq_stage: failure.stage,
    dlq_origin_stream: failure.originStream,
  };
  if (failure.originId !== undefined) fields.dlq_origin_id = failure.originId;
  if (failure.consumerGroup !== undefined) fields.dlq_consumer_group = failure.consumerGroup;
  fields.dlq_error_class = errorClass;
  fields.dlq_error_message = message;
  fields.dlq_error_stack = (failure.error.stack ?? '').slice(0, MAX_STACK_CHARS);
  fields.dlq_attempts = String(failure.attempts);
  fields.dlq_first_failed_at = failure.firstFailedAt;
  fields.dlq_failed_at = failure.failedAt;
  fields.dlq_fingerprint = errorFingerprint(errorClass, message);
  return fields;
};

/** Fields a dead letter carries instead of a body too large to keep whole (payload, headers). */
export const truncatedFields = (name: string) =>
  ({
    truncated: `dlq_${name}_truncated`,
    bytes: `dlq_${name}_bytes`,
    sha256: `dlq_${name}_sha256`,
  }) as const;

/** Bytes of preview kept of a body too large for the dead letter (less when the limit is small). */
export const PREVIEW_BYTES = 4_096;

/** The first `bytes` of `text` in UTF-8, never ending inside a character. */
const utf8Prefix = (text: string, bytes: number): string =>
  Buffer.from(text, 'utf8')
    .subarray(0, bytes)
    .toString('utf8')
    .replace(/\uFFFD+$/, '');

/**
 * Keeps a dead letter within `maxBytes` of payload (and of headers): a larger body becomes a preview
 * plus its size and SHA-256, so the DLQ never holds what the stream would refuse. The full body stays
 * where the caller keeps it (the relay's dead outbox row).
 */
export const boundDeadLetterBodies = (fields: StreamFields, maxBytes: number): StreamFields => {
  let bounded = fields;
  for (const name of ['payload', 'headers'] as const) {
    const body = fields[name];
    if (body === undefined || body.length <= maxBytes / 3 || Buffer.byteLength(body) <= maxBytes) continue;
    const names = truncatedFields(name);
    bounded = {
      ...bounded,
      [name]: utf8Prefix(body, Math.min(PREVIEW_BYTES, Math.floor(maxBytes / 4))),
      [names.truncated]: 'true',
      [names.bytes]: String(Buffer.byteLength(body)),
      [names.sha256]: createHash('sha256').update(body).digest('hex'),
    };
  }
  return bounded;
};

/** Whether a dead letter holds only a preview of its event's payload or headers. */
export const isTruncatedDeadLetter = (fields: StreamFields): boolean =>
  fields[truncatedFields('payload').truncated] === 'true' ||
  fields[truncatedFields('headers').truncated] === 'true';

/** Reads a dead-letter entry back; tolerant of missing fields so a damaged entry can still be shown. */
export const parseDeadLetter = (fields: StreamFields): DeadLetter => {
  const errorClass = fields.dlq_error_class ?? 'Error';
  const errorMessage = fields.dlq_error_message ?? '';
  return {
    original: withoutDlqFields(fields),
    stage: fields.dlq_stage ?? 'unknown',
    originStream: fields.dlq_origin_stream ?? fields.topic ?? '',
    originId: fields.dlq_origin_id,
    consumerGroup: fields.dlq_consumer_group,
    errorClass,
    errorMessage,
    errorStack: fields.dlq_error_stack ?? '',
    attempts: Number(fields.dlq_attempts ?? 0),
    firstFailedAt: fields.dlq_first_failed_at ?? fields.dlq_failed_at ?? '',
    failedAt: fields.dlq_failed_at ?? '',
    fingerprint: fields.dlq_fingerprint ?? errorFingerprint(errorClass, errorMessage),
  };
};
