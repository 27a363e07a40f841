// Runs the console until SIGTERM/SIGINT, printing where it listens and its sign-in URL.
import type { Logger } from '../core/logger.ts';
import { runUntilSignal } from '../core/serve-part.ts';
import type { Place } from '../dlq/model/place.ts';
import type { Bus } from '../ports/bus.ts';
import type { ServiceRegistry } from '../ports/service-registry.ts';
import type { Store } from '../ports/store.ts';
import type { ConsoleUser } from './auth/users.ts';
import type { ConsoleConfig } from './config.ts';
import { createConsole } from './console.ts';
import type { OpenCaseFile } from './data/actions.ts';

export type ConsoleRunDeps = {
  readonly ports: {
    readonly bus: Bus;
    readonly store: Store | undefined;
    readonly registry: ServiceRegistry;
    close(): Promise<void>;
  };
  readonly users: readonly ConsoleUser[];
  readonly logger: Logger;
  readonly openCaseFile: OpenCaseFile;
  readonly place: Place;
  readonly out: (text: string) => void;
};

export const runConsole = async (config: ConsoleConfig, deps: ConsoleRunDeps): Promise<void> => {
  const consolePart = createConsole(
    {
      bus: deps.ports.bus,
      store: deps.ports.store,
      registry: deps.ports.registry,
      logger: deps.logger,
      openCaseFile: deps.openCaseFile,
      place: deps.place,
    },
    { ...config, users: deps.users },
  );
  const part = {
    start: async () => {
      const server = await consolePart.start();
      deps.out(`mm console: ${server.signInUrl}\n`);
      if (deps.users.length === 0)
        deps.out('  (no MM_CONSOLE_USERS: only this URL signs in; see mm-backend console add-user)\n');
      return server;
    },
    stop: () => consolePart.stop(),
  };
  await runUntilSignal(part, { logger: deps.logger, close: deps.ports.close, name: 'mm console' });
};
