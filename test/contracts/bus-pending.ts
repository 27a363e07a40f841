// Bus contract cases: acknowledging, pending lists, claiming, lag and entries-read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '../helpers/eventually.ts';
import { type BusKit, G, ids, S, values } from './bus-kit.ts';

export const busPendingCases = (t: BusKit): void => {
  const { fill, readNew, readHistory } = t;

  describe('acknowledging and pending lists', () => {
    it('acknowledges pending entries once each, ignoring unknown ids', async () => {
      const [a, b, c] = (await fill(3)) as [string, string, string];
      await t.bus.createGroup(S, G);
      await readNew('c1', 2);
      assert.equal(await t.bus.ack(S, G, [a, a, c, '1-1']), 1);
      assert.equal(await t.bus.ack(S, G, [a]), 0);
      assert.equal(await t.bus.ack(S, G, []), 0);
      assert.deepEqual(
        (await t.bus.pendingRange(S, G, { count: 10 })).map((p) => p.id),
        [b],
      );
    });

    it('summarises the pending list per consumer', async () => {
      await t.bus.createGroup(S, G);
      assert.deepEqual(await t.bus.pending(S, G), { count: 0, minId: null, maxId: null, consumers: {} });
      const added = await fill(4);
      await readNew('c1', 1);
      await readNew('c2', 3);
      assert.deepEqual(await t.bus.pending(S, G), {
        count: 4,
        minId: added[0],
        maxId: added[3],
        consumers: { c1: 1, c2: 3 },
      });
    });

    it('lists pending entries in id order with owner, deliveries and idle time', async () => {
      const added = await fill(4);
      await t.bus.createGroup(S, G);
      await readNew('c1', 1);
      await readNew('c2', 3);
      const all = await t.bus.pendingRange(S, G, { count: 10 });
      assert.deepEqual(
        all.map((p) => [p.id, p.consumer, p.deliveries]),
        added.map((id, i) => [id, i === 0 ? 'c1' : 'c2', 1]),
      );
      for (const p of all) assert.ok(p.idleMs >= 0 && p.idleMs < 60_000);
      assert.deepEqual(
        (await t.bus.pendingRange(S, G, { count: 2 })).map((p) => p.id),
        added.slice(0, 2),
      );
      assert.deepEqual(
        (await t.bus.pendingRange(S, G, { count: 10, consumer: 'c1' })).map((p) => p.id),
        added.slice(0, 1),
      );
      assert.deepEqual(
        (await t.bus.pendingRange(S, G, { start: `(${added[1]}`, end: added[3], count: 10 })).map(
          (p) => p.id,
        ),
        added.slice(2),
      );
    });

    it('filters the pending list by idle time', async () => {
      await fill(2);
      await t.bus.createGroup(S, G);
      await readNew('c1');
      assert.deepEqual(await t.bus.pendingRange(S, G, { count: 10, minIdleMs: 60_000 }), []);
      const idle = await eventually(async () => {
        const found = await t.bus.pendingRange(S, G, { count: 10, minIdleMs: 25 });
        return found.length === 2 ? found : undefined;
      }, 5_000);
      assert.ok(idle);
      for (const p of idle) assert.ok(p.idleMs >= 25);
    });
  });

  describe('claiming', () => {
    it('hands idle entries to another consumer, counting the delivery', async () => {
      const added = await fill(3);
      await t.bus.createGroup(S, G);
      await readNew('dead', 3);
      const claimed = await t.bus.autoClaim(S, G, { consumer: 'alive', minIdleMs: 0, count: 10 });
      assert.equal(claimed.next, '0-0');
      assert.deepEqual(ids(claimed.entries), added);
      assert.deepEqual(values(claimed.entries), ['1', '2', '3']);
      assert.deepEqual(claimed.deleted, []);
      const pending = await t.bus.pendingRange(S, G, { count: 10 });
      assert.deepEqual(
        pending.map((p) => [p.consumer, p.deliveries]),
        added.map(() => ['alive', 2]),
      );
      assert.deepEqual(ids((await readHistory(t.bus, 'alive'))[0]?.entries ?? []), added);
      assert.deepEqual((await t.bus.pending(S, G)).consumers, { alive: 3 });
    });

    it('leaves entries that are not idle long enough', async () => {
      await fill(2);
      await t.bus.createGroup(S, G);
      await readNew('busy');
      const claimed = await t.bus.autoClaim(S, G, { consumer: 'other', minIdleMs: 60_000, count: 10 });
      assert.deepEqual(claimed.entries, []);
      assert.equal(claimed.next, '0-0');
      assert.deepEqual((await t.bus.pending(S, G)).consumers, { busy: 2 });
      assert.equal((await t.bus.groups(S))[0]?.consumers, 1);
    });

    it('walks the pending list with a cursor, count at a time', async () => {
      const added = await fill(5);
      await t.bus.createGroup(S, G);
      await readNew('dead');
      const first = await t.bus.autoClaim(S, G, { consumer: 'c', minIdleMs: 0, count: 2 });
      assert.deepEqual(ids(first.entries), added.slice(0, 2));
      assert.equal(first.next, added[2]);
      const second = await t.bus.autoClaim(S, G, {
        consumer: 'c',
        minIdleMs: 0,
        count: 2,
        start: first.next,
      });
      assert.deepEqual(ids(second.entries), added.slice(2, 4));
      assert.equal(second.next, added[4]);
      const third = await t.bus.autoClaim(S, G, {
        consumer: 'c',
        minIdleMs: 0,
        count: 2,
        start: second.next,
      });
      assert.deepEqual(ids(third.entries), added.slice(4));
      assert.equal(third.next, '0-0');
    });

    it('removes and reports pending entries whose entries were deleted', async () => {
      const [a, b, c] = (await fill(3)) as [string, string, string];
      await t.bus.createGroup(S, G);
      await readNew('dead');
      await t.bus.del(S, [b]);
      const claimed = await t.bus.autoClaim(S, G, { consumer: 'alive', minIdleMs: 0, count: 10 });
      assert.deepEqual(ids(claimed.entries), [a, c]);
      assert.deepEqual(claimed.deleted, [b]);
      assert.equal((await t.bus.pending(S, G)).count, 2);
    });

    it('counts deleted entries against count and resumes after them', async () => {
      const [a, b, c] = (await fill(3)) as [string, string, string];
      await t.bus.createGroup(S, G);
      await readNew('dead');
      await t.bus.del(S, [a]);
      const first = await t.bus.autoClaim(S, G, { consumer: 'alive', minIdleMs: 0, count: 1 });
      assert.deepEqual(first, { next: b, entries: [], deleted: [a] });
      const second = await t.bus.autoClaim(S, G, {
        consumer: 'alive',
        minIdleMs: 0,
        count: 5,
        start: first.next,
      });
      assert.deepEqual(ids(second.entries), [b, c]);
    });
  });

  describe('lag and entries-read', () => {
    it('follows reads and is untouched by acknowledgements', async () => {
      await fill(5);
      await t.bus.createGroup(S, G);
      let [info] = await t.bus.groups(S);
      assert.deepEqual([info?.entriesRead, info?.lag], [null, 5]);
      await readNew('c', 2);
      [info] = await t.bus.groups(S);
      assert.deepEqual([info?.entriesRead, info?.lag, info?.pending], [2, 3, 2]);
      const pending = await t.bus.pendingRange(S, G, { count: 10 });
      await t.bus.ack(
        S,
        G,
        pending.map((p) => p.id),
      );
      [info] = await t.bus.groups(S);
      assert.deepEqual([info?.entriesRead, info?.lag, info?.pending], [2, 3, 0]);
      await readNew('c');
      [info] = await t.bus.groups(S);
      assert.deepEqual([info?.entriesRead, info?.lag], [5, 0]);
      await fill(2);
      [info] = await t.bus.groups(S);
      assert.equal(info?.lag, 2);
    });

    it('keeps counting across trims, and is unknown across a deleted entry until read past it', async () => {
      const added = await fill(5);
      await t.bus.createGroup(S, G);
      await readNew('c', 2);
      await t.bus.trim(S, { minId: added[1] as string });
      assert.equal((await t.bus.groups(S))[0]?.lag, 3);
      await t.bus.del(S, [added[3] as string]);
      assert.equal((await t.bus.groups(S))[0]?.lag, null);
      await readNew('c');
      const [info] = await t.bus.groups(S);
      assert.deepEqual([info?.entriesRead, info?.lag], [5, 0]);
    });
  });
};
