// SQLite dead rows (mirrors postgres/outbox/dead-rows.ts): the outbox rows kept after their dead
// letter was written, found by that dead letter, and deleted when mm-dlq closes it.
import type { DeadLetterRef, DeadOutboxRow } from '../../../../ports/outbox.ts';
import type { SqliteDriver } from '../../driver/driver.ts';

type DeadRecord = {
  id: number;
  event_id: string;
  topic: string;
  event_type: string;
  aggregate_type: string;
  aggregate_id: string;
  payload: string;
  headers: string;
  occurred_at: string;
  attempts: number;
  first_failed_at: string | null;
  last_error: string | null;
  dead_at: string;
};

export const readDeadRow = (db: SqliteDriver, ref: DeadLetterRef): DeadOutboxRow | undefined => {
  const record = db
    .prepare(
      `SELECT id, event_id, topic, event_type, aggregate_type, aggregate_id, payload, headers, occurred_at,
              attempts, first_failed_at, last_error, dead_at
       FROM outbox WHERE dead_at IS NOT NULL AND dlq_stream = ? AND dlq_id = ? LIMIT 1`,
    )
    .get<DeadRecord>(ref.stream, ref.id);
  if (!record) return undefined;
  return {
    id: String(record.id),
    eventId: record.event_id,
    topic: record.topic,
    eventType: record.event_type,
    aggregateType: record.aggregate_type,
    aggregateId: record.aggregate_id,
    payloadJson: record.payload,
    headersJson: record.headers,
    occurredAt: record.occurred_at,
    attempts: record.attempts,
    firstFailedAt: record.first_failed_at,
    lastError: record.last_error,
    deadAt: record.dead_at,
    deadLetter: ref,
  };
};

export const releaseDeadRow = (db: SqliteDriver, ref: DeadLetterRef): boolean =>
  db
    .prepare('DELETE FROM outbox WHERE dead_at IS NOT NULL AND dlq_stream = ? AND dlq_id = ?')
    .run(ref.stream, ref.id).changes > 0;
