// The three services of a deployment in ONE process: backend, relay and consumer on one set of ports
// (locally: one SQLite connection, in-process wake-ups), each with its own metrics registry, logger
// and listener, exactly as the separate binaries would run them. `npm start` and the drills use it.
import type { Registry } from 'prom-client';
import { type Backend, createBackend } from '../backend/backend.ts';
import { backendDefaults } from '../backend/config.ts';
import { consumerDefaults } from '../consumer/config.ts';
import {
  type ConsumerOptions,
  type ConsumerService,
  createConsumerService,
} from '../consumer/consumer-service.ts';
import type { HandlerMap } from '../consumer/handler.ts';
import { builtinHandlersFor } from '../consumer/lint-profile-handler.ts';
import { sleep } from '../core/clock.ts';
import { ConfigError, coerceError, TransientError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { createMetricsRegistry } from '../core/metrics.ts';
import type { HttpServer } from '../http/serve.ts';
import type { StopOptions } from '../http/service-part.ts';
import type { Bus } from '../ports/bus.ts';
import type { Store } from '../ports/store.ts';
import { relayDefaults } from '../relay/config.ts';
import { createRelay, type Relay, type RelayOptions } from '../relay/relay.ts';
import type { StackPorts } from './config.ts';

export const StackServices = ['backend', 'relay', 'consumer'] as const;
export type StackService = (typeof StackServices)[number];

export type StackUrls = Readonly<Record<StackService, string>>;

export type StackDeps = {
  readonly store: Store;
  readonly bus: Bus;
  readonly logger: Logger;
  /** The consumer group's handlers (default: the built-in ones of the group). */
  readonly handlers?: HandlerMap;
};

export type StackOptions = {
  readonly host: string;
  readonly ports: StackPorts;
  readonly topics?: readonly string[];
  /** Consumer name within the group. */
  readonly consumerName: string;
  /** Overrides of the relay's and consumer's defaults (the demo and the drills shorten waits). */
  readonly relay?: Partial<RelayOptions>;
  readonly consumer?: Partial<ConsumerOptions>;
};

export type Stack = {
  readonly backend: Backend;
  readonly relay: Relay;
  readonly consumer: ConsumerService;
  readonly registries: Readonly<Record<StackService, Registry>>;
  /** Listens on every port: consumer (its group created), relay, then backend. */
  start(): Promise<StackUrls>;
  /** Backend first (no new writes), then relay and consumer drain what they hold. Idempotent. */
  stop(options?: StopOptions): Promise<void>;
};

const defaultTopics = backendDefaults.topics;
// Locally the group exists within milliseconds; past this the relay starts anyway.
const GROUP_READY_MS = 10_000;

const relayOptions = (options: StackOptions, topics: readonly string[]): RelayOptions => ({
  ...relayDefaults,
  topics,
  host: options.host,
  port: options.ports.relay,
  ...options.relay,
});

const consumerOptions = (options: StackOptions, topics: readonly string[]): ConsumerOptions => ({
  ...consumerDefaults,
  topics,
  name: options.consumerName,
  handlerModule: undefined,
  host: options.host,
  port: options.ports.consumer,
  ...options.consumer,
});

/** Starts a service; a port already taken (the usual failure) names the flag that moves it. */
const listen = async (
  service: StackService,
  part: { start(): Promise<HttpServer> },
  port: number,
): Promise<string> => {
  try {
    return (await part.start()).url;
  } catch (thrown) {
    const error = coerceError(thrown);
    if (!/cannot listen on|not allowed to listen on/.test(error.message)) throw error;
    const problem = `${service} cannot listen on port ${port} (${error.message.replace(/^invalid configuration:\n {2}- /, '')}): use --${service}-port`;
    // A port another process holds exits 69 like the single services; a privileged one 78.
    if (error instanceof TransientError) throw new TransientError(problem, { cause: error });
    throw new ConfigError([problem]);
  }
};

export const createStack = (deps: StackDeps, options: StackOptions): Stack => {
  const topics = options.topics ?? defaultTopics;
  const registries = {
    backend: createMetricsRegistry(),
    relay: createMetricsRegistry(),
    consumer: createMetricsRegistry(),
  };
  const ports = { store: deps.store, bus: deps.bus };
  const consumerSettings = consumerOptions(options, topics);
  const backend = createBackend(
    { ...ports, logger: deps.logger, registry: registries.backend },
    { host: options.host, port: options.ports.backend, topics },
  );
  const relay = createRelay(
    { ...ports, logger: deps.logger, registry: registries.relay },
    relayOptions(options, topics),
  );
  const consumer = createConsumerService(
    {
      ...ports,
      logger: deps.logger,
      registry: registries.consumer,
      handlers: deps.handlers ?? builtinHandlersFor(consumerSettings.group),
    },
    consumerSettings,
  );

  let stopping: Promise<void> | undefined;
  const stop = (stopOptions: StopOptions = {}): Promise<void> => {
    stopping ??= (async () => {
      await backend.stop(stopOptions);
      await Promise.all([relay.stop(stopOptions), consumer.stop(stopOptions)]);
    })();
    return stopping;
  };

  return {
    backend,
    relay,
    consumer,
    registries,
    start: async () => {
      try {
        // The consumer's group must exist before the relay publishes: the relay's trimmer keeps
        // only what some group still needs, so a backlog relayed before any group exists would be
        // cut to --stream-maxlen. Each listener's failure names its own port.
        const consumerUrl = await listen('consumer', consumer, options.ports.consumer);
        const waited = new AbortController();
        await Promise.race([consumer.worker.ready, sleep(GROUP_READY_MS, waited.signal)]);
        waited.abort(); // the timer would otherwise keep a finished process alive
        const relayUrl = await listen('relay', relay, options.ports.relay);
        const backendUrl = await listen('backend', backend, options.ports.backend);
        return { backend: backendUrl, relay: relayUrl, consumer: consumerUrl };
      } catch (error) {
        await stop().catch(() => {});
        throw error;
      }
    },
    stop,
  };
};
