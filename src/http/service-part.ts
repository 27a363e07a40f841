// What relay, consumer and backend share as long-lived parts: background health checks, the Hono app
// (liveness, detailed health, JSON and Prometheus metrics), its listener, and one lifecycle. `stop`
// stops the health checks, lets the service drain its own work by the deadline, then closes the
// listener (so /health answers while draining); it is idempotent.
import type { Hono } from 'hono';
import type { Registry } from 'prom-client';
import { createHealthMonitor, type HealthCheck } from '../core/health.ts';
import type { Logger } from '../core/logger.ts';
import { createServiceApp } from './app.ts';
import { type HttpServer, serveHttp } from './serve.ts';

/** `deadline` (epoch ms): when a service gives up draining; without one each service's own limit. */
export type StopOptions = { readonly deadline?: number };

export type ServicePartOptions = {
  readonly service: 'backend' | 'relay' | 'consumer';
  readonly logger: Logger;
  readonly registry: Registry;
  readonly host: string;
  readonly port: number;
  readonly checks: readonly HealthCheck[];
  /** How often the checks run in the background, so outages are logged even when nobody asks. */
  readonly healthIntervalMs: number;
  /** The runbook's JSON view (`path`: `/metrics`, or `/monitoring/metrics` for the backend). */
  readonly metrics: { readonly json: () => Promise<Record<string, unknown>>; readonly path: string };
  /** Starts the service's own work once the listener stands. */
  start?(server: HttpServer): Promise<void> | void;
  /** Background checks begin when this settles (default: as soon as `start` returned). */
  healthFrom?(): Promise<unknown>;
  /** Drains the service's own work, giving up at the deadline. */
  stop?(options: StopOptions): Promise<void>;
};

export type ServicePart = {
  readonly app: Hono;
  start(): Promise<HttpServer>;
  stop(options?: StopOptions): Promise<void>;
};

export const createServicePart = (options: ServicePartOptions): ServicePart => {
  const health = createHealthMonitor({
    service: options.service,
    logger: options.logger,
    checks: options.checks,
    intervalMs: options.healthIntervalMs,
  });
  const app = createServiceApp({
    service: options.service,
    health,
    registry: options.registry,
    logger: options.logger,
    jsonMetrics: options.metrics.json,
    jsonMetricsPath: options.metrics.path,
  });

  let server: HttpServer | undefined;
  let stopping: Promise<void> | undefined;
  return {
    app,
    start: async () => {
      const listening = await serveHttp(app, { host: options.host, port: options.port });
      server = listening;
      await options.start?.(listening);
      const from = options.healthFrom?.() ?? Promise.resolve();
      void from.then(
        () => {
          if (!stopping) health.start();
        },
        () => {},
      );
      return listening;
    },
    stop: (stopOptions = {}) => {
      stopping ??= (async () => {
        health.stop();
        await options.stop?.(stopOptions);
        const running = server;
        server = undefined;
        await running?.close();
      })();
      return stopping;
    },
  };
};
