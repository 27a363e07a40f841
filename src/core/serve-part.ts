// Runs a long-lived part until SIGTERM/SIGINT: the first signal drains it by a deadline and closes its
// connections, a second one exits at once (src/core/cli.ts onShutdownSignal); SIGHUP reopens the log file.
import { withDeadline } from './bounded.ts';
import { onHangup, onShutdownSignal } from './cli.ts';
import { coerceError } from './errors.ts';
import type { Logger } from './logger.ts';

export type LongLived = {
  start(): Promise<unknown>;
  /** Drains; gives up waiting at `deadline` (epoch ms). Idempotent. */
  stop(options?: { deadline?: number }): Promise<void>;
};

const DEFAULT_SHUTDOWN_MS = 10_000;
// Kept back from the shutdown budget for closing connections after the part has stopped.
const CLOSE_RESERVE_MS = 1_000;

export const runUntilSignal = async (
  part: LongLived,
  options: {
    logger: Logger;
    close: () => Promise<void>;
    name: string;
    /** From the first signal to exit (default 10 s). */
    shutdownTimeoutMs?: number;
  },
): Promise<void> => {
  const { logger, name } = options;
  const timeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_MS;
  onHangup(logger);
  onShutdownSignal(async (signal) => {
    const deadline = Date.now() + timeoutMs;
    logger.info(`${name} stopping on ${signal}`);
    await part.stop({ deadline: deadline - Math.min(CLOSE_RESERVE_MS, timeoutMs / 2) });
    await withDeadline(options.close(), Math.max(0, deadline - Date.now() - 50), 'closing connections').catch(
      (thrown: unknown) => logger.warn(`${name}: ${coerceError(thrown).message}`),
    );
    logger.info(`${name} stopped`);
    logger.close();
  });
  await part.start();
};
