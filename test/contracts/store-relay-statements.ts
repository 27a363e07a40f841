// Store contract cases: the relay's outbox statements on their own (the lock, claims in the order made
// even while one is still out, rows put back as given), which the drain policy in src/relay relies on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OutboxRow } from '../../src/ports/outbox.ts';
import { event, gate, type StoreKit } from './store-kit.ts';

const ids = (rows: readonly OutboxRow[]): string[] => rows.map((r) => r.eventId).sort();

export const storeRelayStatementsCases = (t: StoreKit): void => {
  const { insert, drainAll } = t;

  describe('relay statements', () => {
    it('holds the relay lock until the transaction ends, refusing it at once to any other', async () => {
      const other = await t.fixture.another();
      const held = gate();
      const entered = gate();
      const first = t.store.outbox.withRelayTransaction(async (statements) => {
        const taken = [await statements.takeRelayLock(), await statements.takeRelayLock()];
        entered.open();
        await held.wait;
        return taken;
      });
      try {
        await entered.wait;
        assert.equal(await t.store.outbox.withRelayTransaction((s) => s.takeRelayLock()), false);
        assert.equal(await other.outbox.withRelayTransaction((s) => s.takeRelayLock()), false);
        held.open();
        assert.deepEqual(await first, [true, true]);
        assert.equal(await other.outbox.withRelayTransaction((s) => s.takeRelayLock()), true);
      } finally {
        held.open();
        await other.close();
      }
    });

    it('runs claims in the order made: a claim made before rows are put back does not see them', async () => {
      const a1 = event('a', 1);
      const b1 = event('b', 1);
      const c1 = event('c', 1);
      await insert(a1, b1, c1);
      const batches = await t.store.outbox.withRelayTransaction(async (statements) => {
        assert.equal(await statements.takeRelayLock(), true);
        const first = statements.claimBatch({ limit: 1 });
        const second = statements.claimBatch({ limit: 1 });
        const [a] = await first;
        assert.ok(a);
        await statements.reinstate([{ ...a, nextAttemptAt: new Date(Date.now() - 1_000) }]);
        return [await first, await second, await statements.claimBatch({ limit: 10 })];
      });
      assert.deepEqual(batches.map(ids), [[a1.eventId], [b1.eventId], [a1.eventId, c1.eventId].sort()]);
      assert.deepEqual(await drainAll(), []);
    });

    it('puts a claimed row back under its own id with exactly the history given', async () => {
      await insert(event('a', 1));
      const failedAt = '2024-05-06T07:08:09.123Z';
      const claimed = await t.store.outbox.withRelayTransaction(async (statements) => {
        assert.equal(await statements.takeRelayLock(), true);
        const [row] = await statements.claimBatch({ limit: 10 });
        assert.ok(row);
        const back = { ...row, attempts: 4, firstFailedAt: failedAt, lastError: 'broken pipe' };
        await statements.reinstate([{ ...back, nextAttemptAt: new Date(Date.now() - 1_000) }]);
        return row;
      });
      const [again] = await drainAll();
      assert.deepEqual(again, { ...claimed, attempts: 4, firstFailedAt: failedAt, lastError: 'broken pipe' });
    });

    it('puts every claimed row back when the relay transaction fails', async () => {
      await insert(event('a', 1), event('b', 2));
      await assert.rejects(
        t.store.outbox.withRelayTransaction(async (statements) => {
          assert.equal(await statements.takeRelayLock(), true);
          assert.equal((await statements.claimBatch({ limit: 10 })).length, 2);
          throw new Error('publish failed');
        }),
        /publish failed/,
      );
      assert.equal((await drainAll()).length, 2);
    });

    it('keeps a row put back dead: never claimed, holding its aggregate, found and released by its dead letter', async () => {
      const a1 = event('dead-a', 1);
      const a2 = event('dead-a', 2);
      const b1 = event('dead-b', 1);
      await insert(a1);
      const ref = { stream: 'identity.dlq', id: '1700000000000-0' };
      const claimed = await t.store.outbox.withRelayTransaction(async (statements) => {
        assert.equal(await statements.takeRelayLock(), true);
        const [row] = await statements.claimBatch({ limit: 10 });
        assert.ok(row);
        await statements.reinstate([
          { ...row, attempts: 1, lastError: 'poison', nextAttemptAt: new Date(0), dead: ref },
        ]);
        return row;
      });
      await insert(a2, b1);
      assert.deepEqual(ids(await drainAll()), [b1.eventId], 'only the other aggregate flows');
      assert.equal((await t.store.outbox.backlog()).count, 1, 'the held row counts, the dead one does not');
      const dead = await t.store.outbox.deadRow(ref);
      assert.equal(dead?.eventId, a1.eventId);
      assert.equal(dead?.payloadJson, claimed.payloadJson);
      assert.equal(dead?.occurredAt, claimed.occurredAt);
      assert.equal(dead?.attempts, 1);
      assert.equal(await t.store.outbox.deadRow({ ...ref, id: '1700000000000-1' }), undefined);
      assert.equal(await t.store.outbox.releaseDeadRow(ref), true);
      assert.equal(await t.store.outbox.releaseDeadRow(ref), false, 'safe to repeat');
      assert.deepEqual(ids(await drainAll()), [a2.eventId], 'released');
    });

    it('claims a row whose time the platform cannot hold, and puts it back unchanged', async () => {
      await insert(event('far', 1));
      // The same statement in both dialects: a timestamptz literal in Postgres, text in SQLite.
      await t.store.withTransaction((tx) => tx.query("update outbox set occurred_at = 'infinity'"));
      const [row] = await drainAll().catch((error: Error) => assert.fail(`claim failed: ${error.message}`));
      assert.ok(row);
      assert.ok(Number.isNaN(Date.parse(row.occurredAt)), row.occurredAt);
    });
  });
};
