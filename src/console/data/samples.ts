// Events per second over the last hour: the console samples the services every 5 s and keeps the
// samples in a capped stream (Redis, or the local file), so a restarted console keeps its charts.
import type { Bus } from '../../ports/bus.ts';
import type { Probe } from './probe.ts';

export const SAMPLES_STREAM = 'mm-console.samples';
export const SAMPLE_INTERVAL_MS = 5_000;
export const WINDOW_MS = 3_600_000;
/** One hour of 5 s samples. */
export const MAX_SAMPLES = WINDOW_MS / SAMPLE_INTERVAL_MS;

export type Sample = { readonly at: number; readonly published: number; readonly applied: number };

/** Counters a service reports (a topic map is summed). */
const total = (value: unknown): number => {
  if (typeof value === 'number') return value;
  if (value && typeof value === 'object')
    return Object.values(value).reduce<number>((sum, v) => sum + (typeof v === 'number' ? v : 0), 0);
  return 0;
};

export type Totals = ReadonlyMap<string, { readonly published: number; readonly applied: number }>;

/** Per service URL: events published (relays) and applied (consumers) since it started. */
export const totalsOf = (probes: readonly Probe[]): Totals =>
  new Map(
    probes
      .filter((probe) => probe.metrics !== undefined)
      .map((probe) => [
        `${probe.record.role} ${probe.record.url} ${probe.record.startedAt}`,
        {
          published: probe.record.role === 'relay' ? total(probe.metrics?.events_published_total) : 0,
          applied: probe.record.role === 'consumer' ? total(probe.metrics?.events_processed_success) : 0,
        },
      ]),
  );

/**
 * Rates between two readings. A service that (re)started since is keyed anew, so its whole count
 * is what it did in the interval; one that went away contributes nothing.
 */
export const ratesBetween = (
  before: Totals | undefined,
  after: Totals,
  seconds: number,
): Omit<Sample, 'at'> => {
  if (!before || seconds <= 0) return { published: 0, applied: 0 };
  let published = 0;
  let applied = 0;
  for (const [key, now] of after) {
    const then = before.get(key) ?? { published: 0, applied: 0 };
    published += Math.max(0, now.published - then.published);
    applied += Math.max(0, now.applied - then.applied);
  }
  const round = (n: number): number => Math.round((n / seconds) * 100) / 100;
  return { published: round(published), applied: round(applied) };
};

export const recordSample = async (bus: Bus, sample: Sample): Promise<void> => {
  await bus.add(SAMPLES_STREAM, {
    at: String(sample.at),
    published: String(sample.published),
    applied: String(sample.applied),
  });
  await bus.trim(SAMPLES_STREAM, { maxLen: MAX_SAMPLES });
};

export const readSamples = async (bus: Bus, sinceMs: number): Promise<Sample[]> => {
  const entries = await bus.range(SAMPLES_STREAM, { start: `${Math.max(0, sinceMs)}-0`, count: MAX_SAMPLES });
  return entries.map((entry) => ({
    at: Number(entry.fields.at),
    published: Number(entry.fields.published),
    applied: Number(entry.fields.applied),
  }));
};
