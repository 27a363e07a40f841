// Store contract cases: the relay's outbox statements on their own (joining the relays, claims within
// a scope of partitions fenced by leases, claims in the order made even while one is still out, rows
// put back as given, the pause of a partition switch), which the drain policy in src/relay relies on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { FencedError } from '../../src/core/errors.ts';
import { partitionOf } from '../../src/core/partitions.ts';
import type { LeaseFence } from '../../src/ports/leases.ts';
import type { ClaimScope, OutboxRow } from '../../src/ports/outbox.ts';
import { eventually } from '../helpers/eventually.ts';
import { event, gate, type StoreKit } from './store-kit.ts';

const ids = (rows: readonly OutboxRow[]): string[] => rows.map((r) => r.eventId).sort();

const GROUP = 'mm-relay/outbox';
const minute = 60_000;

/** Aggregates named `${prefix}-<i>` until `each` of every one of `count` partitions were found. */
const aggregatesByPartition = (prefix: string, count: number, each = 1): string[][] => {
  const found: string[][] = Array.from({ length: count }, () => []);
  for (let i = 0; found.some((list) => list.length < each); i += 1) {
    const id = `${prefix}-${i}`;
    const list = found[partitionOf(id, count)];
    if (list && list.length < each) list.push(id);
  }
  return found;
};

export const storeRelayStatementsCases = (t: StoreKit): void => {
  const { insert, drainAll } = t;

  /** Leases on `partitions` (resources outbox:p) for `holder`, as a relay's claim scope. */
  const leasedScope = async (
    holder: string,
    count: number,
    partitions: readonly number[],
    ttlMs = minute,
  ): Promise<ClaimScope> => {
    const fences: LeaseFence[] = [];
    for (const p of partitions) {
      const lease = await t.store.leases.acquire(GROUP, `outbox:${p}`, holder, ttlMs);
      assert.ok(lease, `outbox:${p} taken by ${holder}`);
      fences.push({ group: GROUP, resource: lease.resource, holder, token: lease.token });
    }
    return { count, partitions, fences };
  };

  const claimIn = (scope: ClaimScope | undefined, limit = 100): Promise<OutboxRow[]> =>
    t.store.outbox.withRelayTransaction(async (statements) => {
      assert.equal(await statements.joinRelays(), true);
      return statements.claimBatch({ limit });
    }, scope);

  describe('relay statements', () => {
    it('claims only the rows of the scope, by partition_hash mod the count, in id order', async () => {
      const byPartition = aggregatesByPartition('scoped', 3, 2);
      const events = byPartition.flatMap((aggregates) => aggregates.map((a, i) => event(a, i)));
      await insert(...events);
      const scope = await leasedScope('r1', 3, [0, 2]);
      const claimed = await claimIn(scope);
      const wanted = new Set([...(byPartition[0] ?? []), ...(byPartition[2] ?? [])]);
      assert.deepEqual(ids(claimed), ids(events.filter((e) => wanted.has(e.aggregateId)) as never));
      for (const row of claimed) assert.notEqual(partitionOf(row.aggregateId, 3), 1);
      assert.deepEqual(
        ids(await claimIn(await leasedScope('r2', 3, [1]))),
        events
          .filter((e) => byPartition[1]?.includes(e.aggregateId))
          .map((e) => e.eventId)
          .sort(),
      );
      assert.deepEqual(await claimIn({ count: 3, partitions: [], fences: [] }), []);
      assert.equal((await t.store.outbox.backlog()).count, 0);
    });

    it('lets relays of other partitions drain at the same time, each its own rows', async () => {
      const [zero = [], one = []] = aggregatesByPartition('side', 2, 3);
      await insert(...zero.map((a) => event(a, 1)), ...one.map((a) => event(a, 1)));
      const other = await t.fixture.another();
      const first = await leasedScope('r1', 2, [0]);
      const second = await leasedScope('r2', 2, [1]);
      const held = gate();
      const entered = gate();
      const draining = t.store.outbox.withRelayTransaction(async (statements) => {
        assert.equal(await statements.joinRelays(), true);
        const rows = await statements.claimBatch({ limit: 100 });
        entered.open();
        await held.wait;
        return rows;
      }, first);
      try {
        await entered.wait;
        let done = false;
        const elsewhere = other.outbox
          .withRelayTransaction(async (statements) => {
            assert.equal(await statements.joinRelays(), true);
            return statements.claimBatch({ limit: 100 });
          }, second)
          .finally(() => {
            done = true;
          });
        // Postgres runs both at once; one SQLite file takes them in turn (the second waits).
        if (t.store.kind === 'postgres')
          await eventually(() => done, 5_000, { message: 'the other relay drained' });
        held.open();
        assert.deepEqual((await draining).map((r) => r.aggregateId).sort(), [...zero].sort());
        assert.deepEqual((await elsewhere).map((r) => r.aggregateId).sort(), [...one].sort());
      } finally {
        held.open();
        await other.close();
      }
    });

    it('fails a relay transaction whose lease was taken before it joined, claiming nothing', async () => {
      const [zero = []] = aggregatesByPartition('fenced', 2);
      await insert(...zero.map((a) => event(a, 1)));
      const stale = await leasedScope('r1', 2, [0], 0);
      assert.ok(await t.store.leases.acquire(GROUP, 'outbox:0', 'r2', minute), 'taken by r2');
      await assert.rejects(claimIn(stale), FencedError);
      assert.equal((await t.store.outbox.backlog()).count, zero.length, 'nothing claimed');
    });

    it("keeps a relay transaction's leases from being taken until it ends", async () => {
      const [zero = []] = aggregatesByPartition('kept', 2);
      await insert(...zero.map((a) => event(a, 1)));
      const scope = await leasedScope('r1', 2, [0], 1_000);
      const other = await t.fixture.another();
      const joined = gate();
      const finish = gate();
      const order: string[] = [];
      const draining = t.store.outbox
        .withRelayTransaction(async (statements) => {
          assert.equal(await statements.joinRelays(), true);
          const rows = await statements.claimBatch({ limit: 100 });
          joined.open();
          await finish.wait;
          return rows;
        }, scope)
        .then((rows) => {
          order.push('committed');
          return rows;
        });
      try {
        await joined.wait;
        // The lease runs out while the drain is still open: still nobody takes it before the commit.
        const expiresAt =
          (await t.store.leases.list(GROUP)).find((l) => l.resource === 'outbox:0')?.expiresAt ?? 0;
        await eventually(() => Date.now() > expiresAt + 50, 10_000, { intervalMs: 20 });
        const taking = other.leases.acquire(GROUP, 'outbox:0', 'r2', minute).then((taken) => {
          order.push('taken');
          return taken;
        });
        await delay(200);
        assert.deepEqual(order, []);
        finish.open();
        assert.equal((await draining).length, zero.length);
        const taken = await taking;
        assert.deepEqual(order, ['committed', 'taken']);
        assert.ok((taken?.token ?? 0) > (scope.fences[0]?.token ?? 0));
      } finally {
        finish.open();
        await other.close();
      }
    });

    it('pauses the relays for a partition switch: it waits for the drain in flight, and none claims until it is done', async () => {
      await insert(event('paused-a', 1), event('paused-b', 1));
      const other = await t.fixture.another();
      const order: string[] = [];
      const [joined, finish, paused, resume] = [gate(), gate(), gate(), gate()];
      const draining = t.store.outbox.withRelayTransaction(async (statements) => {
        assert.equal(await statements.joinRelays(), true);
        const rows = await statements.claimBatch({ limit: 1 });
        joined.open();
        await finish.wait;
        order.push('drained');
        return rows;
      });
      try {
        await joined.wait;
        const pausing = other.outbox.withRelaysPaused(
          async () => {
            order.push('paused');
            paused.open();
            await resume.wait;
            order.push('resumed');
            return 'switched';
          },
          { waitMs: 10_000 },
        );
        await delay(100);
        assert.equal(order.length, 0, 'the pause waits for the drain in flight');
        finish.open();
        assert.equal((await draining).length, 1);
        await paused.wait;
        // Postgres stands the relay by (nothing claimed); on SQLite it waits for the pause to end.
        const during = drainAll().then((rows) => {
          order.push(`claimed ${rows.length}`);
          return rows;
        });
        await delay(100);
        resume.open();
        assert.deepEqual(await pausing, { value: 'switched' });
        const claimed = (await during).length;
        assert.deepEqual(order.slice(0, 2), ['drained', 'paused']);
        if (claimed > 0)
          assert.ok(order.indexOf(`claimed ${claimed}`) > order.indexOf('resumed'), order.join(', '));
        assert.equal(claimed + (await drainAll()).length, 1, 'relays drain again after the pause');
      } finally {
        finish.open();
        resume.open();
        await other.close();
      }
    });

    it('runs claims in the order made: a claim made before rows are put back does not see them', async () => {
      const a1 = event('a', 1);
      const b1 = event('b', 1);
      const c1 = event('c', 1);
      await insert(a1, b1, c1);
      const batches = await t.store.outbox.withRelayTransaction(async (statements) => {
        assert.equal(await statements.joinRelays(), true);
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
        assert.equal(await statements.joinRelays(), true);
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
          assert.equal(await statements.joinRelays(), true);
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
        assert.equal(await statements.joinRelays(), true);
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
