// Postgres backlog (mirrors sqlite/store/outbox/read-backlog.ts): how many rows wait and how old the
// oldest is. Dead rows are the DLQ's to count; the rows they hold back are counted here.
import type postgres from 'postgres';
import type { OutboxBacklog } from '../../../ports/outbox.ts';

export const readBacklog = async (sql: postgres.Sql, topic?: string): Promise<OutboxBacklog> => {
  const [row] = await sql<{ count: number; oldest: number | null }[]>`
    select count(*)::int as count,
           extract(epoch from (now() - min(occurred_at)))::float8 as oldest
    from outbox
    where dead_at is null ${topic === undefined ? sql`` : sql`and topic = ${topic}`}`;
  return { count: row?.count ?? 0, oldestAgeSeconds: Math.max(0, row?.oldest ?? 0) };
};
