// Runs mm-consumer in-process against real ports (the test's database and a key prefix on Redis),
// with its log lines captured.
import { createRedisBus } from '../../src/adapters/redis/bus.ts';
import { createRedisClient } from '../../src/adapters/redis/client.ts';
import { consumerDefaults } from '../../src/consumer/config.ts';
import {
  type ConsumerOptions,
  type ConsumerService,
  createConsumerService,
} from '../../src/consumer/consumer-service.ts';
import type { HandlerMap } from '../../src/consumer/handler.ts';
import { builtinHandlersFor } from '../../src/consumer/lint-profile-handler.ts';
import { createLogger, silentLogger } from '../../src/core/logger.ts';
import { createMetricsRegistry } from '../../src/core/metrics.ts';
import type { Bus } from '../../src/ports/bus.ts';
import type { Store } from '../../src/ports/store.ts';

export type RunningConsumer = {
  readonly service: ConsumerService;
  readonly bus: Bus;
  readonly url: string;
  logs(): string[];
  metrics(): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
};

let counter = 0;

export const startConsumer = async (
  target: { store: Store; redisUrl: string; keyPrefix: string },
  options: Partial<ConsumerOptions> & { handlers?: HandlerMap } = {},
): Promise<RunningConsumer> => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', sink: (line) => lines.push(line) });
  const bus = createRedisBus(createRedisClient({ url: target.redisUrl, logger: silentLogger }), {
    keyPrefix: target.keyPrefix,
  });
  const group = options.group ?? consumerDefaults.group;
  counter += 1;
  // Tests add entries themselves, without the relay that records each topic's partition count.
  for (const topic of options.topics ?? ['identity']) {
    if ((await bus.partitions(topic)) === undefined) await bus.setPartitions(topic, 1);
  }
  const service = createConsumerService(
    {
      store: target.store,
      bus,
      logger,
      registry: createMetricsRegistry({ defaults: false }),
      handlers: options.handlers ?? builtinHandlersFor(group),
    },
    {
      group,
      topics: ['identity'],
      name: `test-consumer-${process.pid}-${counter}`,
      batchSize: 100,
      blockMs: 200,
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
      lagSampleMs: 200,
      ...options,
    },
  );
  const server = await service.start();
  await service.worker.ready;
  let stopped = false;
  return {
    service,
    bus,
    url: server.url,
    logs: () => lines,
    metrics: async () => (await (await fetch(`${server.url}/metrics`)).json()) as Record<string, unknown>,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await service.stop();
      await bus.close();
    },
  };
};
