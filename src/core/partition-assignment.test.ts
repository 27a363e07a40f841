import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { partitionResources, wantedResources } from './partition-assignment.ts';

describe('partition assignment', () => {
  it('lists every partition stream of the topics whose count is known, topic by topic', () => {
    const counts = new Map([
      ['identity', 3],
      ['billing', 1],
    ]);
    assert.deepEqual(partitionResources(['identity', 'billing', 'unknown'], counts), [
      'billing',
      'identity:0',
      'identity:1',
      'identity:2',
    ]);
  });

  it('splits the partitions evenly, every resource to exactly one member', () => {
    const resources = partitionResources(['identity'], new Map([['identity', 6]]));
    const members = ['c3', 'c1', 'c2'];
    const shares = members.map((m) => wantedResources(resources, members, m));
    assert.deepEqual(
      shares.map((s) => s.length),
      [2, 2, 2],
    );
    assert.deepEqual(shares.flat().sort(), [...resources].sort());
    assert.deepEqual(wantedResources(resources, members, 'c1'), ['identity:0', 'identity:3']);
  });

  it('leaves members beyond the partition count as standbys, and unknown members with nothing', () => {
    const resources = ['identity'];
    assert.deepEqual(wantedResources(resources, ['a', 'b'], 'a'), ['identity']);
    assert.deepEqual(wantedResources(resources, ['a', 'b'], 'b'), []);
    assert.deepEqual(wantedResources(resources, ['a', 'b'], 'c'), []);
  });
});
