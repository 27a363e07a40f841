// Store contract cases: leases with fencing tokens, group members, and fences checked inside a
// transaction (src/ports/leases.ts). Expiry is the database's clock: a time to live of 0 gives a
// lease that is expired at once, so no case waits for time to pass but the fencing race.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { FencedError, ValidationError } from '../../src/core/errors.ts';
import { uuidv7 } from '../../src/core/ids.ts';
import type { Lease, LeaseFence } from '../../src/ports/leases.ts';
import { eventually } from '../helpers/eventually.ts';
import { gate, ledgerEntry, type StoreKit } from './store-kit.ts';

const group = 'markdown-lint-consumer';
const minute = 60_000;

const fenceOf = (lease: Lease | undefined): LeaseFence => {
  assert.ok(lease, 'the lease was taken');
  const { group: g, resource, holder, token } = lease;
  return { group: g, resource, holder, token };
};

export const storeLeasesCases = (t: StoreKit): void => {
  describe('leases', () => {
    it('takes a free lease, renews it with the same token, refuses another holder while live', async () => {
      const first = await t.store.leases.acquire(group, 'identity:0', 'c1', minute);
      assert.ok(first);
      assert.deepEqual([first.group, first.resource, first.holder], [group, 'identity:0', 'c1']);
      assert.ok(first.token >= 1);
      const renewed = await t.store.leases.acquire(group, 'identity:0', 'c1', minute);
      assert.equal(renewed?.token, first.token);
      assert.ok((renewed?.expiresAt ?? 0) >= first.expiresAt);
      assert.equal(await t.store.leases.acquire(group, 'identity:0', 'c2', minute), undefined);
      // Leases are per group and resource.
      assert.ok(await t.store.leases.acquire(group, 'identity:1', 'c2', minute));
      assert.ok(await t.store.leases.acquire('other-group', 'identity:0', 'c2', minute));
    });

    it('lets another holder take an expired lease with a bigger token', async () => {
      const first = await t.store.leases.acquire(group, 'p', 'c1', 0);
      assert.ok(first);
      const stolen = await t.store.leases.acquire(group, 'p', 'c2', minute);
      assert.equal(stolen?.holder, 'c2');
      assert.ok((stolen?.token ?? 0) > first.token);
      // The old holder coming back is a new take too: bigger again, never reused.
      await t.store.leases.acquire(group, 'p', 'c2', 0);
      const back = await t.store.leases.acquire(group, 'p', 'c1', minute);
      assert.ok((back?.token ?? 0) > (stolen?.token ?? 0));
    });

    it('ignores a late release and frees the lease on the holder release, tokens still growing', async () => {
      const old = fenceOf(await t.store.leases.acquire(group, 'p', 'c1', 0));
      const current = fenceOf(await t.store.leases.acquire(group, 'p', 'c2', minute));
      assert.equal(await t.store.leases.release(old), false, 'a late release frees nothing');
      assert.equal(await t.store.leases.acquire(group, 'p', 'c3', minute), undefined);
      assert.equal(await t.store.leases.release(current), true);
      const next = await t.store.leases.acquire(group, 'p', 'c3', minute);
      assert.equal(next?.holder, 'c3');
      assert.ok((next?.token ?? 0) > current.token);
      assert.equal(await t.store.leases.release({ ...fenceOf(next), token: current.token }), false);
    });

    it('lists every lease of a group, live or expired, by resource', async () => {
      await t.store.leases.acquire(group, 'b', 'c1', minute);
      await t.store.leases.acquire(group, 'a', 'c2', 0);
      await t.store.leases.acquire('other-group', 'a', 'c3', minute);
      const leases = await t.store.leases.list(group);
      assert.deepEqual(
        leases.map((l) => [l.resource, l.holder]),
        [
          ['a', 'c2'],
          ['b', 'c1'],
        ],
      );
      const [expired, live] = leases;
      assert.ok((expired?.expiresAt ?? 0) < (live?.expiresAt ?? 0));
      assert.deepEqual(await t.store.leases.list('no-such-group'), []);
    });

    it('gives a free resource to exactly one of many concurrent takers', async () => {
      const others = await Promise.all([t.fixture.another(), t.fixture.another()]);
      const stores = [t.store, ...others];
      const takes = await Promise.all(
        Array.from({ length: 9 }, (_, n) =>
          (stores[n % stores.length] ?? t.store).leases.acquire(group, 'contested', `c${n}`, minute),
        ),
      );
      const winners = takes.filter((lease) => lease !== undefined);
      assert.equal(winners.length, 1);
      await Promise.all(others.map((store) => store.close()));
    });

    it('lists live members only and forgets one that leaves', async () => {
      await t.store.leases.heartbeat(group, 'c2', minute);
      await t.store.leases.heartbeat(group, 'c1', minute);
      await t.store.leases.heartbeat(group, 'c3', 0);
      await t.store.leases.heartbeat('other-group', 'c4', minute);
      const members = await t.store.leases.members(group);
      assert.deepEqual(
        members.map((m) => m.member),
        ['c1', 'c2'],
      );
      for (const m of members) assert.ok(m.expiresAt > 0);
      await t.store.leases.heartbeat(group, 'c3', minute);
      await t.store.leases.leave(group, 'c1');
      assert.deepEqual(
        (await t.store.leases.members(group)).map((m) => m.member),
        ['c2', 'c3'],
      );
      await t.store.leases.leave(group, 'never-joined');
    });

    it('refuses a negative or non-numeric time to live', async () => {
      await assert.rejects(t.store.leases.acquire(group, 'p', 'c1', -1), ValidationError);
      await assert.rejects(t.store.leases.heartbeat(group, 'c1', Number.NaN), ValidationError);
    });
  });

  describe('fences', () => {
    it('commits an effect while every lease holds', async () => {
      const a = fenceOf(await t.store.leases.acquire(group, 'identity:0', 'c1', minute));
      const b = fenceOf(await t.store.leases.acquire(group, 'identity:1', 'c1', minute));
      const id = uuidv7();
      await t.store.withTransaction(async (tx) => {
        await tx.ledger.claim([ledgerEntry(id)]);
        await tx.fences.assertHeld([a, b]);
        await tx.fences.assertHeld([]);
      });
      assert.equal((await t.store.ledger.find(id)).length, 1);
    });

    it('throws FencedError and rolls the effect back once another holder took the lease', async () => {
      const lost = fenceOf(await t.store.leases.acquire(group, 'identity:0', 'c1', 0));
      const held = fenceOf(await t.store.leases.acquire(group, 'identity:1', 'c1', minute));
      const taken = await t.store.leases.acquire(group, 'identity:0', 'c2', minute);
      assert.ok(taken);
      const id = uuidv7();
      await assert.rejects(
        t.store.withTransaction(async (tx) => {
          await tx.ledger.claim([ledgerEntry(id)]);
          await tx.fences.assertHeld([held, lost]);
        }),
        (error: unknown) => {
          assert.ok(error instanceof FencedError, String(error));
          assert.match(error.message, /identity:0/);
          assert.doesNotMatch(error.message, /identity:1/);
          return true;
        },
      );
      assert.deepEqual(await t.store.ledger.find(id), []);
      // The same resource and holder with a stale token is fenced too, as is an expired lease.
      const current = fenceOf(taken);
      await assert.rejects(
        t.store.withTransaction((tx) => tx.fences.assertHeld([{ ...current, token: current.token - 1 }])),
        FencedError,
      );
      await t.store.leases.acquire(group, 'identity:1', 'c1', 0);
      await assert.rejects(
        t.store.withTransaction((tx) => tx.fences.assertHeld([held])),
        FencedError,
      );
    });

    it('makes a take of a checked lease wait for the commit', async () => {
      const lease = await t.store.leases.acquire(group, 'identity:0', 'c1', 1_000);
      const fence = fenceOf(lease);
      const other = await t.fixture.another();
      const checked = gate();
      const finish = gate();
      const order: string[] = [];
      const id = uuidv7();
      const committing = t.store
        .withTransaction(async (tx) => {
          await tx.fences.assertHeld([fence]);
          await tx.ledger.claim([ledgerEntry(id)]);
          checked.open();
          await finish.wait;
        })
        .then(() => order.push('committed'));
      await checked.wait;
      // The lease expires while the checked transaction is still open.
      await eventually(() => Date.now() > (lease?.expiresAt ?? 0) + 50, 10_000, { intervalMs: 20 });
      const taking = other.leases.acquire(group, 'identity:0', 'c2', minute).then((taken) => {
        order.push('taken');
        return taken;
      });
      await delay(200); // a window in which the take must not complete
      assert.deepEqual(order, []);
      finish.open();
      await committing;
      const taken = await taking;
      assert.deepEqual(order, ['committed', 'taken']);
      assert.ok((taken?.token ?? 0) > fence.token);
      assert.equal((await t.store.ledger.find(id)).length, 1);
      await other.close();
    });
  });
};
