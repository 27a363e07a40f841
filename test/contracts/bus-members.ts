// Bus contract cases: empty streams made on purpose, a group's consumers, removing one only while it
// has nothing pending, and the consumers' heartbeats.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NoGroupError, PermanentError } from '../../src/core/errors.ts';
import { type BusKit, G, S } from './bus-kit.ts';

export const busMembersCases = (t: BusKit): void => {
  const { fill, readNew } = t;

  describe('empty streams and group members', () => {
    it('ensureStream creates an empty stream once and leaves an existing one as it was', async () => {
      assert.equal(await t.bus.ensureStream('identity.dlq'), true);
      assert.equal(await t.bus.len('identity.dlq'), 0);
      assert.deepEqual(await t.bus.streamsEndingWith('.dlq'), ['identity.dlq']);
      assert.deepEqual(await t.bus.groups('identity.dlq'), []);
      assert.equal(await t.bus.ensureStream('identity.dlq'), false);
      await fill(1);
      assert.equal(await t.bus.ensureStream(S), false);
      assert.equal(await t.bus.len(S), 1);
      await t.bus.add('identity.dlq', { n: '1' });
      assert.equal(await t.bus.len('identity.dlq'), 1);
    });

    it('ensureStream on a Redis key of another type is a permanent failure', async () => {
      if (t.bus.kind !== 'redis') return; // the shim keeps heartbeats apart from streams
      await t.bus.heartbeat('g', 'c', 1);
      await assert.rejects(t.bus.ensureStream('consumer-heartbeats:g'), PermanentError);
    });

    it("lists a group's consumers with their pending counts, NoGroupError without the group", async () => {
      await assert.rejects(t.bus.consumers(S, G), NoGroupError);
      await fill(3);
      await t.bus.createGroup(S, G);
      assert.deepEqual(await t.bus.consumers(S, G), []);
      await readNew('c2', 2);
      await readNew('c1', 10);
      const consumers = await t.bus.consumers(S, G);
      assert.deepEqual(
        consumers.map((c) => [c.name, c.pending]),
        [
          ['c1', 1],
          ['c2', 2],
        ],
      );
      for (const c of consumers) assert.ok(c.idleMs === null || c.idleMs >= 0);
    });

    it('removes a consumer only while nothing is pending under it', async () => {
      const added = await fill(2);
      await t.bus.createGroup(S, G);
      await readNew('busy', 1);
      await readNew('idle', 1);
      await t.bus.ack(S, G, [added[1] as string]);
      assert.equal(await t.bus.removeConsumer(S, G, 'busy'), false);
      assert.equal((await t.bus.pending(S, G)).count, 1);
      assert.equal(await t.bus.removeConsumer(S, G, 'idle'), true);
      assert.equal(await t.bus.removeConsumer(S, G, 'idle'), false);
      assert.deepEqual(
        (await t.bus.consumers(S, G)).map((c) => c.name),
        ['busy'],
      );
      assert.equal((await t.bus.groups(S))[0]?.consumers, 1);
    });

    it('keeps the latest heartbeat per consumer and group, and forgets names on request', async () => {
      assert.deepEqual(await t.bus.heartbeats(G), {});
      await t.bus.heartbeat(G, 'a', 1_000);
      await t.bus.heartbeat(G, 'a', 2_000);
      await t.bus.heartbeat(G, 'b', 1_500);
      await t.bus.heartbeat('other', 'a', 9);
      assert.deepEqual(await t.bus.heartbeats(G), { a: 2_000, b: 1_500 });
      const peer = await t.fixture.peer();
      assert.deepEqual(await peer.heartbeats(G), { a: 2_000, b: 1_500 });
      await t.bus.forgetHeartbeats(G, ['a', 'missing']);
      assert.deepEqual(await t.bus.heartbeats(G), { b: 1_500 });
      assert.deepEqual(await t.bus.heartbeats('other'), { a: 9 });
    });
  });
};
