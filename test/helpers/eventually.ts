// Polls a condition instead of sleeping: resolves with its value as soon as it holds.
import { setTimeout as delay } from 'node:timers/promises';

export const eventually = async <T>(
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  options: { intervalMs?: number; message?: string } = {},
): Promise<Exclude<T, false | undefined | null>> => {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== false && value !== undefined && value !== null)
        return value as Exclude<T, false | undefined | null>;
      lastError = new Error(`condition returned ${String(value)}`);
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? lastError.message : String(lastError);
      throw new Error(`${options.message ?? 'condition'} did not hold within ${timeoutMs} ms: ${reason}`);
    }
    await delay(options.intervalMs ?? 50);
  }
};
