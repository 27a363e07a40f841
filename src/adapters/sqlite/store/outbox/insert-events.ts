// SQLite outbox insert (mirrors postgres/outbox/insert-events.ts): the backend's batch of new events,
// inside its transaction.
import type { NewOutboxEvent } from '../../../../ports/outbox.ts';
import type { SqliteDriver } from '../../driver/driver.ts';
import { nowIso, uuidParam } from '../scope.ts';

const insertSql = `INSERT INTO outbox (event_id, topic, event_type, aggregate_type, aggregate_id, payload, headers, occurred_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;

export const insertEvents = (db: SqliteDriver, events: readonly NewOutboxEvent[]): void => {
  const statement = db.prepare(insertSql);
  const at = nowIso();
  for (const e of events) {
    statement.run(
      uuidParam(e.eventId, 'event_id'),
      e.topic,
      e.eventType,
      e.aggregateType,
      e.aggregateId,
      JSON.stringify(e.payload),
      JSON.stringify(e.headers ?? {}),
      at,
    );
  }
};
