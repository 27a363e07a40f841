// mm-consumer as a long-lived part: the loop and the lag monitor, behind the service part every
// service shares (health, metrics, listener, stop).
import type { Registry } from 'prom-client';
import { type Clock, systemClock } from '../core/clock.ts';
import { busCheck, databaseCheck } from '../core/dependency-checks.ts';
import { dlqStreamOf } from '../core/envelope.ts';
import { compareStreamIds } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import { createOwnership } from '../core/partition-ownership.ts';
import { streamsOfTopics } from '../core/topic-streams.ts';
import { createServicePart, type ServicePart } from '../http/service-part.ts';
import type { Bus } from '../ports/bus.ts';
import type { Store } from '../ports/store.ts';
import { type ConsumerSettings, consumerDefaults } from './config.ts';
import { createConsumerRegistry } from './consumer-registry.ts';
import { createDeliverySource } from './deliveries.ts';
import { createFailureMemory } from './failure-memory.ts';
import type { HandlerMap } from './handler.ts';
import { groupCheck, workerCheck } from './health-checks.ts';
import { createLagMonitor } from './lag-monitor.ts';
import { createConsumerMetrics } from './metrics.ts';
import { createOrderGate } from './order-gate.ts';
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

export type ConsumerOptions = Omit<ConsumerSettings, 'staleConsumerMs'> & {
  /** Default: --stale-consumer-ms's default. */
  readonly staleConsumerMs?: number;
  readonly host: string;
  readonly port: number;
  readonly healthIntervalMs?: number;
  readonly lagSampleMs?: number;
  /** Longest drain on stop (default 10 s); a stop's deadline can only shorten it. */
  readonly drainMs?: number;
};

export type ConsumerService = ServicePart & { readonly worker: Worker };

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
  const ownership = createOwnership({
    leases: deps.store.leases,
    group: options.group,
    name: options.name,
    leaseMs: options.leaseMs,
    now: () => clock.now(),
    logger,
  });
  const gate = createOrderGate();
  const retrier = createRetrier({
    logger,
    clock,
    signal: giveUp.signal,
    // The group (or the stream) was deleted: create it again on the partitions owned.
    onNoGroup: () => Promise.all(ownership.partitions().map((p) => source.ensureGroup(p.stream))),
    onRetry: (dependency) => metrics.transientRetry(dependency),
  });
  const process = createBatchProcessor(
    { ...deps, logger, metrics, retrier, gate, failures: createFailureMemory(), now: () => clock.now() },
    options,
  );
  const worker = createWorker(
    { store: deps.store, bus: deps.bus, source, process, retrier, ownership, gate, logger, clock, giveUp },
    { ...options, ...(options.drainMs === undefined ? {} : { drainMs: options.drainMs }) },
  );
  const parked = (): Promise<number> => deps.store.parking.count(options.group);
  const registry = createConsumerRegistry({
    bus: deps.bus,
    group: options.group,
    name: options.name,
    topics: options.topics,
    staleMs: options.staleConsumerMs ?? consumerDefaults.staleConsumerMs,
    logger,
    now: () => clock.now(),
  });
  const lag = createLagMonitor({
    bus: deps.bus,
    group: options.group,
    topics: options.topics,
    metrics,
    logger,
    warnAboveS: options.lagWarnS,
    parked,
    intervalMs: options.lagSampleMs ?? 1_000,
    now: () => clock.now(),
  });
  // Background health checks (which log status changes) begin once the loop is up, so a normal
  // start is not reported as degraded; a start stuck waiting for a dependency still is. The grace
  // timer ends with the start or a stop, so it never keeps a finished process alive.
  const startGrace = new AbortController();
  const part = createServicePart({
    service: 'consumer',
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
      groupCheck(deps.bus, {
        ...options,
        now: () => clock.now(),
        parked,
        liveConsumers: registry.live,
      }),
      workerCheck(worker, { name: options.name, now: () => clock.now(), lags: () => lag.last() }),
    ],
    healthIntervalMs: options.healthIntervalMs ?? 10_000,
    metrics: { json: metrics.json, path: '/metrics' },
    start: async (server) => {
      const handled = Object.keys(deps.handlers);
      if (handled.length === 0) {
        logger.warn(
          `group ${options.group} has no handlers: every event is recorded as skipped${options.strict ? ' (--strict: dead-lettered)' : ''}`,
        );
      }
      await worker.start();
      lag.start();
      registry.start();
      logger.info(
        `mm-consumer ${options.name} in group ${options.group} on ${options.topics.join(',')}, listening on ${server.url}`,
        { port: server.port, handlers: handled },
      );
    },
    healthFrom: () =>
      Promise.race([worker.ready, clock.sleep(STARTUP_GRACE_MS, startGrace.signal)]).then(() =>
        startGrace.abort(),
      ),
    stop: async (stopOptions) => {
      startGrace.abort();
      await worker.stop(stopOptions);
      lag.stop();
      await registry.stop();
    },
  });
  return { ...part, worker };
};
