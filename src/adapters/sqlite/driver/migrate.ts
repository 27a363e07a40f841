// Applies migrations/sqlite as planned (migration-plan.ts). The whole run is one BEGIN IMMEDIATE
// transaction: a second process waits for the first and then finds nothing to do. An up-to-date
// file is recognised by a plain read, so opening it never waits for the write lock.
import type { MigrationReport } from '../../../ports/store.ts';
import type { Migration } from '../../migration-files.ts';
import { isUpToDate, planMigrations, type RecordedMigrations, reportOf } from '../../migration-plan.ts';
import type { SqliteConnection } from './connection.ts';
import type { SqliteDriver } from './driver.ts';

const recordedMigrations = (db: SqliteDriver): RecordedMigrations =>
  new Map(
    db
      .prepare('SELECT name, checksum FROM mm_migrations')
      .all<{ name: string; checksum: string }>()
      .map((row) => [row.name, row.checksum]),
  );

const upToDate = async (connection: SqliteConnection, migrations: readonly Migration[]): Promise<boolean> => {
  try {
    return isUpToDate(migrations, await connection.read(recordedMigrations, 'database'));
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
    const plan = planMigrations(migrations, recordedMigrations(db));
    for (const migration of plan.pending) {
      db.exec(migration.sql);
      db.prepare('INSERT INTO mm_migrations (name, checksum) VALUES (?, ?)').run(
        migration.name,
        migration.checksum,
      );
    }
    return reportOf(plan);
  }, 'database');
};
