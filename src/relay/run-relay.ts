// Runs mm-relay until SIGTERM/SIGINT: then the batch in flight finishes, connections close, and the
// process exits 0, all within --shutdown-timeout-ms (a batch cut short rolls back and is sent again).
import type { Registry } from 'prom-client';
import { type Announcement, defaultServiceName } from '../core/announce.ts';
import type { Logger } from '../core/logger.ts';
import { runUntilSignal } from '../core/serve-part.ts';
import type { Bus } from '../ports/bus.ts';
import type { Store } from '../ports/store.ts';
import type { RelayConfig } from './config.ts';
import { createRelay } from './relay.ts';

export type RelayPorts = { readonly store: Store; readonly bus: Bus; close(): Promise<void> };

export const runRelay = async (
  config: RelayConfig,
  deps: { ports: RelayPorts; logger: Logger; registry: Registry; announce?: Announcement },
): Promise<void> => {
  const { ports, logger } = deps;
  // Its partition leases are held under the name it announces itself by.
  const relay = createRelay(
    { store: ports.store, bus: ports.bus, logger, registry: deps.registry },
    { ...config, name: deps.announce?.name ?? defaultServiceName() },
  );
  await runUntilSignal(relay, {
    logger,
    close: ports.close,
    name: 'mm-relay',
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    ...(deps.announce === undefined ? {} : { announce: deps.announce }),
  });
  // Until then the process runs until a signal; a refused --partitions change ends it (exit 78).
  const error = await relay.failed();
  await relay.stop({ deadline: Date.now() + config.shutdownTimeoutMs });
  await ports.close().catch(() => {});
  throw error;
};
