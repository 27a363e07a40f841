// The Postgres Store: postgres.js (porsager) with one pool per process and translated errors.
import postgres from 'postgres';
import type { Store, Tx } from '../../ports/store.ts';
import { readMigrations } from '../migration-files.ts';
import { guardTransaction } from './ended-guard.ts';
import { pgCall } from './errors.ts';
import { createPostgresFences, createPostgresLeases } from './leases.ts';
import { createPostgresLedgerReader, createPostgresLedgerWriter } from './ledger.ts';
import { createPostgresLintProfiles } from './lint-profiles.ts';
import { migratePostgres } from './migrate.ts';
import { createPostgresOutboxRelay, createPostgresOutboxWriter } from './outbox.ts';
import { createPostgresParking } from './parking.ts';
import { createPostgresUsers } from './users.ts';

export type PostgresStoreOptions = {
  readonly url: string;
  /** Pool size; the relay and consumer need few, the backend more. */
  readonly maxConnections?: number;
  readonly applicationName?: string;
  readonly connectTimeoutS?: number;
};

const createTx = (sql: postgres.TransactionSql): Tx => ({
  outbox: createPostgresOutboxWriter(sql),
  users: createPostgresUsers(sql),
  ledger: createPostgresLedgerWriter(sql),
  lintProfiles: createPostgresLintProfiles(sql),
  fences: createPostgresFences(sql),
  parking: createPostgresParking(sql),
  query: async <Row>(text: string, params: readonly unknown[] = []) =>
    (await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[])) as unknown as Row[],
  savepoint: (callback) => sql.savepoint((inner) => callback(createTx(inner))) as never,
});

export const createPostgresClient = (options: PostgresStoreOptions): postgres.Sql =>
  postgres(options.url, {
    max: options.maxConnections ?? 10,
    connect_timeout: options.connectTimeoutS ?? 5,
    idle_timeout: 60,
    // postgres.js waits up to 20 s between reconnects by default; a query queued meanwhile (a health
    // check) would outlast its timeout instead of saying why the database is unreachable. At most 1 s,
    // with jitter so the pool's connections do not reconnect in step.
    backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** retries, 1),
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? 'mm' },
  });

export const createPostgresStore = (options: PostgresStoreOptions): Store => {
  const sql = createPostgresClient(options);
  return {
    kind: 'postgres',
    withTransaction: (callback) =>
      pgCall(
        () =>
          sql.begin(async (tx) => {
            const guarded = guardTransaction(tx);
            try {
              return await callback(createTx(guarded.sql));
            } finally {
              guarded.end();
            }
          }) as Promise<never>,
      ),
    outbox: createPostgresOutboxRelay(sql),
    ledger: createPostgresLedgerReader(sql),
    leases: createPostgresLeases(sql),
    parking: createPostgresParking(sql),
    migrate: () => migratePostgres(sql, readMigrations('postgres')),
    ping: () => pgCall(async () => void (await sql`select 1`)),
    close: () => sql.end({ timeout: 2 }),
  };
};
