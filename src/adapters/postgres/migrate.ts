// Applies migrations/postgres in order, once each, under an advisory lock so concurrent runs are safe.
import { createHash } from 'node:crypto';
import type postgres from 'postgres';
import { MmError } from '../../core/errors.ts';
import type { MigrationReport } from '../../ports/store.ts';
import type { Migration } from '../migration-files.ts';
import { pgCall } from './errors.ts';

const MIGRATION_LOCK = { space: 0x6d6d, key: 0 } as const;

export const checksumOf = (sql: string): string => createHash('sha256').update(sql).digest('hex');

export const migratePostgres = (
  sql: postgres.Sql,
  migrations: readonly Migration[],
): Promise<MigrationReport> =>
  pgCall(() =>
    sql.begin(async (tx) => {
      // The lock comes first: it needs no table, so two processes never race to create mm_migrations.
      await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK.space}, ${MIGRATION_LOCK.key})`;
      await tx`
        create table if not exists mm_migrations (
          name text primary key,
          checksum text not null,
          applied_at timestamptz not null default now())`;
      const recorded = new Map(
        (await tx<{ name: string; checksum: string }[]>`select name, checksum from mm_migrations`).map(
          (r) => [r.name, r.checksum],
        ),
      );
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
        await tx.unsafe(migration.sql).simple();
        await tx`insert into mm_migrations (name, checksum) values (${migration.name}, ${checksum})`;
        report.applied.push(migration.name);
      }
      return report;
    }),
  );
