// Applies migrations/postgres as planned (migration-plan.ts) under an advisory lock, so concurrent
// runs are safe: the second one waits and then finds nothing to do.
import type postgres from 'postgres';
import type { MigrationReport } from '../../ports/store.ts';
import type { Migration } from '../migration-files.ts';
import { planMigrations, reportOf } from '../migration-plan.ts';
import { pgCall } from './errors.ts';

const MIGRATION_LOCK = { space: 0x6d6d, key: 0 } as const;

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
      const recorded = await tx<
        { name: string; checksum: string }[]
      >`select name, checksum from mm_migrations`;
      const plan = planMigrations(migrations, new Map(recorded.map((r) => [r.name, r.checksum])));
      for (const migration of plan.pending) {
        await tx.unsafe(migration.sql).simple();
        await tx`insert into mm_migrations (name, checksum) values (${migration.name}, ${migration.checksum})`;
      }
      return reportOf(plan);
    }),
  );
