// mm-backend as a long-lived part: the users API, health and metrics on one Hono app.
import type { Hono } from 'hono';
import type { Registry } from 'prom-client';
import { busCheck, databaseCheck } from '../core/dependency-checks.ts';
import { dlqStreamOf } from '../core/envelope.ts';
import { createHealthMonitor } from '../core/health.ts';
import type { Logger } from '../core/logger.ts';
import { createServiceApp } from '../http/app.ts';
import { type HttpServer, serveHttp } from '../http/serve.ts';
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

export type Backend = {
  readonly app: Hono;
  start(): Promise<HttpServer>;
  stop(): Promise<void>;
};

export const createBackend = (deps: BackendDeps, options: BackendOptions): Backend => {
  const logger = deps.logger.child({ service: 'backend' });
  const metrics = createBackendMetrics(deps.registry, deps.bus, options.topics);
  const health = createHealthMonitor({
    service: 'backend',
    logger,
    checks: [
      databaseCheck(deps.store),
      busCheck(deps.bus, { streams: options.topics.flatMap((t) => [t, dlqStreamOf(t)]) }),
    ],
    intervalMs: options.healthIntervalMs ?? 10_000,
  });
  const app = createServiceApp({
    service: 'backend',
    health,
    registry: deps.registry,
    logger,
    jsonMetrics: metrics.json,
    jsonMetricsPath: '/monitoring/metrics',
  });
  mountUserRoutes(app, createUserService(deps.store), (written) => metrics.outboxWritten(written.topic));

  let server: HttpServer | undefined;
  return {
    app,
    start: async () => {
      server = await serveHttp(app, { host: options.host, port: options.port });
      health.start();
      logger.info(`mm-backend listening on ${server.url}`, { port: server.port });
      return server;
    },
    stop: async () => {
      health.stop();
      const running = server;
      server = undefined;
      await running?.close();
    },
  };
};
