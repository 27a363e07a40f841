// Which migrations a run applies, the same for both dialects: every numbered file in order, each
// recorded with its checksum; a file that changed after it was applied stops the run (add a new one
// instead). Each adapter only runs the plan's pending files in its own transaction and records them.
import { createHash } from 'node:crypto';
import { MmError } from '../core/errors.ts';
import type { MigrationReport } from '../ports/store.ts';
import type { Migration } from './migration-files.ts';

export type PlannedMigration = Migration & { readonly checksum: string };

export type MigrationPlan = {
  /** Not yet applied, in the order to apply them. */
  readonly pending: readonly PlannedMigration[];
  readonly alreadyApplied: readonly string[];
};

/** Name to checksum of what the database's mm_migrations table holds. */
export type RecordedMigrations = ReadonlyMap<string, string>;

export const checksumOf = (sql: string): string => createHash('sha256').update(sql).digest('hex');

export const planMigrations = (
  migrations: readonly Migration[],
  recorded: RecordedMigrations,
): MigrationPlan => {
  const pending: PlannedMigration[] = [];
  const alreadyApplied: string[] = [];
  for (const migration of migrations) {
    const checksum = checksumOf(migration.sql);
    const previous = recorded.get(migration.name);
    if (previous === undefined) pending.push({ ...migration, checksum });
    else if (previous === checksum) alreadyApplied.push(migration.name);
    else {
      throw new MmError('CONFIG', `migration ${migration.name} changed after it was applied; add a new one`);
    }
  }
  return { pending, alreadyApplied };
};

/** Whether every migration is recorded unchanged: nothing to do, and no reason to take a lock. */
export const isUpToDate = (migrations: readonly Migration[], recorded: RecordedMigrations): boolean =>
  migrations.every((m) => recorded.get(m.name) === checksumOf(m.sql));

/** The report of a plan whose pending migrations were all applied. */
export const reportOf = (plan: MigrationPlan): MigrationReport => ({
  applied: plan.pending.map((m) => m.name),
  alreadyApplied: [...plan.alreadyApplied],
});
