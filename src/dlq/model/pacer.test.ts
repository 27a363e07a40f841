import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Clock } from '../../core/clock.ts';
import { createPacer } from './pacer.ts';

const fakeClock = (): Clock => {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
  };
};

describe('pacer', () => {
  it('lets items start at rate per second', async () => {
    const clock = fakeClock();
    const pacer = createPacer(clock, 200, 100);
    let done = 0;
    while (done < 1000) done += await pacer.next(done, 1000 - done);
    // the last of 1000 items at 200/s may start 999/200 s after the first
    assert.ok(clock.now() >= 4_990 && clock.now() <= 5_000, String(clock.now()));
  });
  it('runs in batches without waiting when there is no rate', async () => {
    const clock = fakeClock();
    const pacer = createPacer(clock, undefined, 100);
    assert.equal(await pacer.next(0, 250), 100);
    assert.equal(await pacer.next(200, 50), 50);
    assert.equal(clock.now(), 0);
  });
});
