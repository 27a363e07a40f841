// A write stores the user row and the outbox row together or not at all, also when the database
// connection dies between the two statements.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createUserService } from '../src/backend/user-service.ts';
import { TransientError } from '../src/core/errors.ts';
import type { Store, Tx } from '../src/ports/store.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { skipUnless } from './helpers/services.ts';

/** Fault injection: runs `beforeOutboxInsert` inside the transaction, just before the event is written. */
const storeWithFault = (store: Store, beforeOutboxInsert: (tx: Tx) => Promise<void>): Store => ({
  ...store,
  withTransaction: (callback) =>
    store.withTransaction((tx) =>
      callback({
        ...tx,
        outbox: {
          insert: async (events) => {
            await beforeOutboxInsert(tx);
            await tx.outbox.insert(events);
          },
        },
      }),
    ),
});

describe('atomic user + outbox writes', { skip: await skipUnless('postgres') }, () => {
  const db = useTestDatabase();

  const rowsFor = async (email: string) => {
    const [row] = await db.sql<{ users: number; outbox: number }[]>`
      select (select count(*)::int from users where email = ${email}) as users,
             (select count(*)::int from outbox where payload->>'email' = ${email}) as outbox`;
    return row;
  };

  it('leaves neither row when the connection is killed mid-write', async () => {
    const killing = storeWithFault(db.store, async (tx) => {
      await tx.query('select pg_terminate_backend(pg_backend_pid())');
    });
    await assert.rejects(
      createUserService(killing).create({ email: 'killed@example.com', displayName: 'K' }),
      TransientError,
    );
    assert.deepEqual(await rowsFor('killed@example.com'), { users: 0, outbox: 0 });
    // The pool recovers: the next write goes through.
    await createUserService(db.store).create({ email: 'after@example.com', displayName: 'A' });
    assert.deepEqual(await rowsFor('after@example.com'), { users: 1, outbox: 1 });
  });

  it('leaves neither row when the outbox insert fails', async () => {
    const failing = storeWithFault(db.store, async () => {
      throw new Error('disk full');
    });
    await assert.rejects(
      createUserService(failing).create({ email: 'failed@example.com', displayName: 'F' }),
      /disk full/,
    );
    assert.deepEqual(await rowsFor('failed@example.com'), { users: 0, outbox: 0 });
  });
});
