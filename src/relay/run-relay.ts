// Runs mm-relay until SIGTERM/SIGINT: then the batch in flight finishes, connections close, and the
// process exits 0, all within --shutdown-timeout-ms (a batch cut short rolls back and is sent again).
import type { Registry } from 'prom-client';
import { withDeadline } from '../core/bounded.ts';
import { onShutdownSignal } from '../core/cli.ts';
import { coerceError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Bus } from '../ports/bus.ts';
import type { Store } from '../ports/store.ts';
import type { RelayConfig } from './config.ts';
import { createRelay } from './relay.ts';

export type RelayPorts = { readonly store: Store; readonly bus: Bus; close(): Promise<void> };

// Kept back from the shutdown budget for closing connections after the loop has stopped.
const CLOSE_RESERVE_MS = 1_000;

export const runRelay = async (
  config: RelayConfig,
  deps: { ports: RelayPorts; logger: Logger; registry: Registry },
): Promise<void> => {
  const { ports, logger } = deps;
  const relay = createRelay({ store: ports.store, bus: ports.bus, logger, registry: deps.registry }, config);
  onShutdownSignal(async (signal) => {
    const deadline = Date.now() + config.shutdownTimeoutMs;
    logger.info(`mm-relay stopping on ${signal}`);
    const loopDeadline = deadline - Math.min(CLOSE_RESERVE_MS, config.shutdownTimeoutMs / 2);
    await relay.stop({ deadline: loopDeadline });
    if (relay.status().state !== 'stopped') {
      logger.warn('mm-relay: the batch in flight did not finish in time; it rolls back and is sent again');
    }
    await withDeadline(ports.close(), Math.max(0, deadline - Date.now() - 50), 'closing connections').catch(
      (thrown: unknown) => logger.warn(`mm-relay: ${coerceError(thrown).message}`),
    );
    logger.info('mm-relay stopped');
    logger.close();
  });
  await relay.start();
};
