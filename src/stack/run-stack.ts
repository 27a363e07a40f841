// Runs the local stack until Ctrl-C (SIGINT) or SIGTERM: then the backend stops taking writes, relay
// and consumer finish what they hold, the file is closed and the process exits 0.

import { resolve } from 'node:path';
import { backendDefaults } from '../backend/config.ts';
import type { ConsoleUser } from '../console/auth/users.ts';
import { type Console, createConsole } from '../console/console.ts';
import type { OpenCaseFile } from '../console/data/actions.ts';
import { type Announcer, defaultServiceName, startAnnouncing } from '../core/announce.ts';
import { onHangup, onShutdownSignal } from '../core/cli.ts';
import { coerceError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { filePlace } from '../dlq/model/place.ts';
import type { Bus } from '../ports/bus.ts';
import type { ServiceRegistry } from '../ports/service-registry.ts';
import type { Store } from '../ports/store.ts';
import { type Commands, stackBanner } from './banner.ts';
import { createStack, listenProblem, type StackOptions } from './compose-stack.ts';
import type { StackConfig } from './config.ts';
import { awaitDemoDeadLetters, describeDemo, writeDemo } from './demo.ts';

export type StackRunDeps = {
  readonly store: Store;
  readonly bus: Bus;
  /** Closes the local file. */
  readonly close: () => Promise<void>;
  readonly logger: Logger;
  /** Where the banner and the demo's lines go (stdout). */
  readonly out: (text: string) => void;
  readonly commands: Commands;
  readonly consumerName: string;
  /** Where the three services announce themselves (the file's registry). */
  readonly registry?: ServiceRegistry;
  /** The console's sign-in users and its export files; without a registry no console runs. */
  readonly consoleUsers?: readonly ConsoleUser[];
  readonly openCaseFile?: OpenCaseFile;
};

// The demo's failures should reach the DLQ within seconds, not after the production retry spacing.
// Its relay takes events up to 64 KiB: the poison event is over that, and under the 1 MiB that
// mm-dlq reprocess (and the console) accept, as after an operator raised the relay's limit.
const DEMO_MAX_EVENT_BYTES = 65_536;
const demoTuning = {
  relay: { retryBackoffMs: 100, retryBackoffMaxMs: 1_000, maxEventBytes: DEMO_MAX_EVENT_BYTES },
  consumer: { claimIdleMs: 500 },
} as const satisfies Pick<StackOptions, 'relay' | 'consumer'>;
const demoSettings = `relay --retry-backoff-ms 100 --retry-backoff-max-ms 1000 --max-event-bytes ${DEMO_MAX_EVENT_BYTES}, consumer --claim-idle-ms 500`;

export const runStack = async (config: StackConfig, deps: StackRunDeps): Promise<void> => {
  const { logger, out } = deps;
  const stack = createStack(
    { store: deps.store, bus: deps.bus, logger },
    {
      host: config.host,
      ports: config.ports,
      consumerName: deps.consumerName,
      ...(config.demo ? demoTuning : {}),
    },
  );
  const stopDemo = new AbortController();
  onHangup(logger);

  const announcers: Announcer[] = [];
  let consolePart: Console | undefined;
  onShutdownSignal(async (signal) => {
    logger.info(`mm stack stopping on ${signal}`);
    stopDemo.abort();
    await Promise.all([...announcers.map((announcer) => announcer.stop()), consolePart?.stop()]);
    await stack.stop();
    await deps.close();
    logger.info('mm stack stopped');
    out('stopped: backend, relay and consumer drained and closed\n');
    logger.close();
  });
  let urls: Awaited<ReturnType<typeof stack.start>>;
  try {
    urls = await stack.start();
  } catch (error) {
    await deps.close();
    throw error;
  }
  if (deps.registry) {
    const registry = deps.registry;
    const name = defaultServiceName();
    announcers.push(
      startAnnouncing({ registry, role: 'backend', name, logger }, urls.backend),
      startAnnouncing({ registry, role: 'relay', name, logger }, urls.relay),
      startAnnouncing({ registry, role: 'consumer', name: deps.consumerName, logger }, urls.consumer),
    );
  }
  let consoleUrl: string | undefined;
  if (deps.registry && deps.openCaseFile) {
    consolePart = createConsole(
      {
        bus: deps.bus,
        store: deps.store,
        registry: deps.registry,
        logger,
        openCaseFile: deps.openCaseFile,
        place: filePlace(resolve(config.file)),
      },
      {
        ...config.console,
        host: config.host,
        topics: backendDefaults.topics,
        users: deps.consoleUsers ?? [],
      },
    );
    try {
      consoleUrl = (await consolePart.start()).signInUrl;
    } catch (error) {
      await stack.stop();
      await deps.close();
      throw listenProblem('console', config.console.port, error);
    }
  }
  out(stackBanner(urls, config.file, deps.commands, consoleUrl));
  if (!config.demo) return;

  const written = await writeDemo(
    { app: stack.backend.app, store: deps.store, bus: deps.bus },
    { maxEventBytes: DEMO_MAX_EVENT_BYTES, tag: Date.now().toString(36) },
  );
  out(describeDemo(written, demoSettings));
  const local = `--local ${config.file}`;
  awaitDemoDeadLetters(deps.bus, written, { timeoutMs: 60_000, signal: stopDemo.signal }).then(
    (found) => {
      if (stopDemo.signal.aborted) return;
      for (const [eventId, { id, stage }] of found) {
        out(`demo: event ${eventId} is dead letter ${id} in identity.dlq (stage ${stage})\n`);
      }
      out(`demo: now try  ${deps.commands.dlq} report --hours 24 ${local}\n`);
    },
    (thrown: unknown) => logger.warn(`demo: ${coerceError(thrown).message}`),
  );
};
