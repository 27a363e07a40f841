// Capped exponential backoff with jitter, and the retry-forever loop used for transient failures.
import type { Clock } from './clock.ts';
import { systemClock } from './clock.ts';
import { coerceError, isTransient, type TransientError } from './errors.ts';

export type BackoffPolicy = {
  readonly baseMs: number;
  readonly maxMs: number;
};

export const defaultBackoff: BackoffPolicy = { baseMs: 100, maxMs: 10_000 };

/**
 * Delay before retry number `attempt` (0-based): half of the capped exponential step is fixed and
 * half random ("equal jitter"), so many clients recovering at once do not retry in lockstep.
 */
export const backoffDelay = (
  attempt: number,
  policy: BackoffPolicy = defaultBackoff,
  random: () => number = Math.random,
): number => {
  const step = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + random() * (step / 2));
};

export type RetryOptions = {
  signal?: AbortSignal;
  clock?: Clock;
  policy?: BackoffPolicy;
  onRetry?: (error: TransientError, delayMs: number, attempt: number) => void;
};

/**
 * Runs `task` until it succeeds, retrying transient failures forever with backoff. Any other error,
 * or an abort while waiting, ends the loop by rethrowing the last error.
 */
export const retryTransient = async <T>(task: () => Promise<T>, options: RetryOptions = {}): Promise<T> => {
  const clock = options.clock ?? systemClock;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await task();
    } catch (thrown) {
      const error = coerceError(thrown);
      if (!isTransient(error) || options.signal?.aborted) throw error;
      const delay = backoffDelay(attempt, options.policy);
      options.onRetry?.(error, delay, attempt);
      await clock.sleep(delay, options.signal);
      if (options.signal?.aborted) throw error;
    }
  }
};
