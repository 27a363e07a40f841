// mm-relay as a long-lived part: the outbox-to-stream loop, the backlog sampler, the notification
// subscription, health and metrics on one Hono app.
import type { Hono } from 'hono';
import type { Registry } from 'prom-client';
import { type BackoffPolicy, backoffDelay } from '../core/backoff.ts';
import { withDeadline } from '../core/bounded.ts';
import { busCheck, databaseCheck } from '../core/dependency-checks.ts';
import { dlqStreamOf } from '../core/envelope.ts';
import { coerceError } from '../core/errors.ts';
import { createHealthMonitor } from '../core/health.ts';
import type { Logger } from '../core/logger.ts';
import { createServiceApp } from '../http/app.ts';
import { type HttpServer, serveHttp } from '../http/serve.ts';
import type { Bus } from '../ports/bus.ts';
import type { Store } from '../ports/store.ts';
import { createBacklogSampler } from './backlog-sampler.ts';
import type { RelayConfig } from './config.ts';
import { outboxCheck, relayCheck } from './health-checks.ts';
import { createRelayMetrics } from './metrics.ts';
import { createRelayLoop, type RelayStatus } from './relay-loop.ts';
import { createTrimmer } from './trimmer.ts';

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
  | 'batchSize'
  | 'batchesPerCommit'
  | 'pollIntervalMs'
  | 'maxAttempts'
  | 'maxEventBytes'
  | 'retryBackoffMs'
  | 'retryBackoffMaxMs'
  | 'streamMaxLen'
  | 'streamHardMax'
  | 'trimIntervalMs'
  | 'backlogWarn'
  | 'backlogAgeWarnS'
> & {
  readonly healthIntervalMs?: number;
  readonly backlogSampleMs?: number;
  readonly transientBackoff?: BackoffPolicy;
};

export type Relay = {
  readonly app: Hono;
  start(): Promise<HttpServer>;
  /** Finishes the batch in flight and stops everything; gives up waiting at `deadline` (epoch ms). */
  stop(options?: { deadline?: number }): Promise<void>;
  status(): RelayStatus;
};

export const createRelay = (deps: RelayDeps, options: RelayOptions): Relay => {
  const logger = deps.logger.child({ service: 'relay' });
  const metrics = createRelayMetrics(deps.registry, options.topics);
  const trimmer = createTrimmer({
    bus: deps.bus,
    logger,
    maxLen: options.streamMaxLen,
    hardMax: options.streamHardMax,
    intervalMs: options.trimIntervalMs,
    onTrimmedUnconsumed: metrics.trimmedUnconsumed,
  });
  const loop = createRelayLoop({
    store: deps.store,
    bus: deps.bus,
    logger,
    metrics,
    trimmer,
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
  const health = createHealthMonitor({
    service: 'relay',
    logger,
    checks: [
      databaseCheck(deps.store),
      busCheck(deps.bus, { streams: options.topics.flatMap((t) => [t, dlqStreamOf(t)]) }),
      outboxCheck(() => sampler.read(BACKLOG_FRESH_MS), options),
      relayCheck(loop.status),
    ],
    intervalMs: options.healthIntervalMs ?? 5_000,
  });
  const app = createServiceApp({
    service: 'relay',
    health,
    registry: deps.registry,
    logger,
    jsonMetrics: metrics.json,
    jsonMetricsPath: '/metrics',
  });

  let server: HttpServer | undefined;
  let unwatch: (() => Promise<void>) | undefined;
  let stopped = false;
  let stopping: Promise<void> | undefined;

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

  return {
    app,
    start: async () => {
      server = await serveHttp(app, { host: options.host, port: options.port });
      logger.info(`mm-relay listening on ${server.url}`, {
        port: server.port,
        batch_size: options.batchSize,
        max_attempts: options.maxAttempts,
      });
      void subscribe();
      loop.start();
      sampler.start();
      health.start();
      return server;
    },
    stop: ({ deadline } = {}) => {
      stopping ??= (async () => {
        stopped = true;
        health.stop();
        await loop.stop(deadline === undefined ? {} : { deadline });
        const left = Math.max(100, (deadline ?? Date.now() + 5_000) - Date.now());
        await withDeadline(Promise.allSettled([sampler.stop(), unwatch?.()]), left, 'relay helpers').catch(
          () => {},
        );
        const running = server;
        server = undefined;
        await running?.close();
      })();
      return stopping;
    },
    status: loop.status,
  };
};
