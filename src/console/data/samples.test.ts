import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ratesBetween, type Totals } from './samples.ts';

describe('events/s between two readings', () => {
  it('divides what each service did by the interval; a restarted service counts from zero', () => {
    const before: Totals = new Map([
      ['relay a t0', { published: 100, applied: 0 }],
      ['consumer b t0', { published: 0, applied: 90 }],
    ]);
    const after: Totals = new Map([
      ['relay a t0', { published: 150, applied: 0 }],
      ['consumer b t1', { published: 0, applied: 20 }],
    ]);
    assert.deepEqual(ratesBetween(before, after, 5), { published: 10, applied: 4 });
    assert.deepEqual(ratesBetween(undefined, after, 5), { published: 0, applied: 0 });
  });
});
