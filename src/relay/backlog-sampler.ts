// Measures the outbox backlog continuously (not only when /health is read), each probe bounded in
// time; a slow count on a huge backlog spaces the probes out so it never competes with draining.
import { withDeadline } from '../core/bounded.ts';
import { coerceError } from '../core/errors.ts';
import type { OutboxBacklog, OutboxRelay } from '../ports/outbox.ts';

export type BacklogReading = OutboxBacklog & { readonly at: number };

export type BacklogSampler = {
  start(): void;
  stop(): Promise<void>;
  /** The last successful reading, if any. */
  latest(): BacklogReading | undefined;
  /** Why the last probe failed, while it keeps failing. */
  lastError(): string | undefined;
};

export type BacklogSamplerOptions = {
  readonly outbox: OutboxRelay;
  readonly onSample: (sample: OutboxBacklog) => void;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
};

// A probe that takes d ms is repeated no sooner than SPACING x d later.
const SPACING = 10;

export const createBacklogSampler = (options: BacklogSamplerOptions): BacklogSampler => {
  const intervalMs = options.intervalMs ?? 1_000;
  const timeoutMs = options.timeoutMs ?? 2_000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;
  let reading: BacklogReading | undefined;
  let failure: string | undefined;

  const probe = async (): Promise<void> => {
    const started = Date.now();
    try {
      const sample = await withDeadline(options.outbox.backlog(), timeoutMs, 'outbox backlog query');
      reading = { ...sample, at: Date.now() };
      failure = undefined;
      options.onSample(sample);
    } catch (thrown) {
      failure = coerceError(thrown).message;
    }
    const took = Date.now() - started;
    if (!stopped) schedule(Math.max(intervalMs - took, took * SPACING - took, 0));
  };

  const schedule = (delayMs: number): void => {
    timer = setTimeout(() => {
      running = probe();
    }, delayMs);
    timer.unref();
  };

  return {
    start: () => {
      if (!stopped) return;
      stopped = false;
      running = probe();
    },
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
    latest: () => reading,
    lastError: () => failure,
  };
};
