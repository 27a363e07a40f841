// SQLite claimBatch (mirrors postgres/outbox/claim-batch.ts): due rows deleted and returned in one
// statement, run at once (before the promise is returned), so claims run in the order made.
import type { ClaimScope, OutboxRow } from '../../../../ports/outbox.ts';
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

// A scope keeps the claim (and the look for due rows) to its partitions.
const inScope = 'AND (o.partition_hash % ?) IN (SELECT value FROM json_each(?))';

const scopeParams = (scope: ClaimScope | undefined): Array<number | string> =>
  scope ? [scope.count, JSON.stringify(scope.partitions)] : [];

// Claim and delete in one statement; a rollback (publish failed, crash) puts every row back.
const claimSql = (scoped: boolean): string => `DELETE FROM outbox WHERE id IN (
    SELECT o.id FROM outbox o
    WHERE o.next_attempt_at <= ? ${scoped ? inScope : ''}
      AND NOT EXISTS (
        SELECT 1 FROM outbox held
        WHERE held.attempts > 0 AND held.next_attempt_at > ?
          AND held.aggregate_type = o.aggregate_type AND held.aggregate_id = o.aggregate_id
          AND held.id < o.id)
    ORDER BY o.id
    LIMIT ?)
  RETURNING id, event_id, topic, event_type, aggregate_type, aggregate_id, payload, headers, occurred_at,
            attempts, first_failed_at, last_error`;

const claimAll = claimSql(false);
const claimScoped = claimSql(true);

export const claimBatch = (
  db: SqliteDriver,
  limit: number,
  scope: ClaimScope | undefined,
): Promise<OutboxRow[]> => {
  const now = nowIso();
  try {
    const statement = db.prepare(scope ? claimScoped : claimAll);
    return Promise.resolve(statement.all<ClaimedRecord>(now, ...scopeParams(scope), now, limit).map(toRow));
  } catch (error) {
    return Promise.reject(translateSqliteError(error, 'database'));
  }
};

const dueSql = (scoped: boolean): string =>
  `SELECT 1 AS due FROM outbox o WHERE o.next_attempt_at <= ? ${scoped ? inScope : ''} LIMIT 1`;
const dueAll = dueSql(false);
const dueScoped = dueSql(true);

/** Whether a claim would find a due row of the scope, read without the write lock (outside any transaction). */
export const isAnythingDue = (db: SqliteDriver, scope: ClaimScope | undefined): boolean =>
  db.prepare(scope ? dueScoped : dueAll).get(nowIso(), ...scopeParams(scope)) !== undefined;
