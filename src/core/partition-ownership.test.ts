import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Lease, LeaseStore } from '../ports/leases.ts';
import { silentLogger } from './logger.ts';
import { createOwnership } from './partition-ownership.ts';

/** One member's leases in memory; `acquire` can be held back to interleave a renewal with the loop. */
const leaseStore = (members: () => string[] = () => ['c1'], heldElsewhere = new Set<string>()) => {
  let token = 0;
  const tokens = new Map<string, number>();
  let holdBack: Promise<void> | undefined;
  let entered: () => void = () => {};
  const store: LeaseStore = {
    acquire: async (group, resource, holder, ttlMs): Promise<Lease | undefined> => {
      if (holdBack) entered();
      await holdBack;
      if (heldElsewhere.has(resource)) return undefined;
      let held = tokens.get(resource);
      if (held === undefined) {
        token += 1;
        held = token;
        tokens.set(resource, held);
      }
      return { group, resource, holder, token: held, expiresAt: Date.now() + ttlMs };
    },
    release: async () => true,
    list: async () => [],
    heartbeat: async () => {},
    members: async () => members().map((member) => ({ member, expiresAt: Date.now() + 60_000 })),
    leave: async () => {},
  };
  return {
    store,
    /** Renewals wait until `open` is called; `sent` resolves once one is on its way. */
    holdRenewals: (): { sent: Promise<void>; open(): void } => {
      let open: () => void = () => {};
      holdBack = new Promise((resolve) => {
        open = resolve;
      });
      const sent = new Promise<void>((resolve) => {
        entered = resolve;
      });
      return {
        sent,
        open: () => {
          holdBack = undefined;
          open();
        },
      };
    },
  };
};

/** Member c1 of group g on these leases. */
const ownershipOf = (leases: LeaseStore) =>
  createOwnership({ leases, group: 'g', name: 'c1', leaseMs: 10_000, now: Date.now, logger: silentLogger });

describe('partition ownership', () => {
  it('keeps a partition active that was taken over while its renewal was on its way', async () => {
    const leases = leaseStore();
    const ownership = ownershipOf(leases.store);
    await ownership.tick(['identity']);
    assert.deepEqual(
      ownership.changes().taken.map((p) => [p.stream, p.status]),
      [['identity', 'new']],
    );
    // The next tick sends its renewal; meanwhile the loop finishes the takeover and activates.
    const renewal = leases.holdRenewals();
    const renewing = ownership.tick(['identity']);
    await renewal.sent;
    ownership.activate('identity');
    renewal.open();
    await renewing;
    assert.deepEqual(
      ownership.partitions().map((p) => [p.stream, p.status]),
      [['identity', 'active']],
    );
    assert.deepEqual(ownership.readable(Date.now()), ['identity']);
  });

  it('stops reading a partition it no longer wants, so the loop can release it under load', async () => {
    let members = ['c1'];
    const leases = leaseStore(() => members);
    const ownership = ownershipOf(leases.store);
    await ownership.tick(['identity:0', 'identity:1']);
    for (const p of ownership.changes().taken) ownership.activate(p.stream);
    assert.deepEqual(ownership.readable(Date.now()).sort(), ['identity:0', 'identity:1']);
    members = ['c1', 'c2'];
    await ownership.tick(['identity:0', 'identity:1']);
    assert.deepEqual(ownership.unwanted(), ['identity:1']);
    assert.deepEqual(ownership.readable(Date.now()), ['identity:0']);
    assert.notEqual(ownership.fence('identity:1'), undefined, 'still owned until released');
  });

  it('says whether it holds all it wants, and whether the members changed since its tick', async () => {
    let members = ['c1', 'c2'];
    const heldElsewhere = new Set(['identity:0']);
    const leases = leaseStore(() => members, heldElsewhere);
    const ownership = ownershipOf(leases.store);
    const resources = ['identity:0', 'identity:1', 'identity:2', 'identity:3'];
    await ownership.tick(resources);
    assert.deepEqual(
      ownership.partitions().map((p) => p.stream),
      ['identity:2'],
    );
    assert.equal(ownership.settled(), false, 'identity:0 is wanted and still held by another member');
    assert.equal(await ownership.membersChanged(), false);
    heldElsewhere.clear();
    await ownership.tick(resources);
    assert.equal(ownership.settled(), true);
    members = ['c1', 'c2', 'c3'];
    assert.equal(await ownership.membersChanged(), true, 'a join is seen before the next tick');
    await ownership.tick(resources);
    assert.equal(await ownership.membersChanged(), false);
  });
});
