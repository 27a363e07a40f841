// Retries what failed because of a dependency (Redis, the database) with capped backoff and jitter,
// forever, keeping the work in memory: no event's delivery count moves while it waits. It also
// remembers why it is waiting, for /health/detailed.
import { type BackoffPolicy, backoffDelay, defaultBackoff } from '../core/backoff.ts';
import type { Clock } from '../core/clock.ts';
import { coerceError, NoGroupError, TransientError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';

export type WaitState = {
  readonly what: string;
  readonly reason: string;
  readonly dependency: string;
  readonly since: number;
  readonly retries: number;
};

export type RunOptions = {
  /** Ends the retries early (besides the retrier's own signal). */
  readonly signal?: AbortSignal;
  /** Which dependency the task talks to, named when the error itself does not say. */
  readonly dependency?: 'store' | 'bus';
};

export type Retrier = {
  /**
   * Runs `task` until it succeeds. Rethrows the last error once `signal` is aborted (shutdown past
   * its drain deadline); the work then stays pending in the stream for a later delivery.
   */
  run<T>(what: string, task: () => Promise<T>, options?: RunOptions): Promise<T>;
  waiting(): WaitState | undefined;
};

export type RetrierOptions = {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  readonly policy?: BackoffPolicy;
  /** Called on NoGroupError (group or stream deleted) before retrying at once. */
  readonly onNoGroup: () => Promise<unknown>;
  readonly onRetry?: (dependency: string) => void;
};

const REPEAT_LOG_MS = 30_000;

const dependencyOf = (error: Error, hint: string | undefined): string =>
  error instanceof TransientError && error.dependency !== 'other' ? error.dependency : (hint ?? 'other');

export const createRetrier = (options: RetrierOptions): Retrier => {
  const current = new Map<string, WaitState>();

  const run = async <T>(what: string, task: () => Promise<T>, call: RunOptions = {}): Promise<T> => {
    const signal = call.signal ? AbortSignal.any([options.signal, call.signal]) : options.signal;
    let lastLogged = 0;
    let lastReason = '';
    for (let retries = 0; ; retries += 1) {
      try {
        const result = await task();
        const waited = current.get(what);
        if (waited) {
          current.delete(what);
          const seconds = ((options.clock.now() - waited.since) / 1000).toFixed(1);
          options.logger.info(`${what} recovered after ${retries} retries (${seconds}s)`, { what, retries });
        }
        return result;
      } catch (thrown) {
        const error = coerceError(thrown);
        if (signal.aborted) {
          current.delete(what);
          throw error;
        }
        const dependency = dependencyOf(error, call.dependency);
        const previous = current.get(what);
        current.set(what, {
          what,
          reason: `${error.name}: ${error.message}`,
          dependency,
          since: previous?.since ?? options.clock.now(),
          retries: retries + 1,
        });
        options.onRetry?.(dependency);
        if (error instanceof NoGroupError) {
          options.logger.warn(`${what}: consumer group missing (${error.message}); creating it again`);
          await options.onNoGroup().catch(() => {});
          if (retries === 0) continue;
        }
        if (error.message !== lastReason || options.clock.now() - lastLogged > REPEAT_LOG_MS) {
          const level = error instanceof TransientError ? 'warn' : 'error';
          options.logger[level](`${what} failed, retrying with backoff: ${error.message}`, {
            what,
            error_class: error.name,
            retries,
          });
          lastLogged = options.clock.now();
          lastReason = error.message;
        }
        await options.clock.sleep(backoffDelay(retries, options.policy ?? defaultBackoff), signal);
        if (signal.aborted) {
          current.delete(what);
          throw error;
        }
      }
    }
  };

  return {
    run,
    waiting: () => {
      let oldest: WaitState | undefined;
      for (const state of current.values()) if (!oldest || state.since < oldest.since) oldest = state;
      return oldest;
    },
  };
};
