// Runs a long-lived part until SIGTERM/SIGINT, then drains it and closes its connections.
import { onShutdownSignal } from './cli.ts';
import type { Logger } from './logger.ts';

export type LongLived = { start(): Promise<unknown>; stop(): Promise<void> };

export const runUntilSignal = async (
  part: LongLived,
  options: { logger: Logger; close: () => Promise<void>; name: string },
): Promise<void> => {
  onShutdownSignal(async (signal) => {
    options.logger.info(`${options.name} stopping on ${signal}`);
    await part.stop();
    await options.close();
    options.logger.info(`${options.name} stopped`);
    options.logger.close();
  });
  await part.start();
};
