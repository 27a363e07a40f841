import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { partitionHash, partitionOf, streamOfAggregate, topicOfStream } from './partitions.ts';

// Pinned values: the hash is part of the stored data (outbox.partition_hash, streams on disk), so it
// may never change. `echo -n user-1 | md5sum` starts d6d7705: 0xd6d7705 = 225277701.
describe('partition hash', () => {
  it('is the first 7 hex digits of the MD5 of the UTF-8 aggregate id, as the README says', () => {
    assert.equal(partitionHash('user-1'), 0xd6d7705);
    assert.equal(partitionHash('Ünïcødé'), 24930161);
    assert.equal(partitionHash('😀'), 44052140);
  });

  it('sends an aggregate to hash mod N, under the stream names the runbook uses', () => {
    assert.deepEqual([partitionOf('user-1', 4), partitionOf('user-1', 6)], [1, 3]);
    assert.equal(streamOfAggregate('identity', 'user-1', 1), 'identity');
    assert.equal(streamOfAggregate('identity', 'user-1', 6), 'identity:3');
    assert.deepEqual(topicOfStream('identity:3'), { topic: 'identity', partition: 3 });
  });
});
