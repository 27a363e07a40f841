// A fresh Postgres database per test file (unique name, migrated, dropped after).
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import postgres from 'postgres';
import { createPostgresStore } from '../../src/adapters/postgres/store.ts';
import type { Store } from '../../src/ports/store.ts';
import { POSTGRES_ADMIN_URL } from './services.ts';

export type TestDatabase = {
  readonly url: string;
  readonly name: string;
  /** A raw client on the test database, for assertions. */
  readonly sql: postgres.Sql;
  /** A migrated Store on the test database. */
  readonly store: Store;
  drop(): Promise<void>;
};

export const databaseUrl = (name: string): string => {
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
};

export const createTestDatabase = async (options: { migrate?: boolean } = {}): Promise<TestDatabase> => {
  const name = `mm_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = databaseUrl(name);
  const store = createPostgresStore({ url, maxConnections: 5, applicationName: 'mm-test' });
  if (options.migrate !== false) await store.migrate();
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  return {
    url,
    name,
    sql,
    store,
    drop: async () => {
      await Promise.allSettled([store.close(), sql.end({ timeout: 1 })]);
      const cleanup = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => {} });
      await cleanup.unsafe(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
};

export type UsedDatabase = Omit<TestDatabase, 'drop'>;

/**
 * A test database for the enclosing describe: created in a `before` hook, dropped in an `after` hook
 * registered here (hooks run in the order they are registered, so call it before hooks that use
 * it). Its fields can be read from those hooks and the tests, not while the describe body runs.
 */
export const useTestDatabase = (options: { migrate?: boolean } = {}): UsedDatabase => {
  let current: TestDatabase | undefined;
  before(async () => {
    current = await createTestDatabase(options);
  });
  after(async () => {
    await current?.drop();
    current = undefined;
  });
  const now = (): TestDatabase => {
    if (!current)
      throw new Error('the test database exists only while its describe runs (see useTestDatabase)');
    return current;
  };
  return {
    get url() {
      return now().url;
    },
    get name() {
      return now().name;
    },
    get sql() {
      return now().sql;
    },
    get store() {
      return now().store;
    },
  };
};
