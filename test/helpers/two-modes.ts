// Runs consumer services in-process on either mode's ports: Postgres + Redis (the test's database and
// a key prefix) or one local SQLite file with the stream shim, for tests that must hold in both.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createRedisBus } from '../../src/adapters/redis/bus.ts';
import { openLocalPorts } from '../../src/adapters/sqlite/local-ports.ts';
import { consumerDefaults } from '../../src/consumer/config.ts';
import {
  type ConsumerOptions,
  type ConsumerService,
  createConsumerService,
} from '../../src/consumer/consumer-service.ts';
import { builtinHandlersFor } from '../../src/consumer/lint-profile-handler.ts';
import { createLogger, silentLogger } from '../../src/core/logger.ts';
import { createMetricsRegistry } from '../../src/core/metrics.ts';
import type { Bus } from '../../src/ports/bus.ts';
import type { Store } from '../../src/ports/store.ts';
import { createTestDatabase } from './postgres.ts';
import { createTestRedis } from './redis.ts';

export const GROUP = 'markdown-lint-consumer';

export type ModePorts = {
  readonly mode: 'production' | 'local';
  readonly store: Store;
  readonly bus: Bus;
  /** Another bus client on the same streams, as another process would have. */
  openBus(): Promise<Bus>;
  cleanup(): Promise<void>;
};

export const productionPorts = async (): Promise<ModePorts> => {
  const db = await createTestDatabase();
  const redis = await createTestRedis();
  const buses: Bus[] = [];
  const openBus = async (): Promise<Bus> => {
    const bus = createRedisBus(new Redis(redis.url), { keyPrefix: redis.prefix });
    buses.push(bus);
    return bus;
  };
  const bus = await openBus();
  return {
    mode: 'production',
    store: db.store,
    bus,
    openBus,
    cleanup: async () => {
      await Promise.allSettled(buses.map((b) => b.close()));
      await redis.cleanup();
      await db.drop();
    },
  };
};

export const localPorts = async (): Promise<ModePorts> => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-two-modes-'));
  const file = join(dir, 'local.db');
  const local = await openLocalPorts({ file, logger: silentLogger });
  const opened: Array<{ close(): Promise<void> }> = [];
  return {
    mode: 'local',
    store: local.store,
    bus: local.bus,
    openBus: async () => {
      const other = await openLocalPorts({ file, logger: silentLogger });
      opened.push(other);
      return other.bus;
    },
    cleanup: async () => {
      await Promise.allSettled(opened.map((o) => o.close()));
      await local.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

export type InProcessConsumer = {
  readonly service: ConsumerService;
  readonly url: string;
  logs(): string[];
  metrics(): Promise<Record<string, unknown>>;
  prometheus(): Promise<string>;
  health(): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
};

/** A consumer service on the ports, its own registry and log capture; `bus` defaults to a fresh client. */
export const runConsumer = async (
  ports: ModePorts,
  options: Partial<ConsumerOptions> & { bus?: Bus } = {},
): Promise<InProcessConsumer> => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', sink: (line) => lines.push(line) });
  const bus = options.bus ?? (await ports.openBus());
  const group = options.group ?? GROUP;
  // Tests add entries themselves, without the relay that records each topic's partition count.
  for (const topic of options.topics ?? ['identity']) {
    if ((await bus.partitions(topic)) === undefined) await bus.setPartitions(topic, 1);
  }
  const service = createConsumerService(
    {
      store: ports.store,
      bus,
      logger,
      registry: createMetricsRegistry({ defaults: false }),
      handlers: builtinHandlersFor(group),
    },
    {
      group,
      topics: ['identity'],
      name: `c-${process.pid}`,
      batchSize: 100,
      blockMs: 100,
      claimIdleMs: 30_000,
      maxDeliveries: 5,
      leaseMs: consumerDefaults.leaseMs,
      onDeadLetter: consumerDefaults.onDeadLetter,
      startId: '0',
      lagWarnS: 60,
      strict: false,
      handlerModule: undefined,
      host: '127.0.0.1',
      port: 0,
      lagSampleMs: 100,
      healthIntervalMs: 100,
      ...options,
    },
  );
  const server = await service.start();
  await service.worker.ready;
  const get = async (path: string) => fetch(`${server.url}${path}`);
  return {
    service,
    url: server.url,
    logs: () => lines,
    metrics: async () => (await (await get('/metrics')).json()) as Record<string, unknown>,
    prometheus: async () => (await get('/metrics/prometheus')).text(),
    health: async () => (await (await get('/health/detailed')).json()) as Record<string, unknown>,
    stop: () => service.stop(),
  };
};
