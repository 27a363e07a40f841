// The event envelope: what an outbox row becomes on a stream, and the validation every reader applies.
import { ValidationError } from './errors.ts';
import { isUuid } from './ids.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type EventHeaders = Record<string, JsonValue>;

export type EventEnvelope = {
  readonly eventId: string;
  readonly eventType: string;
  readonly topic: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly payload: JsonValue;
  /** ISO 8601 UTC: when the outbox row was written. */
  readonly occurredAt: string;
  /** The source outbox row, absent for events that did not come from an outbox. */
  readonly outboxId?: string | undefined;
  readonly headers: EventHeaders;
  readonly schemaVersion: number;
};

/** Flat string fields, as stored in a stream entry. */
export type StreamFields = Record<string, string>;

export const SCHEMA_VERSION = 1;
const topicPattern = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$/;
const eventTypePattern = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$/;

export const isTopicName = (value: string): boolean =>
  value.length <= 100 && topicPattern.test(value) && !value.endsWith('.dlq') && !value.endsWith('.audit');
export const isEventType = (value: string): boolean => value.length <= 200 && eventTypePattern.test(value);

export const dlqStreamOf = (topic: string): string => `${topic}.dlq`;
export const auditStreamOf = (dlqStream: string): string => `${dlqStream}.audit`;

export const toStreamFields = (event: EventEnvelope): StreamFields => {
  const fields: StreamFields = {
    event_id: event.eventId,
    event_type: event.eventType,
    topic: event.topic,
    aggregate_type: event.aggregateType,
    aggregate_id: event.aggregateId,
    payload: JSON.stringify(event.payload),
    occurred_at: event.occurredAt,
  };
  if (event.outboxId !== undefined) fields.outbox_id = event.outboxId;
  fields.headers = JSON.stringify(event.headers);
  fields.schema_version = String(event.schemaVersion);
  return fields;
};

const parseJsonField = (fields: StreamFields, name: string, problems: string[]): JsonValue | undefined => {
  const text = fields[name];
  if (text === undefined) {
    problems.push(`missing field ${name}`);
    return undefined;
  }
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    problems.push(`field ${name} is not JSON: ${(error as Error).message}`);
    return undefined;
  }
};

const requireText = (fields: StreamFields, name: string, problems: string[]): string => {
  const value = fields[name];
  if (value === undefined || value === '') problems.push(`missing field ${name}`);
  return value ?? '';
};

// Most events carry no headers: no JSON.parse for them.
const NO_HEADERS = '{}';

/**
 * Reads a stream entry back into an envelope; every problem is named at once. `extra` goes into the
 * same object (the consumer's hot path adds where the entry came from without copying the envelope).
 */
export const parseStreamFields = <E extends object = Record<never, never>>(
  fields: StreamFields,
  extra?: E,
): EventEnvelope & E => {
  const problems: string[] = [];
  const eventId = requireText(fields, 'event_id', problems);
  if (eventId && !isUuid(eventId)) problems.push(`event_id is not a UUID: ${eventId.slice(0, 80)}`);
  const eventType = requireText(fields, 'event_type', problems);
  if (eventType && !isEventType(eventType))
    problems.push(`event_type is malformed: ${eventType.slice(0, 80)}`);
  const topic = requireText(fields, 'topic', problems);
  const aggregateType = requireText(fields, 'aggregate_type', problems);
  const aggregateId = requireText(fields, 'aggregate_id', problems);
  const occurredAt = requireText(fields, 'occurred_at', problems);
  if (occurredAt && Number.isNaN(Date.parse(occurredAt)))
    problems.push(`occurred_at is not a time: ${occurredAt}`);
  const payload = parseJsonField(fields, 'payload', problems);
  const headers =
    fields.headers === undefined || fields.headers === NO_HEADERS
      ? {}
      : parseJsonField(fields, 'headers', problems);
  if (headers !== undefined && (headers === null || typeof headers !== 'object' || Array.isArray(headers))) {
    problems.push('headers is not a JSON object');
  }
  const schemaVersion = fields.schema_version === undefined ? SCHEMA_VERSION : Number(fields.schema_version);
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1)
    problems.push('schema_version is not a positive integer');
  if (problems.length > 0)
    throw new ValidationError(`unparseable event: ${problems.join('; ')}`, { problems });
  return {
    eventId,
    eventType,
    topic,
    aggregateType,
    aggregateId,
    payload: payload as JsonValue,
    occurredAt,
    outboxId: fields.outbox_id,
    headers: headers as EventHeaders,
    schemaVersion,
    ...(extra as E),
  };
};
