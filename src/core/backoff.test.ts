import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, retryTransient } from './backoff.ts';
import type { Clock } from './clock.ts';
import { PermanentError, TransientError } from './errors.ts';

const fakeClock = (): Clock & { slept: number[] } => {
  const slept: number[] = [];
  return { slept, now: () => 0, sleep: async (ms) => void slept.push(ms) };
};

describe('backoff', () => {
  it('grows exponentially, is capped, and keeps half of each step as jitter', () => {
    const policy = { baseMs: 100, maxMs: 1_000 };
    assert.equal(
      backoffDelay(0, policy, () => 0),
      50,
    );
    assert.equal(
      backoffDelay(0, policy, () => 1),
      100,
    );
    assert.equal(
      backoffDelay(3, policy, () => 1),
      800,
    );
    assert.equal(
      backoffDelay(20, policy, () => 1),
      1_000,
    );
    assert.equal(
      backoffDelay(20, policy, () => 0),
      500,
    );
  });

  it('retries transient failures until they pass', async () => {
    const clock = fakeClock();
    let calls = 0;
    const retried: number[] = [];
    const result = await retryTransient(
      async () => {
        calls += 1;
        if (calls < 4) throw new TransientError('down');
        return 'ok';
      },
      { clock, onRetry: (_error, _delay, attempt) => retried.push(attempt) },
    );
    assert.equal(result, 'ok');
    assert.deepEqual(retried, [0, 1, 2]);
    assert.equal(clock.slept.length, 3);
  });

  it('does not retry other failures', async () => {
    let calls = 0;
    await assert.rejects(
      retryTransient(
        async () => {
          calls += 1;
          throw new PermanentError('poison');
        },
        { clock: fakeClock() },
      ),
      PermanentError,
    );
    assert.equal(calls, 1);
  });

  it('stops retrying once aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      retryTransient(
        async () => {
          throw new TransientError('down');
        },
        { clock: fakeClock(), signal: controller.signal },
      ),
      TransientError,
    );
  });
});
