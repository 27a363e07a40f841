// mm-backend as a long-lived part: the users API on the service part every service shares (health,
// metrics, listener, stop).
import type { Registry } from 'prom-client';
import { busCheck, databaseCheck } from '../core/dependency-checks.ts';
import { dlqStreamOf } from '../core/envelope.ts';
import type { HealthCheck } from '../core/health.ts';
import type { Logger } from '../core/logger.ts';
import { streamsOfTopics } from '../core/topic-streams.ts';
import { createServicePart, type ServicePart } from '../http/service-part.ts';
import type { Bus } from '../ports/bus.ts';
import type { Store } from '../ports/store.ts';
import { isLoopbackHost, requireBearer } from './api-tokens.ts';
import { createBackendMetrics } from './metrics.ts';
import { withRequestDeadline } from './request-deadline.ts';
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
  /** How long a request waits for the database before it answers 503 (default 5 s). */
  readonly requestTimeoutMs?: number;
  /** Bearer tokens the mutating users API routes want; none: those routes are open. */
  readonly apiTokens?: readonly string[];
  /** Tokens-free on a public address, by choice: health says so. */
  readonly insecureNoAuth?: boolean;
};

/** Degraded while the users API is open to anyone who can reach a public address. */
const authCheck = (options: BackendOptions): HealthCheck => ({
  name: 'auth',
  run: async () =>
    (options.apiTokens ?? []).length === 0 && !isLoopbackHost(options.host)
      ? {
          status: 'degraded',
          reason: `users API open to anyone who reaches ${options.host}:${options.port} (--insecure-no-auth, no MM_API_TOKENS)`,
        }
      : { status: 'healthy', tokens: (options.apiTokens ?? []).length > 0 },
});

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
      authCheck(options),
    ],
    healthIntervalMs: options.healthIntervalMs ?? 10_000,
    metrics: { json: metrics.json, path: '/monitoring/metrics' },
    start: (server) => logger.info(`mm-backend listening on ${server.url}`, { port: server.port }),
  });
  const store = withRequestDeadline(deps.store, options.requestTimeoutMs ?? 5_000);
  part.app.use('/api/*', requireBearer(options.apiTokens ?? []));
  mountUserRoutes(part.app, createUserService(store), (written) => metrics.outboxWritten(written.topic));
  return part;
};
