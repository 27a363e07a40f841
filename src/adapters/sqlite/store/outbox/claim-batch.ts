// SQLite claimBatch (mirrors postgres/outbox/claim-batch.ts): due rows deleted and returned in one
// statement, run at once (before the promise is returned), so claims run in the order made.
import type { OutboxRow } from '../../../../ports/outbox.ts';
import type { SqliteDriver } from '../../driver/driver.ts';
import { translateSqliteError } from '../../driver/errors.ts';
import { nowIso } from '../scope.ts';

type ClaimedRecord = {
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
};

const toRow = (record: ClaimedRecord): OutboxRow => ({
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
});

// Claim and delete in one statement; a rollback (publish failed, crash) puts every row back.
const claimSql = `DELETE FROM outbox WHERE id IN (
    SELECT o.id FROM outbox o
    WHERE o.next_attempt_at <= ?
      AND NOT EXISTS (
        SELECT 1 FROM outbox held
        WHERE held.attempts > 0 AND held.next_attempt_at > ?
          AND held.aggregate_type = o.aggregate_type AND held.aggregate_id = o.aggregate_id
          AND held.id < o.id)
    ORDER BY o.id
    LIMIT ?)
  RETURNING id, event_id, topic, event_type, aggregate_type, aggregate_id, payload, headers, occurred_at,
            attempts, first_failed_at, last_error`;

export const claimBatch = (db: SqliteDriver, limit: number): Promise<OutboxRow[]> => {
  const now = nowIso();
  try {
    return Promise.resolve(db.prepare(claimSql).all<ClaimedRecord>(now, now, limit).map(toRow));
  } catch (error) {
    return Promise.reject(translateSqliteError(error, 'database'));
  }
};

/** Whether a claim would find a due row, read without the write lock (outside any transaction). */
export const isAnythingDue = (db: SqliteDriver): boolean =>
  db.prepare('SELECT 1 AS due FROM outbox WHERE next_attempt_at <= ? LIMIT 1').get(nowIso()) !== undefined;
