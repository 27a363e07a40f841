// SQLite backlog (mirrors postgres/outbox/read-backlog.ts): how many rows wait and how old the oldest is.
// Dead rows are the DLQ's to count; the rows they hold back are counted here.
import type { OutboxBacklog } from '../../../../ports/outbox.ts';
import type { SqliteDriver } from '../../driver/driver.ts';

export const readBacklog = (db: SqliteDriver, topic?: string): OutboxBacklog => {
  const select = 'SELECT count(*) AS count, min(occurred_at) AS oldest FROM outbox WHERE dead_at IS NULL';
  const row =
    topic === undefined
      ? db.prepare(select).get<{ count: number; oldest: string | null }>()
      : db.prepare(`${select} AND topic = ?`).get<{ count: number; oldest: string | null }>(topic);
  const oldest = row?.oldest ? Date.parse(row.oldest) : Number.NaN;
  return {
    count: row?.count ?? 0,
    oldestAgeSeconds: Number.isNaN(oldest) ? 0 : Math.max(0, (Date.now() - oldest) / 1000),
  };
};
