// Who is in a group, in SQL: XINFO CONSUMERS, XGROUP DELCONSUMER (only without pending entries), and
// the consumers' heartbeats (Redis keeps them in a hash).
import type { ConsumerInfo } from '../../../ports/bus.ts';
import type { SqliteDriver } from '../driver/driver.ts';
import { requireGroup } from './groups.ts';

export const consumerInfos = (db: SqliteDriver, stream: string, group: string): ConsumerInfo[] => {
  const target = requireGroup(db, stream, group).group;
  return db
    .prepare(`SELECT c.name AS name,
        (SELECT count(*) FROM bus_pending p WHERE p.group_id = c.group_id AND p.consumer = c.name) AS pending
      FROM bus_consumers c WHERE c.group_id = ? ORDER BY c.name`)
    .all<{ name: string; pending: number }>(target.id)
    .map((row) => ({ name: row.name, pending: Number(row.pending), idleMs: null }));
};

export const removeIdleConsumer = (
  db: SqliteDriver,
  stream: string,
  group: string,
  name: string,
): boolean => {
  const target = requireGroup(db, stream, group).group;
  const busy = db
    .prepare('SELECT 1 AS found FROM bus_pending WHERE group_id = ? AND consumer = ? LIMIT 1')
    .get(target.id, name);
  if (busy !== undefined) return false;
  return (
    db.prepare('DELETE FROM bus_consumers WHERE group_id = ? AND name = ?').run(target.id, name).changes > 0
  );
};

export const writeHeartbeat = (db: SqliteDriver, group: string, name: string, atMs: number): void => {
  db.prepare(`INSERT INTO bus_heartbeats (group_name, consumer, at_ms) VALUES (?, ?, ?)
    ON CONFLICT (group_name, consumer) DO UPDATE SET at_ms = excluded.at_ms`).run(group, name, atMs);
};

export const readHeartbeats = (db: SqliteDriver, group: string): Record<string, number> =>
  Object.fromEntries(
    db
      .prepare('SELECT consumer, at_ms FROM bus_heartbeats WHERE group_name = ?')
      .all<{ consumer: string; at_ms: number }>(group)
      .map((row) => [row.consumer, Number(row.at_ms)]),
  );

export const deleteHeartbeats = (db: SqliteDriver, group: string, names: readonly string[]): void => {
  const statement = db.prepare('DELETE FROM bus_heartbeats WHERE group_name = ? AND consumer = ?');
  for (const name of names) statement.run(group, name);
};
