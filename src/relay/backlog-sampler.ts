// Measures the outbox backlog continuously (not only when /health is read), each probe bounded in
// time. Counting a huge backlog scans the whole table (in parallel, on every core), so a slow probe
// spaces the next ones out: the count must not compete with draining that very backlog.
import { withDeadline } from '../core/bounded.ts';
import { coerceError } from '../core/errors.ts';
import type { OutboxBacklog, OutboxRelay } from '../ports/outbox.ts';

export type BacklogReading = OutboxBacklog & { readonly at: number };

export type BacklogSampler = {
  start(): void;
  stop(): Promise<void>;
  /** The last successful reading, if any. */
  latest(): BacklogReading | undefined;
  /** A reading at most `maxAgeMs` old: the last one when fresh enough, otherwise a new probe. */
  read(maxAgeMs: number): Promise<OutboxBacklog>;
  /** Why the last probe failed, while it keeps failing. */
  lastError(): string | undefined;
};

export type BacklogSamplerOptions = {
  readonly outbox: OutboxRelay;
  readonly onSample: (sample: OutboxBacklog) => void;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
};

// A probe that takes d ms is repeated no sooner than SPACING x d later (1 ms: every second; 100 ms
// on a large backlog: every 3 s).
const SPACING = 30;

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
    read: async (maxAgeMs) => {
      if (reading && Date.now() - reading.at <= maxAgeMs) return reading;
      const sample = await options.outbox.backlog();
      reading = { ...sample, at: Date.now() };
      options.onSample(sample);
      return sample;
    },
    lastError: () => failure,
  };
};
