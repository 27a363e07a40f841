// `mm-backend console` as a long-lived part: the sampler, the app on its own listener, and the start
// token whose sign-in URL is printed, as Jupyter prints its own.
import type { Hono } from 'hono';
import type { Logger } from '../core/logger.ts';
import type { Place } from '../dlq/model/place.ts';
import { type HttpServer, serveHttp } from '../http/serve.ts';
import type { Bus } from '../ports/bus.ts';
import type { ServiceRegistry } from '../ports/service-registry.ts';
import type { Store } from '../ports/store.ts';
import { createConsoleApp } from './app.tsx';
import { createAttemptLimiter } from './auth/attempts.ts';
import type { Guard } from './auth/guard.ts';
import { createSessions } from './auth/sessions.ts';
import { newToken } from './auth/token-hash.ts';
import type { ConsoleUser } from './auth/users.ts';
import { createJobs, type OpenCaseFile } from './data/actions.ts';
import type { Fetch } from './data/probe.ts';
import { createSampler } from './data/sampler.ts';

export type ConsoleDeps = {
  readonly bus: Bus;
  readonly store: Store | undefined;
  readonly registry: ServiceRegistry;
  readonly logger: Logger;
  readonly openCaseFile: OpenCaseFile;
  /** Where the dead letters are (mm-dlq's wording in its messages). */
  readonly place: Place;
  readonly fetch?: Fetch;
  readonly now?: () => number;
};

export type ConsoleOptions = {
  readonly host: string;
  readonly port: number;
  readonly topics: readonly string[];
  readonly users: readonly ConsoleUser[];
  readonly sessionTtlMs: number;
  readonly secureCookies: boolean;
  readonly reprocessRate: number;
  readonly sampleIntervalMs?: number;
  /** Default: a new random one per start. */
  readonly startToken?: string;
};

/** Five wrong tokens per client per 15 minutes, then wait. */
export const SIGN_IN_ATTEMPTS = { max: 5, windowMs: 15 * 60_000 } as const;

export type ConsoleServer = HttpServer & { readonly signInUrl: string };

export type Console = {
  readonly app: ReturnType<typeof createConsoleApp>;
  readonly startToken: string;
  start(): Promise<ConsoleServer>;
  stop(): Promise<void>;
};

export const createConsole = (deps: ConsoleDeps, options: ConsoleOptions): Console => {
  const now = deps.now ?? Date.now;
  const logger = deps.logger.child({ service: 'console' });
  const startToken = options.startToken ?? newToken();
  const guard: Guard = {
    users: options.users,
    startToken,
    sessions: createSessions({ ttlMs: options.sessionTtlMs, now }),
    limiter: createAttemptLimiter({ ...SIGN_IN_ATTEMPTS, now }),
    secureCookies: options.secureCookies,
    sessionTtlMs: options.sessionTtlMs,
  };
  const sampler = createSampler({
    bus: deps.bus,
    registry: deps.registry,
    logger,
    fetch: deps.fetch ?? ((url, init) => fetch(url, init)),
    now,
    ...(options.sampleIntervalMs === undefined ? {} : { intervalMs: options.sampleIntervalMs }),
  });
  const app = createConsoleApp({
    bus: deps.bus,
    store: deps.store,
    registry: deps.registry,
    logger,
    sampler,
    jobs: createJobs(options.reprocessRate),
    guard,
    topics: options.topics,
    openCaseFile: deps.openCaseFile,
    now,
    reprocessRate: options.reprocessRate,
    place: deps.place,
  });
  let server: HttpServer | undefined;
  return {
    app,
    startToken,
    start: async () => {
      server = await serveHttp(app as unknown as Hono, { host: options.host, port: options.port });
      sampler.start();
      const signInUrl = `${server.url}/?token=${startToken}`;
      // The URL carries a secret: it goes to the terminal, the log line names only where to look.
      logger.info(`mm console listening on ${server.url} (sign-in URL printed on stdout)`, {
        port: server.port,
      });
      return { ...server, signInUrl };
    },
    stop: async () => {
      await sampler.stop();
      const running = server;
      server = undefined;
      await running?.close();
    },
  };
};
