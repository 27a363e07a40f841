// The ServiceRegistry in the local file (mirrors adapters/redis/service-registry.ts): one row per
// service with its expiry; expired rows are deleted by the next announce.
import type { ServiceRecord, ServiceRegistry } from '../../ports/service-registry.ts';
import type { SqliteConnection } from './driver/connection.ts';

type Row = { record: string };

export const createSqliteServiceRegistry = (
  connection: SqliteConnection,
  options: { readonly now?: () => number } = {},
): ServiceRegistry => {
  const now = options.now ?? Date.now;
  return {
    announce: async (record, { ttlMs }) => {
      const at = now();
      await connection.write((db) => {
        db.prepare('DELETE FROM service_registry WHERE expires_at_ms <= ?').run(at);
        db.prepare(
          `INSERT INTO service_registry (role, name, record, expires_at_ms) VALUES (?, ?, ?, ?)
           ON CONFLICT (role, name) DO UPDATE SET record = excluded.record, expires_at_ms = excluded.expires_at_ms`,
        ).run(record.role, record.name, JSON.stringify(record), at + ttlMs);
      }, 'database');
    },
    withdraw: async (role, name) => {
      await connection.write(
        (db) => db.prepare('DELETE FROM service_registry WHERE role = ? AND name = ?').run(role, name),
        'database',
      );
    },
    list: async () => {
      const rows = await connection.read(
        (db) =>
          db
            .prepare('SELECT record FROM service_registry WHERE expires_at_ms > ? ORDER BY role, name')
            .all<Row>(now()),
        'database',
      );
      return rows.map((row) => JSON.parse(row.record) as ServiceRecord);
    },
  };
};
