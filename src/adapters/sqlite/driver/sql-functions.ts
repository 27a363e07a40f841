// SQL functions the SQLite schema relies on, registered on every connection (SQLite has no stored
// functions): they must compute exactly what their Postgres namesakes in migrations/postgres do.
import { partitionHash } from '../../../core/partitions.ts';
import type { SqliteDriver, SqlValue } from './driver.ts';

/** mm_partition_hash(text): feeds the generated column outbox.partition_hash (migration 010). */
const mmPartitionHash = (value: SqlValue): SqlValue =>
  value === null || value === undefined ? null : partitionHash(String(value));

export const defineSqlFunctions = (db: Pick<SqliteDriver, 'defineFunction'>): void => {
  db.defineFunction('mm_partition_hash', (value) => mmPartitionHash(value ?? null));
};
