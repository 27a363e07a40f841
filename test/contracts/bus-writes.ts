// Bus contract cases: atomic writes, blocking reads, stream listing and isolation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { TransientError } from '../../src/core/errors.ts';
import { type BusKit, G, ids, S, values } from './bus-kit.ts';

export const busWritesCases = (t: BusKit): void => {
  const { fill, readNew } = t;

  describe('atomic writes', () => {
    it('applies adds, acks and deletes together and returns the added ids in order', async () => {
      const [a, b] = (await fill(2)) as [string, string];
      await t.bus.createGroup(S, G);
      await readNew('c');
      const result = await t.bus.exec([
        { op: 'add', stream: `${S}.dlq`, fields: { n: 'dead-1' } },
        { op: 'ack', stream: S, group: G, ids: [a] },
        { op: 'add', stream: `${S}.dlq`, fields: { n: 'dead-2' } },
        { op: 'del', stream: S, ids: [b] },
      ]);
      assert.equal(result.applied, true);
      assert.deepEqual(ids(await t.bus.range(`${S}.dlq`)), result.addedIds);
      assert.deepEqual(values(await t.bus.range(`${S}.dlq`)), ['dead-1', 'dead-2']);
      assert.deepEqual(
        (await t.bus.pendingRange(S, G, { count: 10 })).map((p) => p.id),
        [b],
      );
      assert.deepEqual(ids(await t.bus.range(S)), [a]);
    });

    it('applies nothing when the required entry is gone, so an entry is closed exactly once', async () => {
      const dlq = `${S}.dlq`;
      const dead = await t.bus.add(dlq, { n: 'dead' });
      const close = () =>
        t.bus.exec(
          [
            { op: 'add', stream: `${dlq}.audit`, fields: { action: 'resolved', dlq_id: dead } },
            { op: 'del', stream: dlq, ids: [dead] },
          ],
          { requireEntry: { stream: dlq, id: dead } },
        );
      const [first, second] = await Promise.all([close(), close()]);
      assert.deepEqual([first.applied, second.applied].sort(), [false, true]);
      assert.deepEqual((first.applied ? second : first).addedIds, []);
      assert.equal(await t.bus.len(`${dlq}.audit`), 1);
      assert.equal(await t.bus.len(dlq), 0);
      const none = await t.bus.exec([{ op: 'add', stream: 'x', fields: { n: '1' } }], {
        requireEntry: { stream: 'missing', id: dead },
      });
      assert.deepEqual(none, { applied: false, addedIds: [] });
      assert.equal(await t.bus.len('x'), 0);
    });

    it('writes an entry and a record naming its new id in one step (idFields)', async () => {
      const dlq = `${S}.dlq`;
      const dead = await t.bus.add(dlq, { event_id: 'e1' });
      const result = await t.bus.exec(
        [
          { op: 'add', stream: S, fields: { event_id: 'e1' } },
          {
            op: 'add',
            stream: `${dlq}.audit`,
            fields: { action: 'reprocessed' },
            idFields: { new_stream_id: 0 },
          },
          { op: 'del', stream: dlq, ids: [dead] },
        ],
        { requireEntry: { stream: dlq, id: dead } },
      );
      assert.equal(result.applied, true);
      const [published] = await t.bus.range(S);
      const [audit] = await t.bus.range(`${dlq}.audit`);
      assert.deepEqual(result.addedIds, [published?.id, audit?.id]);
      assert.deepEqual(audit?.fields, { action: 'reprocessed', new_stream_id: published?.id });
      assert.equal(await t.bus.len(dlq), 0);
    });

    it('refuses an idFields reference to an add that does not come earlier, writing nothing', async () => {
      await assert.rejects(
        t.bus.exec([
          { op: 'add', stream: S, fields: { a: '1' } },
          { op: 'add', stream: S, fields: { a: '2' }, idFields: { self: 1 } },
        ]),
        /not an earlier add/,
      );
      assert.equal(await t.bus.len(S), 0);
    });

    it('is never seen half done by another client', async () => {
      const observer = await t.fixture.peer();
      let done = false;
      const seen: number[] = [];
      const watch = (async () => {
        while (!done) seen.push((await observer.range(S)).length);
      })();
      for (let i = 0; i < 30; i++) {
        await t.bus.exec([
          { op: 'add', stream: S, fields: { n: `${i}a` } },
          { op: 'add', stream: S, fields: { n: `${i}b` } },
        ]);
      }
      done = true;
      await watch;
      assert.equal(await t.bus.len(S), 60);
      assert.ok(seen.length > 0);
      assert.deepEqual(
        seen.filter((n) => n % 2 !== 0),
        [],
      );
    });
  });

  describe('blocking reads', () => {
    it('wakes up for an entry another client adds while it waits', async () => {
      await t.bus.createGroup(S, G);
      const writer = await t.fixture.peer();
      const read = t.bus.readGroup({ group: G, consumer: 'c', streams: [S], count: 10, blockMs: 10_000 });
      await delay(30);
      const id = await writer.add(S, { n: 'late' });
      const reads = await read;
      assert.deepEqual(ids(reads[0]?.entries ?? []), [id]);
    });

    it('wakes up for an entry on any of several streams, and ends early when its signal aborts', async () => {
      const streams = [S, 'second', 'third'];
      for (const stream of streams) await t.bus.createGroup(stream, G);
      const writer = await t.fixture.peer();
      const read = t.bus.readGroup({ group: G, consumer: 'c', streams, count: 10, blockMs: 10_000 });
      await delay(30);
      const id = await writer.add('third', { n: 'late' });
      assert.deepEqual(
        (await read).map((r) => [r.stream, ids(r.entries)]),
        [['third', [id]]],
      );
      const controller = new AbortController();
      const waiting = t.bus.readGroup({
        group: G,
        consumer: 'c',
        streams,
        count: 10,
        blockMs: 20_000,
        signal: controller.signal,
      });
      await delay(30);
      controller.abort();
      assert.deepEqual(await waiting, []);
    });

    it('returns what is there at once, and nothing after blockMs when nothing comes', async () => {
      await t.bus.createGroup(S, G);
      assert.deepEqual(await readNew('c'), []);
      const empty = await t.bus.readGroup({ group: G, consumer: 'c', streams: [S], count: 10, blockMs: 60 });
      assert.deepEqual(empty, []);
      await fill(1);
      const ready = await t.bus.readGroup({
        group: G,
        consumer: 'c',
        streams: [S],
        count: 10,
        blockMs: 10_000,
      });
      assert.deepEqual(values(ready[0]?.entries ?? []), ['1']);
    });

    it('ends a wait early when its signal aborts', { timeout: 5_000 }, async () => {
      await t.bus.createGroup(S, G);
      const controller = new AbortController();
      const read = t.bus.readGroup({
        group: G,
        consumer: 'c',
        streams: [S],
        count: 10,
        blockMs: 20_000,
        signal: controller.signal,
      });
      await delay(30);
      controller.abort();
      assert.deepEqual(await read, []);
    });
  });

  describe('streams and isolation', () => {
    it('lists existing streams by suffix, by their logical names', async () => {
      await t.bus.add('identity.dlq', { n: '1' });
      await t.bus.add('billing.dlq', { n: '1' });
      await t.bus.add('identity', { n: '1' });
      await t.bus.createGroup('orders.dlq', G);
      assert.deepEqual(await t.bus.streamsEndingWith('.dlq'), ['billing.dlq', 'identity.dlq', 'orders.dlq']);
      assert.deepEqual(await t.bus.streamsEndingWith('.nothing'), []);
    });

    it('keeps two deployments apart (key prefix, file)', async () => {
      const other = await t.factory();
      t.track(other);
      await t.bus.add(S, { n: 'mine' });
      await other.bus.add(S, { n: 'theirs' });
      assert.deepEqual(values(await t.bus.range(S)), ['mine']);
      assert.deepEqual(values(await other.bus.range(S)), ['theirs']);
      await t.bus.createGroup(S, G);
      assert.deepEqual(await other.bus.groups(S), []);
      assert.deepEqual(await other.bus.streamsEndingWith(S), [S]);
    });

    it('answers ping while open, and refuses it once closed', async () => {
      const peer = await t.fixture.peer();
      assert.equal(await t.bus.ping(), undefined);
      assert.equal(await peer.ping(), undefined);
      await peer.close();
      await assert.rejects(peer.ping(), TransientError);
      assert.equal(await t.bus.ping(), undefined, 'closing one client leaves the others answering');
    });
  });
};
