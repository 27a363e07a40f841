// Runs the Store contract against Postgres (a database for this file) and SQLite (a temp file per test).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { createPostgresStore } from '../src/adapters/postgres/store.ts';
import { openSqliteStore } from '../src/adapters/sqlite/store/store.ts';
import type { Store } from '../src/ports/store.ts';
import { describeStoreContract } from './contracts/store-contract.ts';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.ts';
import { skipUnless } from './helpers/services.ts';

// One database for the file (creating one per test costs a second each); every test starts from
// empty tables with fresh id sequences.
let database: TestDatabase | undefined;
after(() => database?.drop());

describeStoreContract(
  'postgres',
  async () => {
    database ??= await createTestDatabase();
    const { url } = database;
    await database.sql`truncate outbox, event_ledger, users, lint_profiles, leases, lease_members,
      parked_events, aggregate_blocks restart identity`;
    const opened = [createPostgresStore({ url, maxConnections: 5 })];
    return {
      store: opened[0] as Store,
      another: async () => {
        const store = createPostgresStore({ url, maxConnections: 2 });
        opened.push(store);
        return store;
      },
      cleanup: async () => {
        await Promise.all(opened.map((store) => store.close()));
      },
    };
  },
  { skip: await skipUnless('postgres') },
);

describeStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-store-'));
  const file = join(dir, 'local.db');
  const store = await openSqliteStore({ file });
  return {
    store,
    another: () => openSqliteStore({ file }),
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
