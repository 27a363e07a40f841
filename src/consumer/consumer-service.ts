// mm-consumer as a long-lived part: the loop, the lag monitor, health and metrics on one Hono app.
import type { Hono } from 'hono';
import type { Registry } from 'prom-client';
import { type Clock, systemClock } from '../core/clock.ts';
import { busCheck, databaseCheck } from '../core/dependency-checks.ts';
import { dlqStreamOf } from '../core/envelope.ts';
import { createHealthMonitor } from '../core/health.ts';
import { compareStreamIds } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import { createServiceApp } from '../http/app.ts';
import { type HttpServer, serveHttp } from '../http/serve.ts';
import type { Bus } from '../ports/bus.ts';
import type { Store } from '../ports/store.ts';
import type { ConsumerSettings } from './config.ts';
import { createDeliverySource } from './deliveries.ts';
import { createFailureMemory } from './failure-memory.ts';
import type { HandlerMap } from './handler.ts';
import { groupCheck, workerCheck } from './health-checks.ts';
import { createLagMonitor } from './lag-monitor.ts';
import { createConsumerMetrics } from './metrics.ts';
import { createBatchProcessor } from './process-batch.ts';
import { createRetrier } from './retrier.ts';
import { createWorker, type Worker } from './worker.ts';

const STARTUP_GRACE_MS = 5_000;

export type ConsumerDeps = {
  readonly store: Store;
  readonly bus: Bus;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly handlers: HandlerMap;
  readonly clock?: Clock;
};

export type ConsumerOptions = ConsumerSettings & {
  readonly host: string;
  readonly port: number;
  readonly healthIntervalMs?: number;
  readonly lagSampleMs?: number;
  readonly drainMs?: number;
};

export type ConsumerService = {
  readonly app: Hono;
  readonly worker: Worker;
  start(): Promise<HttpServer>;
  stop(): Promise<void>;
};

export const createConsumerService = (deps: ConsumerDeps, options: ConsumerOptions): ConsumerService => {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger.child({ service: 'consumer', group: options.group, consumer: options.name });
  const metrics = createConsumerMetrics(deps.registry, {
    group: options.group,
    topics: options.topics,
    compareIds: compareStreamIds,
  });
  const source = createDeliverySource(deps.bus, options, logger);
  const giveUp = new AbortController();
  const retrier = createRetrier({
    logger,
    clock,
    signal: giveUp.signal,
    onNoGroup: () => source.ensureGroups(),
    onRetry: (dependency) => metrics.transientRetry(dependency),
  });
  const process = createBatchProcessor(
    { ...deps, logger, metrics, retrier, failures: createFailureMemory(), now: () => clock.now() },
    options,
  );
  const worker = createWorker(
    { store: deps.store, source, process, retrier, logger, clock, giveUp },
    { ...options, ...(options.drainMs === undefined ? {} : { drainMs: options.drainMs }) },
  );
  const lag = createLagMonitor({
    bus: deps.bus,
    group: options.group,
    topics: options.topics,
    metrics,
    logger,
    warnAboveS: options.lagWarnS,
    intervalMs: options.lagSampleMs ?? 1_000,
    now: () => clock.now(),
  });
  const health = createHealthMonitor({
    service: 'consumer',
    logger,
    checks: [
      databaseCheck(deps.store),
      busCheck(deps.bus, { streams: options.topics.flatMap((t) => [t, dlqStreamOf(t)]) }),
      groupCheck(deps.bus, { ...options, now: () => clock.now() }),
      workerCheck(worker, { name: options.name, now: () => clock.now() }),
    ],
    intervalMs: options.healthIntervalMs ?? 10_000,
  });
  const app = createServiceApp({
    service: 'consumer',
    health,
    registry: deps.registry,
    logger,
    jsonMetrics: metrics.json,
    jsonMetricsPath: '/metrics',
  });

  let server: HttpServer | undefined;
  let stopped: Promise<void> | undefined;
  const startGrace = new AbortController();
  return {
    app,
    worker,
    start: async () => {
      server = await serveHttp(app, { host: options.host, port: options.port });
      const handled = Object.keys(deps.handlers);
      if (handled.length === 0) {
        logger.warn(
          `group ${options.group} has no handlers: every event is recorded as skipped${options.strict ? ' (--strict: dead-lettered)' : ''}`,
        );
      }
      await worker.start();
      lag.start();
      // Background health checks (which log status changes) begin once the loop is up, so a normal
      // start is not reported as degraded; a start stuck waiting for a dependency still is.
      // The grace timer ends with the start or a stop, so it never keeps a finished process alive.
      void Promise.race([worker.ready, clock.sleep(STARTUP_GRACE_MS, startGrace.signal)]).then(() => {
        startGrace.abort();
        if (!stopped) health.start();
      });
      logger.info(
        `mm-consumer ${options.name} in group ${options.group} on ${options.topics.join(',')}, listening on ${server.url}`,
        {
          port: server.port,
          handlers: handled,
        },
      );
      return server;
    },
    stop: () => {
      stopped ??= (async () => {
        startGrace.abort();
        await worker.stop();
        lag.stop();
        health.stop();
        const running = server;
        server = undefined;
        await running?.close();
      })();
      return stopped;
    },
  };
};
