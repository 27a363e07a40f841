// Whether the relay can turn a claimed outbox row into an event at all. A row it cannot (a time
// JavaScript cannot hold, a malformed or dead-letter topic, headers that are not an object, an entry
// over --max-event-bytes) is a poison row: it alone is dead-lettered at once, never retried, and
// its aggregate's later rows wait behind it.

import { dlqStreamOf, type StreamFields } from '../core/envelope.ts';
import { type EventProblem, eventProblem } from '../core/event-check.ts';
import { entryBytes, isOversized } from './row-fields.ts';

/**
 * Where dead letters of rows with an unusable topic go: `<topic>.dlq` cannot be named for them.
 * `mm-dlq list|report --stream outbox.dlq` shows them.
 */
export const OUTBOX_DLQ_STREAM = 'outbox.dlq';

export type PoisonRow = EventProblem & { readonly dlqStream: string };

/** The problem that makes this row unpublishable, and where its dead letter goes; undefined when fine. */
export const checkRow = (fields: StreamFields, maxEventBytes: number): PoisonRow | undefined => {
  const problem = eventProblem(fields);
  if (problem) {
    const dlqStream = problem.column === 'topic' ? OUTBOX_DLQ_STREAM : dlqStreamOf(fields.topic as string);
    return { ...problem, dlqStream };
  }
  if (isOversized(fields, maxEventBytes)) {
    return {
      column: 'payload',
      reason: `event is ${entryBytes(fields)} bytes, over --max-event-bytes ${maxEventBytes}`,
      dlqStream: dlqStreamOf(fields.topic as string),
    };
  }
  return undefined;
};
