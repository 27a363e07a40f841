// The relay's main loop. States: `starting` -> `running` (drain batches back to back while they come
// back full, then wait for a notification or the poll interval) <-> `retrying` (a dependency failed
// transiently: the batch rolled back, probe it with capped backoff and jitter, forever) -> `stopped`.
// Several relays run at once, each draining the outbox partitions it holds by lease (its claim scope):
// each partition has one relay at a time, so per-aggregate order holds.
import { type BackoffPolicy, backoffDelay } from '../core/backoff.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import {
  coerceError,
  ErrorCodes,
  FencedError,
  isTransient,
  type MmError,
  type TransientError,
} from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Bus } from '../ports/bus.ts';
import type { ClaimScope } from '../ports/outbox.ts';
import type { Store } from '../ports/store.ts';
import { applyBatchReport } from './batch-effects.ts';
import { drainOutbox } from './drain-outbox.ts';
import type { RelayMetrics } from './metrics.ts';
import type { PartitionRouter } from './partition-router.ts';
import { type BatchReport, createBatchPublisher, type PublishPolicy } from './publish-batch.ts';
import type { Trimmer } from './trimmer.ts';
import { createWakeSignal } from './wake-signal.ts';

export type Outage = {
  /** What failed, as operators say it: `Redis`, `Database`, or `Relay` for anything else. */
  readonly dependency: string;
  readonly since: number;
  readonly reason: string;
  readonly retries: number;
  readonly nextRetryAt: number;
};

export type RelayStatus = {
  readonly state: 'starting' | 'running' | 'retrying' | 'stopped';
  readonly outage: Outage | undefined;
  readonly lastBatchAt: number | undefined;
};

export type RelayLoopOptions = {
  readonly store: Store;
  readonly bus: Bus;
  readonly logger: Logger;
  readonly metrics: RelayMetrics;
  readonly trimmer: Trimmer;
  readonly policy: PublishPolicy;
  /** Told which topics each committed batch published to. */
  readonly onPublished?: (topics: readonly string[]) => void;
  readonly batchSize: number;
  /** Batches claimed and published in one drain transaction (the next claimed while one publishes). */
  readonly batchesPerCommit: number;
  readonly pollIntervalMs: number;
  /** Routes rows to their partition streams; absent: each row to its topic's own stream. */
  readonly router?: PartitionRouter;
  /** The partitions this relay may claim now, and its leases on them; absent: all of them, unfenced. */
  readonly scope?: () => ClaimScope;
  /** A drain found a lease of its scope lost: learn what is still held before the next one. */
  readonly onFenced?: () => Promise<void>;
  /** Runs once before the first drain (retried like a drain); a configuration error ends the loop. */
  readonly beforeFirstDrain?: () => Promise<void>;
  /** Called when the loop ended on an error it cannot retry (a configuration error). */
  readonly onFatal?: (error: Error) => void;
  /** Backoff while a dependency is down (default 100 ms doubling up to 5 s). */
  readonly transientBackoff?: BackoffPolicy;
  readonly clock?: Clock;
};

export type RelayLoop = {
  start(): void;
  /** Lets the batch in flight finish, then ends the loop; gives up waiting at `deadline` (epoch ms). */
  stop(options?: { deadline?: number }): Promise<void>;
  /** Rings the loop awake (an outbox insert was committed). */
  wake(): void;
  status(): RelayStatus;
};

const defaultTransientBackoff: BackoffPolicy = { baseMs: 100, maxMs: 5_000 };

const dependencyName = (error: Error): string => {
  if (!isTransient(error)) return 'Relay';
  const names: Record<TransientError['dependency'], string> = {
    redis: 'Redis',
    bus: 'Stream store',
    database: 'Database',
    store: 'Database',
    other: 'A dependency',
  };
  return names[error.dependency];
};

export const createRelayLoop = (options: RelayLoopOptions): RelayLoop => {
  const { store, bus, logger, metrics } = options;
  const clock = options.clock ?? systemClock;
  const backoff = options.transientBackoff ?? defaultTransientBackoff;
  const doorbell = createWakeSignal();
  const abort = new AbortController();
  let state: RelayStatus['state'] = 'starting';
  let outage: Outage | undefined;
  let lastBatchAt: number | undefined;
  let running: Promise<void> | undefined;

  /**
   * One drain transaction (up to batchesPerCommit batches, the next claimed while one is published);
   * returns whether it stopped on a full batch (more rows are likely waiting).
   */
  const drainOnce = async (): Promise<boolean> => {
    const { router } = options;
    const scope = options.scope?.();
    if (scope && scope.partitions.length === 0) {
      // Nothing held (more relays than partitions, or not yet balanced): nothing to claim.
      doorbell.clear();
      await options.trimmer.maybeTrim();
      return false;
    }
    const publisher = createBatchPublisher(bus, options.policy, clock.now, router?.route);
    const published: Array<{ report: BatchReport; durationS: number }> = [];
    let claimed = 0;
    try {
      const drained = await drainOutbox(
        store.outbox,
        {
          limit: options.batchSize,
          maxBatches: options.batchesPerCommit,
          // Notifications that came before the drain looked are answered by this drain.
          beforeLook: () => doorbell.clear(),
          ...(scope ? { scope } : {}),
          ...(router ? { onJoined: router.refresh } : {}),
        },
        async (rows) => {
          claimed += rows.length;
          const started = performance.now();
          const result = await publisher.publish(rows);
          published.push({ report: result.report, durationS: (performance.now() - started) / 1000 });
          return result.outcome;
        },
      );
      // The counts read for this drain: one another relay changed stops this one (exit 78).
      if (router && !drained.paused) await router.verify();
      if (drained.claimed > 0) {
        lastBatchAt = clock.now();
        const effects = {
          metrics,
          trimmer: options.trimmer,
          logger,
          policy: options.policy,
          ...(options.onPublished ? { onPublished: options.onPublished } : {}),
        };
        for (const batch of published) {
          applyBatchReport(batch.report, effects, { durationS: batch.durationS, publishedAt: lastBatchAt });
        }
      }
      await options.trimmer.maybeTrim();
      return !drained.paused && drained.batches > 0 && drained.claimed >= options.batchSize * drained.batches;
    } catch (error) {
      if (claimed > 0) metrics.batchFailed(claimed);
      throw error;
    }
  };

  /** During an outage: a cheap probe of what failed before claiming rows again. */
  const probe = async (failed: Outage): Promise<void> => {
    if (failed.dependency === 'Redis' || failed.dependency === 'Stream store') await bus.ping();
    else if (failed.dependency === 'Database') await store.ping();
  };

  const onFailure = (thrown: unknown): number => {
    const error = coerceError(thrown);
    const dependency = dependencyName(error);
    const retries = outage && outage.dependency === dependency ? outage.retries + 1 : 0;
    const delay = backoffDelay(retries, backoff);
    const now = clock.now();
    outage = {
      dependency,
      since: outage?.since ?? now,
      reason: error.message,
      retries,
      nextRetryAt: now + delay,
    };
    state = 'retrying';
    if (isTransient(error)) {
      logger.warn(`${dependency} unavailable, retrying in ${delay} ms: ${error.message}`, {
        dependency,
        retries,
      });
    } else {
      logger.error(`Relay batch failed, retrying in ${delay} ms: ${error.message}`, { error, retries });
    }
    return delay;
  };

  const recovered = (): void => {
    if (!outage) return;
    const downMs = clock.now() - outage.since;
    logger.info(`${outage.dependency} available again after ${downMs} ms; publishing resumed`, {
      dependency: outage.dependency,
      down_ms: downMs,
    });
    outage = undefined;
    state = 'running';
  };

  const waitForWork = async (): Promise<void> => {
    await doorbell.wait(options.pollIntervalMs, abort.signal);
  };

  const isFatal = (error: Error): boolean => (error as Partial<MmError>).code === ErrorCodes.config;

  const loop = async (): Promise<void> => {
    state = 'running';
    let ready = options.beforeFirstDrain === undefined;
    while (!abort.signal.aborted) {
      try {
        if (outage) await probe(outage);
        if (!ready) {
          await options.beforeFirstDrain?.();
          ready = true;
        }
        const full = await drainOnce();
        recovered();
        if (!full && !abort.signal.aborted) await waitForWork();
      } catch (thrown) {
        const error = coerceError(thrown);
        if (error instanceof FencedError) {
          // Nothing was published: the drain rolled back before its first batch went out.
          logger.warn(`Relay drain stopped: ${error.message}; the partition's new owner publishes it`);
          await options.onFenced?.();
          continue;
        }
        if (isFatal(error)) {
          logger.error(`mm-relay cannot go on: ${error.message}`);
          options.onFatal?.(error);
          break;
        }
        const delay = onFailure(error);
        await clock.sleep(delay, abort.signal);
      }
    }
    state = 'stopped';
  };

  return {
    start: () => {
      running ??= loop();
    },
    stop: async ({ deadline } = {}) => {
      abort.abort();
      doorbell.ring();
      if (!running) {
        state = 'stopped';
        return;
      }
      const budget = deadline === undefined ? undefined : Math.max(0, deadline - clock.now());
      if (budget === undefined) await running;
      else await Promise.race([running, clock.sleep(budget)]);
    },
    wake: () => doorbell.ring(),
    status: () => ({ state, outage, lastBatchAt }),
  };
};
