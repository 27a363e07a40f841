import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createOrderGate, type GateItem } from './order-gate.ts';

const item = (aggregate: string, n: number, stream = 'identity:0'): GateItem => ({
  stream,
  id: `1700000000000-${n}`,
  eventId: `${aggregate}-e${n}`,
  aggregateKey: `user/${aggregate}`,
});

describe('order gate', () => {
  it('runs everything while no aggregate has trouble', () => {
    const gate = createOrderGate();
    assert.equal(gate.verdict(item('a', 1)), 'run');
    assert.deepEqual(gate.counts(), { held: 0, blocked: 0, waiting: 0 });
  });

  it('holds only the failing aggregate: its later events park, its retry runs, others flow', () => {
    const gate = createOrderGate();
    gate.failed(item('a', 1), 1_000);
    assert.equal(gate.verdict(item('a', 2)), 'park');
    assert.equal(gate.verdict(item('a', 1)), 'run', 'the retry of the failing event');
    assert.equal(gate.verdict(item('a', 0)), 'run', 'an earlier pending event still runs');
    assert.equal(gate.verdict(item('a', 5, 'other:0')), 'park');
    assert.equal(gate.verdict(item('b', 3)), 'run');
    gate.parked([item('a', 2), item('a', 4)]);
    assert.deepEqual(gate.counts(), { held: 1, blocked: 0, waiting: 1 });
    assert.deepEqual(gate.takeReleases(2_000), [], 'nothing is released while the failing event is held');

    assert.equal(gate.settled(item('a', 1)), false);
    assert.equal(gate.verdict(item('a', 6)), 'park', 'still behind its parked events');
    assert.deepEqual(gate.takeReleases(2_000), ['user/a']);
    gate.setFronts('user/a', new Map());
    assert.equal(gate.verdict(item('a', 7)), 'run');
    assert.deepEqual(gate.counts(), { held: 0, blocked: 0, waiting: 0 });
  });

  it('keeps the time a hold began across retries, for the stale-hold check', () => {
    const gate = createOrderGate();
    gate.failed(item('a', 1), 1_000);
    gate.failed(item('a', 1), 5_000);
    assert.deepEqual(gate.staleHolds(2_000), [
      { aggregateKey: 'user/a', stream: 'identity:0', id: '1700000000000-1' },
    ]);
    assert.deepEqual(gate.staleHolds(500), []);
  });

  it('runs a takeover pending entry older than the parked events, parks a newer one', () => {
    const gate = createOrderGate();
    gate.setFronts('user/a', new Map([['identity:0', '1700000000000-5']]));
    assert.equal(gate.verdict(item('a', 3)), 'run');
    assert.equal(gate.verdict(item('a', 5)), 'park');
    assert.equal(gate.verdict(item('a', 9)), 'park');
    assert.equal(gate.verdict(item('a', 9, 'other:0')), 'run', 'fronts are per stream');
  });

  it('blocks a dead-lettered aggregate until the block is lifted; its reprocessed event runs', () => {
    const gate = createOrderGate();
    gate.failed(item('a', 1), 0);
    gate.deadLettered(item('a', 1), true);
    assert.equal(gate.isBlocked('user/a'), true);
    assert.equal(gate.verdict(item('a', 2)), 'park');
    gate.parked([item('a', 2)]);
    assert.deepEqual(gate.takeReleases(10), []);
    const reprocessed = { ...item('a', 1), id: '1700000000000-99' };
    assert.equal(gate.verdict(reprocessed), 'run');
    assert.equal(gate.settled(reprocessed), true, 'the caller lifts the block in the store');
    gate.unblocked('user/a');
    assert.deepEqual(gate.takeReleases(10), ['user/a']);
    assert.deepEqual(gate.blockedKeys(), []);
  });

  it('with --on-dead-letter continue releases the parked events right after the dead letter', () => {
    const gate = createOrderGate();
    gate.failed(item('a', 1), 0);
    gate.parked([item('a', 2)]);
    gate.deadLettered(item('a', 1), false);
    assert.equal(gate.isBlocked('user/a'), false);
    assert.deepEqual(gate.takeReleases(0), ['user/a']);
  });

  it('retries a failed parked event when it is due, not before', () => {
    const gate = createOrderGate();
    gate.setFronts('user/a', new Map([['identity:0', '1700000000000-2']]));
    gate.failedParked('user/a', {
      kind: 'parked',
      stream: 'identity:0',
      eventId: 'a-e2',
      attempts: 1,
      retryAt: 500,
    });
    assert.equal(gate.verdict(item('a', 1)), 'park', 'nothing overtakes a failing parked event');
    assert.deepEqual(gate.takeReleases(100), []);
    assert.deepEqual(gate.takeReleases(500), ['user/a']);
  });

  it('forgets a partition it no longer owns', () => {
    const gate = createOrderGate();
    gate.failed(item('a', 1), 0);
    gate.parked([item('a', 2)]);
    gate.failed(item('b', 1, 'identity:1'), 0);
    gate.forgetStream('identity:0');
    assert.equal(gate.verdict(item('a', 3)), 'run');
    assert.equal(gate.verdict(item('b', 2, 'identity:1')), 'park');
    assert.deepEqual(gate.counts(), { held: 1, blocked: 0, waiting: 0 });
  });
});
