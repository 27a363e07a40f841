// Local mode: the SQLite store and the stream shim sharing one file (and, within a process, one
// connection), migrated on open so every binary works on a fresh file.
import type { Logger } from '../../core/logger.ts';
import type { Bus } from '../../ports/bus.ts';
import type { ServiceRegistry } from '../../ports/service-registry.ts';
import type { Store } from '../../ports/store.ts';
import { acquireConnection } from './driver/connection.ts';
import type { DriverName } from './driver/driver.ts';
import { createSqliteServiceRegistry } from './service-registry.ts';
import { createSqliteStore } from './store/store.ts';
import { type BusFaults, createSqliteBus } from './streams/bus.ts';

export type LocalPorts = {
  readonly store: Store;
  readonly bus: Bus;
  readonly registry: ServiceRegistry;
  close(): Promise<void>;
};

export type LocalPortsOptions = {
  readonly file: string;
  readonly logger: Logger;
  /** Faults the drills inject into the shim at run time. */
  readonly faults?: BusFaults;
  /** Force a driver (default: node:sqlite where the runtime has it, else better-sqlite3). */
  readonly driver?: DriverName;
  /** better-sqlite3's native addon (object or path), for single executables. */
  readonly nativeBinding?: string | object;
  /** Only reads: the file must exist, is opened read-only and is not migrated. */
  readonly readOnly?: boolean;
};

export const openLocalPorts = async (options: LocalPortsOptions): Promise<LocalPorts> => {
  const open = {
    file: options.file,
    ...(options.driver === undefined ? {} : { driver: options.driver }),
    ...(options.nativeBinding === undefined ? {} : { nativeBinding: options.nativeBinding }),
    ...(options.readOnly ? { readOnly: true } : {}),
  };
  // One connection for both, so an in-memory database is the same one for the store and the shim.
  const connection = await acquireConnection(open);
  const store = createSqliteStore(connection.retain());
  const bus = createSqliteBus(connection, options.faults ? { faults: options.faults } : {});
  const ports: LocalPorts = {
    store,
    bus,
    // On the store's handle: it stays open exactly as long as the store does.
    registry: createSqliteServiceRegistry(connection),
    close: () => closeBoth(bus, store),
  };
  try {
    if (options.readOnly) return ports;
    const report = await store.migrate();
    if (report.applied.length > 0) {
      options.logger.info(`migrated local file ${options.file}: applied ${report.applied.join(', ')}`, {
        file: options.file,
      });
    }
  } catch (error) {
    await Promise.allSettled([bus.close(), store.close()]);
    throw error;
  }
  return ports;
};

const closeBoth = async (bus: Bus, store: Store): Promise<void> => {
  await Promise.allSettled([bus.close(), store.close()]);
};
