// SQLite reinstate (mirrors postgres/outbox/reinstate-rows.ts): claimed rows back under their own ids,
// with the history the relay gives them. A dead row goes back with next_attempt_at 'infinity', which
// sorts after every ISO time: never due, and (attempts > 0) holding its aggregate's later rows.
import type { ReinstatedRow } from '../../../../ports/outbox.ts';
import type { SqliteDriver } from '../../driver/driver.ts';

const reinstateSql = `INSERT INTO outbox (id, event_id, topic, event_type, aggregate_type, aggregate_id, payload,
    headers, occurred_at, attempts, next_attempt_at, first_failed_at, last_error, dead_at, dlq_stream, dlq_id)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

export const reinstateRows = (db: SqliteDriver, rows: readonly ReinstatedRow[]): void => {
  const statement = db.prepare(reinstateSql);
  const now = new Date().toISOString();
  for (const row of rows) {
    statement.run(
      Number(row.id),
      row.eventId,
      row.topic,
      row.eventType,
      row.aggregateType,
      row.aggregateId,
      row.payloadJson,
      row.headersJson,
      row.occurredAt,
      row.attempts,
      row.dead ? 'infinity' : row.nextAttemptAt.toISOString(),
      row.firstFailedAt,
      row.lastError,
      row.dead ? now : null,
      row.dead?.stream ?? null,
      row.dead?.id ?? null,
    );
  }
};
