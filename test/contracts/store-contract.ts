// The Store contract: every behaviour of src/ports/store.ts (and its parts) the services rely on, run
// unchanged against Postgres and SQLite.
import { afterEach, beforeEach, describe } from 'node:test';
import { uuidv7 } from '../../src/core/ids.ts';
import type { OutboxRow } from '../../src/ports/outbox.ts';
import { drainOutbox } from '../../src/relay/drain-outbox.ts';
import type { StoreFactory, StoreFixture, StoreKit } from './store-kit.ts';
import { storeLeasesCases } from './store-leases.ts';
import { storeOutboxCases } from './store-outbox.ts';
import { storeParkingCases } from './store-parking.ts';
import { storePartitionsCases } from './store-partitions.ts';
import { storeRecordsCases } from './store-records.ts';
import { storeRelayStatementsCases } from './store-relay-statements.ts';
import { storeTransactionsCases } from './store-transactions.ts';

export type { StoreFactory, StoreFixture } from './store-kit.ts';

export const describeStoreContract = (
  name: string,
  factory: StoreFactory,
  options: { skip?: string | false } = {},
): void => {
  describe(`Store contract: ${name}`, { skip: options.skip ?? false }, () => {
    let current: StoreFixture | undefined;
    const fixture = (): StoreFixture => {
      if (!current) throw new Error('no fixture outside a test');
      return current;
    };

    beforeEach(async () => {
      current = await factory();
    });

    afterEach(async () => {
      await current?.cleanup();
      current = undefined;
    });

    const kit: StoreKit = {
      get store() {
        return fixture().store;
      },
      get fixture() {
        return fixture();
      },
      insert: (...events) => fixture().store.withTransaction((tx) => tx.outbox.insert(events)),
      drain: (options, handle) => drainOutbox(fixture().store.outbox, options, handle),
      drainAll: async () => {
        const seen: OutboxRow[] = [];
        await drainOutbox(fixture().store.outbox, { limit: 1000 }, async (rows) => {
          seen.push(...rows);
          return { retry: [] };
        });
        return seen;
      },
      newUser: (tx, email = `${uuidv7()}@example.com`) =>
        tx.users.insert({ id: uuidv7(), email, displayName: 'Ada' }),
    };

    storeTransactionsCases(kit);
    storeOutboxCases(kit);
    storeRelayStatementsCases(kit);
    storeRecordsCases(kit);
    storePartitionsCases(kit);
    storeLeasesCases(kit);
    storeParkingCases(kit);
  });
};
