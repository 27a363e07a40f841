// Applies migrations/sqlite in order, once each, recorded with checksums. The whole run is one
// BEGIN IMMEDIATE transaction: a second process waits for the first and then finds nothing to do.
// An up-to-date file is recognised by a plain read, so opening it never waits for the write lock.
import { createHash } from 'node:crypto';
import { MmError } from '../../../core/errors.ts';
import type { MigrationReport } from '../../../ports/store.ts';
import type { Migration } from '../../migration-files.ts';
import type { SqliteConnection } from './connection.ts';
import type { SqliteDriver } from './driver.ts';

export const checksumOf = (sql: string): string => createHash('sha256').update(sql).digest('hex');

const recordedMigrations = (db: SqliteDriver): Map<string, string> =>
  new Map(
    db
      .prepare('SELECT name, checksum FROM mm_migrations')
      .all<{ name: string; checksum: string }>()
      .map((row) => [row.name, row.checksum]),
  );

/** Whether every migration is recorded as it is, read without the write lock (none is taken then). */
const upToDate = async (connection: SqliteConnection, migrations: readonly Migration[]): Promise<boolean> => {
  try {
    const recorded = await connection.read(recordedMigrations, 'database');
    return migrations.every((m) => recorded.get(m.name) === checksumOf(m.sql));
  } catch {
    return false; // a fresh file has no mm_migrations yet
  }
};

export const migrateSqlite = async (
  connection: SqliteConnection,
  migrations: readonly Migration[],
): Promise<MigrationReport> => {
  if (await upToDate(connection, migrations))
    return { applied: [], alreadyApplied: migrations.map((m) => m.name) };
  return connection.write((db) => {
    db.exec(`CREATE TABLE IF NOT EXISTS mm_migrations (
      name       TEXT NOT NULL PRIMARY KEY,
      checksum   TEXT NOT NULL,
      applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    ) STRICT`);
    const recorded = recordedMigrations(db);
    const report: MigrationReport = { applied: [], alreadyApplied: [] };
    for (const migration of migrations) {
      const checksum = checksumOf(migration.sql);
      const previous = recorded.get(migration.name);
      if (previous !== undefined) {
        if (previous !== checksum) {
          throw new MmError(
            'CONFIG',
            `migration ${migration.name} changed after it was applied; add a new one`,
          );
        }
        report.alreadyApplied.push(migration.name);
        continue;
      }
      db.exec(migration.sql);
      db.prepare('INSERT INTO mm_migrations (name, checksum) VALUES (?, ?)').run(migration.name, checksum);
      report.applied.push(migration.name);
    }
    return report;
  }, 'database');
};
