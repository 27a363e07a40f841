// mm-backend as a long-lived part: the users API on the service part every service shares (health,
// metrics, listener, stop).
import type { Registry } from 'prom-client';
import { busCheck, databaseCheck } from '../core/dependency-checks.ts';
import { dlqStreamOf } from '../core/envelope.ts';
import type { Logger } from '../core/logger.ts';
import { streamsOfTopics } from '../core/topic-streams.ts';
import { createServicePart, type ServicePart } from '../http/service-part.ts';
import type { Bus } from '../ports/bus.ts';
import type { Store } from '../ports/store.ts';
import { createBackendMetrics } from './metrics.ts';
import { mountUserRoutes } from './routes.ts';
import { createUserService } from './user-service.ts';

export type BackendDeps = {
  readonly store: Store;
  readonly bus: Bus;
  readonly logger: Logger;
  readonly registry: Registry;
};

export type BackendOptions = {
  readonly host: string;
  readonly port: number;
  readonly topics: readonly string[];
  readonly healthIntervalMs?: number;
};

export type Backend = ServicePart;

export const createBackend = (deps: BackendDeps, options: BackendOptions): Backend => {
  const logger = deps.logger.child({ service: 'backend' });
  const metrics = createBackendMetrics(deps.registry, deps.bus, options.topics);
  const part = createServicePart({
    service: 'backend',
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
    ],
    healthIntervalMs: options.healthIntervalMs ?? 10_000,
    metrics: { json: metrics.json, path: '/monitoring/metrics' },
    start: (server) => logger.info(`mm-backend listening on ${server.url}`, { port: server.port }),
  });
  mountUserRoutes(part.app, createUserService(deps.store), (written) => metrics.outboxWritten(written.topic));
  return part;
};
