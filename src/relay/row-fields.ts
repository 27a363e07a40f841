// An outbox row as a stream entry (the fields of core/envelope.ts toStreamFields, same order), built
// straight from the stored JSON text, and the entry's size as Redis stores it.
import { SCHEMA_VERSION, type StreamFields } from '../core/envelope.ts';
import type { OutboxRow } from '../ports/outbox.ts';

const schemaVersion = String(SCHEMA_VERSION);

// payload and headers are already JSON text (jsonb::text), so the hot path never parses them.
export const rowStreamFields = (row: OutboxRow): StreamFields => ({
  event_id: row.eventId,
  event_type: row.eventType,
  topic: row.topic,
  aggregate_type: row.aggregateType,
  aggregate_id: row.aggregateId,
  payload: row.payloadJson,
  occurred_at: row.occurredAt,
  outbox_id: row.id,
  headers: row.headersJson,
  schema_version: schemaVersion,
});

/** Bytes of every field name and value in UTF-8. */
export const entryBytes = (fields: StreamFields): number => {
  let bytes = 0;
  for (const name in fields) bytes += Buffer.byteLength(name) + Buffer.byteLength(fields[name] as string);
  return bytes;
};

/**
 * Whether the entry exceeds `maxBytes`. A UTF-16 unit is at most 3 UTF-8 bytes, so most entries are
 * cleared from their string lengths alone, without encoding anything.
 */
export const isOversized = (fields: StreamFields, maxBytes: number): boolean => {
  let upperBound = 0;
  for (const name in fields) upperBound += name.length + (fields[name] as string).length;
  if (upperBound * 3 <= maxBytes) return false;
  return entryBytes(fields) > maxBytes;
};
