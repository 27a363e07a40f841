// What an event must be before it goes on a topic stream: the same rules the consumer's envelope
// parser applies (core/envelope.ts), checked on the stream fields without parsing the payload, plus
// the size limit. The relay checks every claimed row with it; mm-dlq checks what it republishes.
import { isEventType, isTopicName, type StreamFields } from './envelope.ts';
import { isUuid } from './ids.ts';

/** One field that makes the event unpublishable, named by its outbox column. */
export type EventProblem = { readonly column: string; readonly reason: string };

// ISO 8601 UTC with a four-digit year: what every reader parses and what sorts as text in local mode.
const isoTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

const excerpt = (value: string): string =>
  JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);

/** Whether a topic is one the relay may publish to: well-formed, and not a dead-letter or audit stream. */
export const topicProblem = (topic: string): string | undefined =>
  isTopicName(topic)
    ? undefined
    : topic.endsWith('.dlq') || topic.endsWith('.audit')
      ? `topic ${excerpt(topic)} names a dead-letter or audit stream`
      : `topic ${excerpt(topic)} is not a topic name (lower case, dot-separated, at most 100 characters)`;

/**
 * The first problem that keeps these fields from being a valid event on a topic stream, or undefined.
 * Cheap on the hot path: headers are checked for being an object by their first character (the
 * stores hold valid JSON), the payload not at all (any JSON value is an event's payload).
 */
export const eventProblem = (fields: StreamFields): EventProblem | undefined => {
  const topic = topicProblem(fields.topic ?? '');
  if (topic) return { column: 'topic', reason: topic };
  const occurredAt = fields.occurred_at ?? '';
  if (!isoTime.test(occurredAt) || !Number.isFinite(Date.parse(occurredAt)))
    return {
      column: 'occurred_at',
      reason: `occurred_at ${excerpt(occurredAt)} is not a time between years 1 and 9999`,
    };
  if (!(fields.headers ?? '{}').trimStart().startsWith('{'))
    return { column: 'headers', reason: 'headers is not a JSON object' };
  if (!isEventType(fields.event_type ?? ''))
    return { column: 'event_type', reason: `event_type ${excerpt(fields.event_type ?? '')} is malformed` };
  if (!isUuid(fields.event_id ?? ''))
    return { column: 'event_id', reason: `event_id ${excerpt(fields.event_id ?? '')} is not a UUID` };
  if (!fields.aggregate_type) return { column: 'aggregate_type', reason: 'aggregate_type is empty' };
  if (!fields.aggregate_id) return { column: 'aggregate_id', reason: 'aggregate_id is empty' };
  return undefined;
};
