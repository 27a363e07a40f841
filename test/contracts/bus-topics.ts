// Bus contract cases: a topic's recorded partition count, shared by every client of the streams.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../src/core/errors.ts';
import { type BusKit, S } from './bus-kit.ts';

export const busTopicsCases = (t: BusKit): void => {
  describe('partition counts', () => {
    it('is undefined until recorded, then the last value set, for every client', async () => {
      assert.equal(await t.bus.partitions(S), undefined);
      await t.bus.setPartitions(S, 4);
      const peer = await t.fixture.peer();
      assert.equal(await peer.partitions(S), 4);
      await peer.setPartitions(S, 1);
      assert.equal(await t.bus.partitions(S), 1);
      assert.equal(await t.bus.partitions('billing'), undefined, 'each topic has its own count');
    });

    it('is no stream: the count never shows among the streams', async () => {
      await t.bus.setPartitions(S, 3);
      assert.deepEqual(await t.bus.streamsEndingWith(':partitions'), []);
      assert.deepEqual(await t.bus.streamsEndingWith(''), []);
    });

    it('refuses a count that is not an integer >= 1 and keeps the recorded one', async () => {
      await t.bus.setPartitions(S, 2);
      for (const bad of [0, -1, 1.5, Number.NaN]) {
        await assert.rejects(t.bus.setPartitions(S, bad), ValidationError);
      }
      assert.equal(await t.bus.partitions(S), 2);
    });
  });
};
