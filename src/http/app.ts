// The Hono app every service mounts: liveness, detailed health, JSON and Prometheus metrics, errors.
import { Hono } from 'hono';
import { Counter, type Registry } from 'prom-client';
import { coerceError } from '../core/errors.ts';
import { type HealthMonitor, httpStatusFor } from '../core/health.ts';
import type { Logger } from '../core/logger.ts';
import { problem, problemFromError, statusFor } from './problem.ts';

export type ServiceAppOptions = {
  readonly service: string;
  readonly health: HealthMonitor;
  readonly registry: Registry;
  readonly logger: Logger;
  /** The runbook's JSON metrics view, read from the same registry as the Prometheus text. */
  readonly jsonMetrics: () => Promise<Record<string, unknown>>;
  /** `/metrics` for relay and consumers, `/monitoring/metrics` for the backend. */
  readonly jsonMetricsPath: string;
  readonly now?: () => number;
};

export const createServiceApp = (options: ServiceAppOptions): Hono => {
  const app = new Hono();
  const now = options.now ?? Date.now;
  const startedAt = now();
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests served, by route and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [options.registry],
  });

  app.use(async (c, next) => {
    await next();
    requests.inc({
      route: c.req.routePath || 'unmatched',
      method: c.req.method,
      status: String(c.res.status),
    });
  });

  // Liveness: answers without touching any dependency.
  app.get('/health', (c) =>
    c.json({
      status: 'healthy',
      service: options.service,
      time: new Date(now()).toISOString(),
      uptime_s: Math.round((now() - startedAt) / 1000),
    }),
  );

  app.get('/health/detailed', async (c) => {
    const report = await options.health.check();
    return c.json(report, httpStatusFor(report.status));
  });

  app.get(options.jsonMetricsPath, async (c) => c.json(await options.jsonMetrics()));

  app.get('/metrics/prometheus', async (c) =>
    c.body(await options.registry.metrics(), 200, { 'content-type': options.registry.contentType }),
  );

  app.notFound((c) => problem(c, 404, `no route ${c.req.method} ${c.req.path}`));
  app.onError((thrown, c) => {
    const status = statusFor(thrown);
    // What the client does not read (a database's own text) is here, for the operator.
    if (status === 500) {
      options.logger.error(`HTTP ${c.req.method} ${c.req.path} failed: ${coerceError(thrown).message}`, {
        error: thrown,
      });
    } else if (status === 503) {
      options.logger.warn(`HTTP ${c.req.method} ${c.req.path} answered 503: ${coerceError(thrown).message}`);
    }
    return problemFromError(c, thrown);
  });
  return app;
};
