// mm-relay as a long-lived part: the outbox-to-stream loop over the partitions it leases, the backlog
// sampler and the notification subscription, behind the service part every service shares (health,
// metrics, listener, stop).
import { randomBytes } from 'node:crypto';
import type { Registry } from 'prom-client';
import { defaultServiceName } from '../core/announce.ts';
import { type BackoffPolicy, backoffDelay } from '../core/backoff.ts';
import { withDeadline } from '../core/bounded.ts';
import { ensureDeadLetterStreamsSoon } from '../core/dead-letter-streams.ts';
import { busCheck, databaseCheck } from '../core/dependency-checks.ts';
import { dlqStreamOf } from '../core/envelope.ts';
import { coerceError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { streamsOfTopics } from '../core/topic-streams.ts';
import { createServicePart, type ServicePart } from '../http/service-part.ts';
import type { Bus } from '../ports/bus.ts';
import type { Store } from '../ports/store.ts';
import { createBacklogSampler } from './backlog-sampler.ts';
import type { RelayConfig } from './config.ts';
import { outboxCheck, relayCheck, retentionCheck } from './health-checks.ts';
import { createRelayMetrics } from './metrics.ts';
import { createPartitionRouter } from './partition-router.ts';
import { settlePartitions } from './partition-switch.ts';
import { createRelayLoop, type RelayStatus } from './relay-loop.ts';
import { createRelayPartitions } from './relay-partitions.ts';
import type { RetentionLimits } from './retention.ts';
import { createTrimmer } from './trimmer.ts';
import { createUnlistedTopics } from './unlisted-topics.ts';

// /health/detailed reuses the sampler's count while it is this fresh, rather than counting again.
const BACKLOG_FRESH_MS = 3_000;

export type RelayDeps = {
  readonly store: Store;
  readonly bus: Bus;
  readonly logger: Logger;
  readonly registry: Registry;
};

export type RelayOptions = Pick<
  RelayConfig,
  | 'host'
  | 'port'
  | 'topics'
  | 'partitions'
  | 'leaseMs'
  | 'batchSize'
  | 'batchesPerCommit'
  | 'pollIntervalMs'
  | 'maxAttempts'
  | 'maxEventBytes'
  | 'retryBackoffMs'
  | 'retryBackoffMaxMs'
  | 'streamMaxLen'
  | 'streamHardMax'
  | 'streamMaxAge'
  | 'streamMaxBytes'
  | 'streamHardMaxBytes'
  | 'deadGroupAfterMs'
  | 'trimIntervalMs'
  | 'backlogWarn'
  | 'backlogAgeWarnS'
> & {
  /** Holds this relay's partition leases (default: `<host>-<pid>-<random>`). */
  readonly name?: string;
  readonly healthIntervalMs?: number;
  readonly backlogSampleMs?: number;
  readonly transientBackoff?: BackoffPolicy;
};

/**
 * `stop` finishes the batch in flight and stops everything; it gives up waiting at the deadline.
 * `failed` resolves with the error that ended the relay for good (a --partitions change refused).
 */
export type Relay = ServicePart & { status(): RelayStatus; failed(): Promise<Error> };

const describeHeld = (held: ReadonlyArray<{ partition: number }>): string =>
  held.length === 0 ? 'none (yet)' : held.map((p) => p.partition).join(', ');

export const createRelay = (deps: RelayDeps, options: RelayOptions): Relay => {
  const logger = deps.logger.child({ service: 'relay' });
  const metrics = createRelayMetrics(deps.registry, options.topics);
  const limits: RetentionLimits = {
    maxLen: options.streamMaxLen,
    hardMax: options.streamHardMax,
    maxAgeMs: options.streamMaxAge,
    maxBytes: options.streamMaxBytes,
    hardMaxBytes: options.streamHardMaxBytes,
    deadGroupAfterMs: options.deadGroupAfterMs,
  };
  const trimmer = createTrimmer({
    bus: deps.bus,
    logger,
    limits,
    intervalMs: options.trimIntervalMs,
    streams: () => streamsOfTopics(deps.bus, options.topics),
    onTrimmedUnconsumed: metrics.trimmedUnconsumed,
    onStatus: metrics.retention,
  });
  const unlisted = createUnlistedTopics(options.topics);
  const router = createPartitionRouter(deps.bus, options);
  const partitions = createRelayPartitions({
    leases: deps.store.leases,
    // Relays in one process (tests, drills) need names of their own.
    name: options.name ?? `${defaultServiceName()}-${randomBytes(2).toString('hex')}`,
    count: options.partitions,
    leaseMs: options.leaseMs,
    logger,
    now: Date.now,
    onTaken: () => loop.wake(),
  });
  metrics.partitions(() => partitions.held(Date.now()).length, options.partitions);
  let fail: (error: Error) => void = () => {};
  const failure = new Promise<Error>((resolve) => {
    fail = resolve;
  });
  const loop = createRelayLoop({
    store: deps.store,
    bus: deps.bus,
    logger,
    metrics,
    trimmer,
    onPublished: unlisted.record,
    router,
    beforeFirstDrain: async () => {
      await settlePartitions(
        {
          bus: deps.bus,
          outbox: deps.store.outbox,
          logger,
          sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        },
        options.topics,
        options.partitions,
      );
      metrics.trackStreams(await streamsOfTopics(deps.bus, options.topics));
      // Only now: a relay refused a --partitions change never takes partitions from the others.
      await partitions.start();
      logger.info(
        `mm-relay ${partitions.name} drains outbox partitions ${describeHeld(partitions.held(Date.now()))} of ${options.partitions}`,
        { relay: partitions.name, partitions: options.partitions },
      );
    },
    scope: () => partitions.scope(Date.now()),
    onFenced: partitions.tick,
    onFatal: (error) => {
      // Its partitions go to the other relays now, not when the process gets around to stopping.
      void partitions.stop();
      fail(error);
    },
    batchSize: options.batchSize,
    batchesPerCommit: options.batchesPerCommit,
    pollIntervalMs: options.pollIntervalMs,
    policy: {
      maxAttempts: options.maxAttempts,
      maxEventBytes: options.maxEventBytes,
      backoff: { baseMs: options.retryBackoffMs, maxMs: options.retryBackoffMaxMs },
    },
    ...(options.transientBackoff ? { transientBackoff: options.transientBackoff } : {}),
  });
  const sampler = createBacklogSampler({
    outbox: deps.store.outbox,
    onSample: metrics.backlog,
    ...(options.backlogSampleMs === undefined ? {} : { intervalMs: options.backlogSampleMs }),
  });
  let unwatch: (() => Promise<void>) | undefined;
  let stopped = false;
  const stopping = new AbortController();

  // Notifications only shorten the wait; until the subscription stands the poll interval covers.
  const subscribe = async (attempt = 0): Promise<void> => {
    const watch = deps.store.outbox.watch;
    if (!watch || stopped) return;
    try {
      const unsubscribe = await watch.call(deps.store.outbox, loop.wake);
      if (stopped) await unsubscribe().catch(() => {});
      else unwatch = unsubscribe;
    } catch (thrown) {
      const delay = backoffDelay(attempt, { baseMs: 500, maxMs: 30_000 });
      logger.debug(
        `Outbox notifications unavailable, retrying in ${delay} ms: ${coerceError(thrown).message}`,
      );
      setTimeout(() => void subscribe(attempt + 1), delay).unref();
    }
  };

  const part = createServicePart({
    service: 'relay',
    logger,
    registry: deps.registry,
    host: options.host,
    port: options.port,
    checks: [
      databaseCheck(deps.store),
      busCheck(deps.bus, {
        streams: async () => [
          ...(await streamsOfTopics(deps.bus, options.topics)),
          ...options.topics.map(dlqStreamOf),
        ],
      }),
      outboxCheck(() => sampler.read(BACKLOG_FRESH_MS), options),
      relayCheck(loop.status, partitions),
      unlisted.check,

      retentionCheck(trimmer.status, limits),
    ],
    healthIntervalMs: options.healthIntervalMs ?? 5_000,
    metrics: { json: metrics.json, path: '/metrics' },
    start: (server) => {
      logger.info(`mm-relay listening on ${server.url}`, {
        port: server.port,
        batch_size: options.batchSize,
        max_attempts: options.maxAttempts,
      });
      void subscribe();
      void ensureDeadLetterStreamsSoon(deps.bus, options.topics, logger, stopping.signal);
      loop.start();
      sampler.start();
      trimmer.start();
    },
    stop: async ({ deadline }) => {
      stopped = true;
      stopping.abort();
      await loop.stop(deadline === undefined ? {} : { deadline });
      if (deadline !== undefined && loop.status().state !== 'stopped') {
        logger.warn('mm-relay: the batch in flight did not finish in time; it rolls back and is sent again');
      }
      const left = Math.max(100, (deadline ?? Date.now() + 5_000) - Date.now());
      // After the loop: the other relays take the partitions over at their next tick.
      await withDeadline(
        Promise.allSettled([partitions.stop(), sampler.stop(), trimmer.stop(), unwatch?.()]),
        left,
        'relay helpers',
      ).catch(() => {});
    },
  });
  return { ...part, status: loop.status, failed: () => failure };
};
