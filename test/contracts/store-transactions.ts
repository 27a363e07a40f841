// Store contract cases: transactions, savepoints and raw SQL.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConflictError } from '../../src/core/errors.ts';
import { uuidv7 } from '../../src/core/ids.ts';
import type { Tx } from '../../src/ports/store.ts';
import { event, gate, Rollback, type StoreKit } from './store-kit.ts';

export const storeTransactionsCases = (t: StoreKit): void => {
  const { newUser } = t;

  describe('transactions', () => {
    it('commits when the callback resolves and returns its value', async () => {
      const { user, answer } = await t.store.withTransaction(async (tx) => ({
        user: await newUser(tx),
        answer: 42,
      }));
      assert.equal(answer, 42);
      assert.deepEqual(await t.store.withTransaction((tx) => tx.users.get(user.id)), user);
    });

    it('rolls back everything when the callback throws, and rethrows', async () => {
      const id = uuidv7();
      await assert.rejects(
        t.store.withTransaction(async (tx) => {
          await tx.users.insert({ id, email: 'gone@example.com', displayName: 'Gone' });
          await tx.outbox.insert([event(id, 1)]);
          throw new Rollback('changed my mind');
        }),
        Rollback,
      );
      assert.equal(await t.store.withTransaction((tx) => tx.users.get(id)), undefined);
      assert.equal((await t.store.outbox.backlog()).count, 0);
    });

    it('refuses a statement sent through a transaction that has ended, committed or rolled back', async () => {
      let kept: Tx | undefined;
      await t.store.withTransaction(async (tx) => {
        kept = tx;
      });
      const late = uuidv7();
      await assert.rejects(
        (kept as Tx).users.insert({ id: late, email: 'late@example.com', displayName: 'Late' }),
        /transaction has already ended/,
      );
      await assert.rejects(
        t.store.withTransaction(async (tx) => {
          kept = tx;
          throw new Rollback('changed my mind');
        }),
        Rollback,
      );
      await assert.rejects((kept as Tx).query('select 1'), /transaction has already ended/);
      assert.equal(await t.store.withTransaction((tx) => tx.users.get(late)), undefined);
    });

    it('shows nothing to others before the commit', async () => {
      const held = gate();
      const entered = gate();
      const writing = t.store.withTransaction(async (tx) => {
        await tx.outbox.insert([event('a', 1)]);
        entered.open();
        await held.wait;
      });
      await entered.wait;
      assert.equal((await t.store.outbox.backlog()).count, 0);
      held.open();
      await writing;
      assert.equal((await t.store.outbox.backlog()).count, 1);
    });

    it('undoes only a failed savepoint, which rethrows', async () => {
      const kept = uuidv7();
      const undone = uuidv7();
      await t.store.withTransaction(async (tx) => {
        await tx.users.insert({ id: kept, email: 'kept@example.com', displayName: 'Kept' });
        await assert.rejects(
          tx.savepoint(async (inner) => {
            await inner.users.insert({ id: undone, email: 'undone@example.com', displayName: 'Undone' });
            throw new Rollback('inner');
          }),
          Rollback,
        );
        const nested = await tx.savepoint(async (inner) => {
          await inner.outbox.insert([event(kept, 1)]);
          return inner.savepoint(async (deeper) => (await deeper.users.get(kept))?.email);
        });
        assert.equal(nested, 'kept@example.com');
      });
      const [keptUser, undoneUser] = await t.store.withTransaction(async (tx) => [
        await tx.users.get(kept),
        await tx.users.get(undone),
      ]);
      assert.equal(keptUser?.email, 'kept@example.com');
      assert.equal(undoneUser, undefined);
      assert.equal((await t.store.outbox.backlog()).count, 1);
    });

    it('runs raw SQL with $n parameters in any order', async () => {
      const user = await t.store.withTransaction((tx) => newUser(tx, 'raw@example.com'));
      const rows = await t.store.withTransaction((tx) =>
        tx.query<{ email: string; display_name: string }>(
          'select email, display_name from users where display_name = $2 and email = $1',
          ['raw@example.com', 'Ada'],
        ),
      );
      assert.deepEqual(
        rows.map((r) => ({ ...r })),
        [{ email: 'raw@example.com', display_name: 'Ada' }],
      );
      const written = await t.store.withTransaction((tx) =>
        tx.query('update users set display_name = $1 where id = $2', ['Grace', user.id]),
      );
      assert.equal(written.length, 0);
      assert.equal((await t.store.withTransaction((tx) => tx.users.get(user.id)))?.displayName, 'Grace');
    });

    it('translates a unique violation in raw SQL into ConflictError', async () => {
      const id = uuidv7();
      const sql = 'insert into users (id, email, display_name) values ($1, $2, $3)';
      await t.store.withTransaction((tx) => tx.query(sql, [id, 'one@example.com', 'One']));
      await assert.rejects(
        t.store.withTransaction((tx) => tx.query(sql, [id, 'two@example.com', 'Two'])),
        ConflictError,
      );
    });
  });
};
