// One prom-client registry per process, plus readers so JSON views come from the same numbers.
import { collectDefaultMetrics, Registry } from 'prom-client';
import { isDeno } from './runtime.ts';

// Gauges that prom-client names with a `_total` suffix, which Prometheus reserves for counters
// (promtool flags them); the handle and request counts they carry are not worth the lint noise.
const misnamedDefaults = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export const createMetricsRegistry = (options: { defaults?: boolean } = {}): Registry => {
  const registry = new Registry();
  // Default process metrics read Node internals that Deno does not provide.
  if (options.defaults !== false && !isDeno()) {
    collectDefaultMetrics({ register: registry });
    for (const name of misnamedDefaults) registry.removeSingleMetric(name);
  }
  return registry;
};

type Sample = { value: number; labels: Record<string, string | number | undefined> };

const samplesOf = async (registry: Registry, name: string): Promise<Sample[]> => {
  const metric = registry.getSingleMetric(name);
  if (!metric) return [];
  const data = await metric.get();
  return data.values as Sample[];
};

/** Sum of a metric's samples grouped by one label: `{ identity: 1247 }`. */
export const sumByLabel = async (
  registry: Registry,
  name: string,
  label: string,
): Promise<Record<string, number>> => {
  const totals: Record<string, number> = {};
  for (const sample of await samplesOf(registry, name)) {
    const key = String(sample.labels[label] ?? '');
    if (key === '') continue;
    totals[key] = (totals[key] ?? 0) + sample.value;
  }
  return totals;
};

/** Sum of all samples of a metric (0 when it has none). */
export const sumOf = async (registry: Registry, name: string): Promise<number> =>
  (await samplesOf(registry, name)).reduce((total, sample) => total + sample.value, 0);

/** The largest sample of a metric (0 when it has none), e.g. lag across topics. */
export const maxOf = async (registry: Registry, name: string): Promise<number> =>
  (await samplesOf(registry, name)).reduce((max, sample) => Math.max(max, sample.value), 0);

/** success / (success + failure) in percent with 2 decimals; 100 when nothing was tried. */
export const successRate = (success: number, failure: number): number =>
  success + failure === 0 ? 100 : Math.round((success / (success + failure)) * 10_000) / 100;
