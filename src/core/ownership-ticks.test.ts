import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startOwnershipTicks } from './ownership-ticks.ts';
import type { Ownership } from './partition-ownership.ts';

/** Only what the ticks read of an ownership: whether it is settled and whether members changed. */
const watched = (state: {
  settled: boolean;
  changed: boolean;
}): Pick<Ownership, 'settled' | 'membersChanged'> => ({
  settled: () => state.settled,
  membersChanged: async () => state.changed,
});

const ticksWhile = async (state: { settled: boolean; changed: boolean }, clock: { at: number }) => {
  let ticks = 0;
  const running = startOwnershipTicks({
    ownership: watched(state),
    tick: async () => {
      ticks += 1;
    },
    tickEveryMs: 10_000,
    lookEveryMs: 5,
    now: () => clock.at,
  });
  await delay(60);
  running.stop();
  return ticks;
};

describe('ownership ticks', () => {
  it('looks between full ticks without ticking while nothing changed', async () => {
    assert.equal(await ticksWhile({ settled: true, changed: false }, { at: 0 }), 0);
  });

  it('ticks once the full tick is due', async () => {
    const clock = { at: 0 };
    setTimeout(() => {
      clock.at = 10_000;
    }, 20).unref();
    assert.equal(await ticksWhile({ settled: true, changed: false }, clock), 1);
  });

  it('ticks at every look while a wanted partition is not held, or the members changed', async () => {
    assert.ok((await ticksWhile({ settled: false, changed: false }, { at: 0 })) >= 3);
    assert.ok((await ticksWhile({ settled: true, changed: true }, { at: 0 })) >= 3);
  });
});
