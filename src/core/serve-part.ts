// Runs a long-lived part until SIGTERM/SIGINT: the first signal drains it by a deadline and closes its
// connections, a second one exits at once (src/core/cli.ts onShutdownSignal); SIGHUP reopens the log file.
import { type Announcement, type Announcer, startAnnouncing } from './announce.ts';
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
    /** Registers the service once it listens (the part's start resolves with its `url`). */
    announce?: Announcement;
  },
): Promise<void> => {
  const { logger, name } = options;
  const timeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_MS;
  onHangup(logger);

  let announcer: Announcer | undefined;
  onShutdownSignal(async (signal) => {
    const deadline = Date.now() + timeoutMs;
    logger.info(`${name} stopping on ${signal}`);
    await withDeadline(announcer?.stop() ?? Promise.resolve(), 1_000, 'withdrawing').catch(() => {});
    await part.stop({ deadline: deadline - Math.min(CLOSE_RESERVE_MS, timeoutMs / 2) });
    await withDeadline(options.close(), Math.max(0, deadline - Date.now() - 50), 'closing connections').catch(
      (thrown: unknown) => logger.warn(`${name}: ${coerceError(thrown).message}`),
    );
    logger.info(`${name} stopped`);
    logger.close();
  });
  const started = await part.start();
  const url = (started as { url?: unknown } | undefined)?.url;
  if (options.announce && typeof url === 'string') announcer = startAnnouncing(options.announce, url);
};
