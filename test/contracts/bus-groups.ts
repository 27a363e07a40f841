// Bus contract cases: consumer groups and reading through them (new entries and history).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NoGroupError } from '../../src/core/errors.ts';
import { type BusKit, G, ids, S, values } from './bus-kit.ts';

export const busGroupsCases = (t: BusKit): void => {
  const { fill, readNew, readHistory } = t;

  describe('consumer groups', () => {
    it('creates the group and the stream with it (MKSTREAM)', async () => {
      assert.deepEqual(await t.bus.createGroup(S, G), { created: true });
      assert.equal(await t.bus.len(S), 0);
      assert.deepEqual(await t.bus.groups(S), [
        { name: G, consumers: 0, pending: 0, lastDeliveredId: '0-0', entriesRead: null, lag: 0 },
      ]);
      assert.deepEqual(await t.bus.streamsEndingWith(S), [S]);
    });

    it('reports an existing group as created: false and leaves it as it was', async () => {
      await fill(2);
      await t.bus.createGroup(S, G);
      const [, second] = (await readNew('c1', 2)).flatMap((r) => ids(r.entries));
      assert.deepEqual(await t.bus.createGroup(S, G, { startId: '0' }), { created: false });
      const [info] = await t.bus.groups(S);
      assert.equal(info?.lastDeliveredId, second);
      assert.equal(info?.pending, 2);
    });

    it('starts a group at 0 (everything) or at $ (only what comes next)', async () => {
      await fill(2);
      await t.bus.createGroup(S, G);
      await t.bus.createGroup(S, 'late', { startId: '$' });
      const late = await t.bus.readGroup({ group: 'late', consumer: 'c', streams: [S], count: 10 });
      assert.deepEqual(late, []);
      const id = await t.bus.add(S, { n: '3' });
      const again = await t.bus.readGroup({ group: 'late', consumer: 'c', streams: [S], count: 10 });
      assert.deepEqual(
        again.flatMap((r) => ids(r.entries)),
        [id],
      );
      assert.deepEqual(values((await readNew('c'))[0]?.entries ?? []), ['1', '2', '3']);
    });

    it('lists groups by name with their counters, none for a missing stream', async () => {
      assert.deepEqual(await t.bus.groups('missing'), []);
      await fill(3);
      await t.bus.createGroup(S, 'b-group');
      await t.bus.createGroup(S, 'a-group');
      const infos = await t.bus.groups(S);
      assert.deepEqual(
        infos.map((g) => g.name),
        ['a-group', 'b-group'],
      );
      assert.deepEqual(infos[0], {
        name: 'a-group',
        consumers: 0,
        pending: 0,
        lastDeliveredId: '0-0',
        entriesRead: null,
        lag: 3,
      });
    });

    it('moves a group back with SETID so entries are delivered again', async () => {
      const [a, b, c] = (await fill(3)) as [string, string, string];
      await t.bus.createGroup(S, G);
      await readNew('c1', 3);
      await t.bus.setGroupId(S, G, a);
      const [info] = await t.bus.groups(S);
      assert.equal(info?.lastDeliveredId, a);
      assert.equal(info?.entriesRead, null);
      const again = await readNew('c2', 10);
      assert.deepEqual(ids(again[0]?.entries ?? []), [b, c]);
      const pending = await t.bus.pendingRange(S, G, { count: 10 });
      assert.deepEqual(
        pending.map((p) => [p.id, p.consumer, p.deliveries]),
        [
          [a, 'c1', 1],
          [b, 'c2', 1],
          [c, 'c2', 1],
        ],
      );
    });

    it('SETID to <ms>-18446744073709551615 (the replay position before an id) delivers every later ms', async () => {
      const all = (await fill(3)) as [string, string, string];
      const ms = all[0].split('-')[0] as string;
      await t.bus.createGroup(S, G);
      await t.bus.setGroupId(S, G, `${ms}-18446744073709551615`);
      const again = await readNew('c1', 10);
      assert.deepEqual(
        ids(again[0]?.entries ?? []),
        all.filter((id) => BigInt(id.split('-')[0] as string) > BigInt(ms)),
      );
    });

    it('sets a group to the largest sequence of a millisecond, so an <ms>-0 entry is delivered again', async () => {
      const [a, b] = (await fill(2)) as [string, string];
      await t.bus.createGroup(S, G, { startId: '$' });
      const before = `${BigInt(a.split('-')[0] ?? 0) - 1n}-18446744073709551615`;
      await t.bus.setGroupId(S, G, before);
      const [info] = await t.bus.groups(S);
      assert.equal(info?.lastDeliveredId, before);
      const again = await readNew('c1', 10);
      assert.deepEqual(ids(again[0]?.entries ?? []), [a, b]);
    });

    it('destroys a group with its pending entries; a missing group is false', async () => {
      await fill(2);
      await t.bus.createGroup(S, G);
      await readNew('c1');
      assert.equal(await t.bus.destroyGroup(S, G), true);
      assert.deepEqual(await t.bus.groups(S), []);
      assert.equal(await t.bus.destroyGroup(S, G), false);
      await assert.rejects(t.bus.pending(S, G), NoGroupError);
      assert.equal(await t.bus.len(S), 2);
    });

    it('fails with NoGroupError where the group or the stream is missing', async () => {
      await t.bus.add(S, { n: '1' });
      await assert.rejects(readNew('c'), NoGroupError);
      await assert.rejects(readNew('c', 1, ['missing']), NoGroupError);
      await assert.rejects(t.bus.setGroupId(S, G, '0'), NoGroupError);
      await assert.rejects(t.bus.setGroupId('missing', G, '0'), NoGroupError);
      await assert.rejects(t.bus.destroyGroup('missing', G), NoGroupError);
      await assert.rejects(t.bus.pending(S, G), NoGroupError);
      await assert.rejects(t.bus.pendingRange(S, G, { count: 1 }), NoGroupError);
      await assert.rejects(t.bus.autoClaim(S, G, { consumer: 'c', minIdleMs: 0, count: 1 }), NoGroupError);
      assert.equal(await t.bus.ack(S, G, ['1-0']), 0);
      assert.equal(await t.bus.ack('missing', G, ['1-0']), 0);
    });
  });

  describe('reading through a group', () => {
    it('delivers new entries in order, at most count, and makes them pending', async () => {
      const added = await fill(5);
      await t.bus.createGroup(S, G);
      const first = await readNew('c1', 3);
      assert.deepEqual(
        first.map((r) => r.stream),
        [S],
      );
      assert.deepEqual(ids(first[0]?.entries ?? []), added.slice(0, 3));
      assert.deepEqual(values(first[0]?.entries ?? []), ['1', '2', '3']);
      const second = await readNew('c2', 10);
      assert.deepEqual(ids(second[0]?.entries ?? []), added.slice(3));
      assert.deepEqual(await readNew('c1'), []);
      const [info] = await t.bus.groups(S);
      assert.equal(info?.lastDeliveredId, added[4]);
      assert.equal(info?.pending, 5);
      assert.equal(info?.consumers, 2);
    });

    it('reads several streams at once, leaving out those with nothing new', async () => {
      await t.bus.createGroup(S, G);
      await t.bus.createGroup('second', G);
      await t.bus.createGroup('third', G);
      await fill(2);
      await fill(1, 'third');
      const reads = await readNew('c', 10, [S, 'second', 'third']);
      assert.deepEqual(
        reads.map((r) => [r.stream, values(r.entries)]),
        [
          [S, ['1', '2']],
          ['third', ['1']],
        ],
      );
    });

    it('creates a consumer when it is delivered something or reads its history', async () => {
      await t.bus.createGroup(S, G);
      await readNew('idle');
      assert.equal((await t.bus.groups(S))[0]?.consumers, 0);
      await readHistory(t.bus, 'recovering');
      assert.equal((await t.bus.groups(S))[0]?.consumers, 1);
      await fill(1);
      await readNew('worker');
      assert.equal((await t.bus.groups(S))[0]?.consumers, 2);
    });

    it('re-reads only its own pending entries from the start in a history read', async () => {
      const [a, b, c] = (await fill(3)) as [string, string, string];
      await t.bus.createGroup(S, G);
      await readNew('c1', 2);
      await readNew('c2', 1);
      const history = await readHistory(t.bus, 'c1');
      assert.deepEqual(
        history.map((r) => r.stream),
        [S],
      );
      assert.deepEqual(ids(history[0]?.entries ?? []), [a, b]);
      assert.deepEqual(values(history[0]?.entries ?? []), ['1', '2']);
      const pending = await t.bus.pendingRange(S, G, { count: 10, consumer: 'c1' });
      assert.deepEqual(
        pending.map((p) => p.deliveries),
        [2, 2],
      );
      await t.bus.ack(S, G, [a]);
      assert.deepEqual(ids((await readHistory(t.bus, 'c1'))[0]?.entries ?? []), [b]);
      assert.deepEqual(ids((await readHistory(t.bus, 'c2', 1))[0]?.entries ?? []), [c]);
      assert.deepEqual((await readHistory(t.bus, 'nobody'))[0]?.entries, []);
    });

    it('finds its pending entries again after a restart (another client, same consumer name)', async () => {
      const added = await fill(3);
      await t.bus.createGroup(S, G);
      await readNew('consumer-1', 3);
      await t.bus.close();
      const restarted = await t.fixture.peer();
      const history = await readHistory(restarted, 'consumer-1');
      assert.deepEqual(ids(history[0]?.entries ?? []), added);
      assert.deepEqual(
        await restarted.readGroup({ group: G, consumer: 'consumer-1', streams: [S], count: 10 }),
        [],
      );
    });

    it('leaves entries deleted while pending out of history reads; they stay pending', async () => {
      const [a, b] = (await fill(2)) as [string, string];
      await t.bus.createGroup(S, G);
      await readNew('c1');
      await t.bus.del(S, [a]);
      assert.deepEqual(ids((await readHistory(t.bus, 'c1'))[0]?.entries ?? []), [b]);
      assert.deepEqual(
        (await t.bus.pendingRange(S, G, { count: 10 })).map((p) => p.id),
        [a, b],
      );
    });
  });
};
