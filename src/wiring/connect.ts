// The composition root: picks the adapters for a deployment and hands out ports. The only place
// that imports adapters.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

import { checkPostgresAtStartup } from '../adapters/postgres/startup.ts';
import { createPostgresStore } from '../adapters/postgres/store.ts';
import { createRedisBus } from '../adapters/redis/bus.ts';
import { openRedisClient } from '../adapters/redis/client.ts';
import { createRedisServiceRegistry } from '../adapters/redis/service-registry.ts';
import { openLocalPorts } from '../adapters/sqlite/local-ports.ts';
import type { BusFaults } from '../adapters/sqlite/streams/bus.ts';
import type { Deployment } from '../core/config.ts';
import { ConfigError, NotFoundError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Bus } from '../ports/bus.ts';
import type { ServiceRegistry } from '../ports/service-registry.ts';
import type { Store } from '../ports/store.ts';
import { sqliteNativeBinding } from './sqlite-addon.ts';

export type Ports = {
  readonly deployment: Deployment;
  readonly bus: Bus;
  /** Absent in production when no database URL was given (mm-dlq can work without one). */
  readonly store: Store | undefined;
  /** Where services announce themselves: Redis in production, the local file locally. */
  readonly registry: ServiceRegistry;
  close(): Promise<void>;
};

export type ConnectOptions = {
  readonly logger: Logger;
  /** Names the connections (Postgres application_name), e.g. `mm-relay`. */
  readonly role: string;
  readonly maxDbConnections?: number;
  /** Local mode only: faults the offline drills switch on and off in the stream shim. */
  readonly faults?: BusFaults;
  /**
   * Tools that only read: a local file must exist (never created), is opened read-only and is not
   * migrated; a missing one is NotFoundError (exit 66).
   */
  readonly readOnly?: boolean;
};

export type { BusFaults };

export const connect = async (deployment: Deployment, options: ConnectOptions): Promise<Ports> => {
  switch (deployment.kind) {
    case 'production': {
      // A refused password or a missing database (Redis or Postgres) fails here, before anything
      // starts (exit 78).
      const redis = await openRedisClient({ url: deployment.redisUrl, logger: options.logger });
      const bus = createRedisBus(redis, { keyPrefix: deployment.keyPrefix });
      const store =
        deployment.databaseUrl === undefined
          ? undefined
          : createPostgresStore({
              url: deployment.databaseUrl,
              applicationName: options.role,
              ...(options.maxDbConnections === undefined ? {} : { maxConnections: options.maxDbConnections }),
            });
      const close = async (): Promise<void> => {
        await Promise.allSettled([bus.close(), store?.close()]);
      };
      if (store && deployment.databaseUrl !== undefined) {
        await checkPostgresAtStartup(store.ping, deployment.databaseUrl).catch(async (error: unknown) => {
          await close();
          throw error;
        });
      }
      return {
        deployment,
        bus,
        store,
        registry: createRedisServiceRegistry(redis, { keyPrefix: deployment.keyPrefix }),
        close,
      };
    }
    case 'local': {
      if (options.readOnly && !existsSync(deployment.file)) {
        throw new NotFoundError(
          `local file ${resolve(deployment.file)} does not exist (nothing was created): check --local or MM_LOCAL`,
        );
      }
      const nativeBinding = await sqliteNativeBinding({
        cacheDir: deployment.cacheDir,
        logger: options.logger,
      });
      const local = await openLocalPorts({
        file: deployment.file,
        logger: options.logger,
        ...(options.faults === undefined ? {} : { faults: options.faults }),
        ...(nativeBinding === undefined ? {} : { nativeBinding }),
        ...(options.readOnly ? { readOnly: true } : {}),
      });
      return { deployment, bus: local.bus, store: local.store, registry: local.registry, close: local.close };
    }
  }
};

export const requireStore = (ports: Ports): Store => {
  if (!ports.store) throw new ConfigError(['--database-url (DATABASE_URL) is required for this command']);
  return ports.store;
};
