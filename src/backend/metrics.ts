// mm-backend metrics: requests by route and status, outbox rows written by topic, Redis memory,
// stream lengths and open dead letters; the JSON view at /monitoring/metrics reads the same registry.
import { Counter, Gauge, type Registry } from 'prom-client';
import { withDeadline } from '../core/bounded.ts';
import { dlqStreamOf } from '../core/envelope.ts';
import { sumByLabel } from '../core/metrics.ts';
import type { Bus, MemoryInfo } from '../ports/bus.ts';

export type BackendMetrics = {
  outboxWritten(topic: string): void;
  json(): Promise<Record<string, unknown>>;
};

const PROBE_MS = 1_000;
const SAMPLE_TTL_MS = 500;

export const createBackendMetrics = (
  registry: Registry,
  bus: Bus,
  topics: readonly string[],
): BackendMetrics => {
  const streams = topics.flatMap((t) => [t, dlqStreamOf(t)]);
  const written = new Counter({
    name: 'outbox_rows_written_total',
    help: 'Outbox rows written with their domain change, by topic',
    labelNames: ['topic'] as const,
    registers: [registry],
  });
  for (const topic of topics) written.inc({ topic }, 0);

  // One bounded probe of Redis serves every gauge of a scrape; a failed or stalled probe keeps the
  // previous values.
  type Sample = { memory?: MemoryInfo | undefined; lengths?: number[] | undefined };
  let cached: { at: number; sample: Promise<Sample> } | undefined;
  const sampleBus = (): Promise<Sample> => {
    if (cached && Date.now() - cached.at < SAMPLE_TTL_MS) return cached.sample;
    const sample = (async (): Promise<Sample> => ({
      memory: bus.memory
        ? await withDeadline(bus.memory(), PROBE_MS, 'redis').catch(() => undefined)
        : undefined,
      lengths: await withDeadline(Promise.all(streams.map((s) => bus.len(s))), PROBE_MS, 'redis').catch(
        () => undefined,
      ),
    }))();
    cached = { at: Date.now(), sample };
    return sample;
  };

  new Gauge({
    name: 'redis_used_memory_bytes',
    help: 'Redis used_memory as reported by INFO memory',
    registers: [registry],
    async collect() {
      const { memory } = await sampleBus();
      if (memory) this.set(memory.usedMemory);
    },
  });
  new Gauge({
    name: 'redis_maxmemory_bytes',
    help: 'Redis maxmemory (0 = unlimited)',
    registers: [registry],
    async collect() {
      const { memory } = await sampleBus();
      if (memory) this.set(memory.maxMemory);
    },
  });
  new Gauge({
    name: 'stream_length',
    help: 'Entries in each topic stream and its dead-letter stream',
    labelNames: ['stream'] as const,
    registers: [registry],
    async collect() {
      const { lengths } = await sampleBus();
      if (!lengths) return;
      for (const [i, stream] of streams.entries()) this.set({ stream }, lengths[i] ?? 0);
    },
  });
  // A dead letter leaves <topic>.dlq when it is reprocessed or resolved (mm-dlq deletes it and keeps
  // an audit record), so the stream's length is exactly the open backlog the alerts watch.
  new Gauge({
    name: 'dlq_backlog',
    help: 'Open dead letters (neither reprocessed nor resolved) in <topic>.dlq',
    labelNames: ['topic'] as const,
    registers: [registry],
    async collect() {
      const { lengths } = await sampleBus();
      if (!lengths) return;
      for (const [i, topic] of topics.entries()) this.set({ topic }, lengths[2 * i + 1] ?? 0);
    },
  });

  const requestsView = async (): Promise<Record<string, number>> => {
    const metric = registry.getSingleMetric('http_requests_total');
    const view: Record<string, number> = {};
    for (const sample of metric ? (await metric.get()).values : []) {
      const { method, route, status } = sample.labels;
      view[`${method} ${route} ${status}`] = sample.value;
    }
    return view;
  };

  return {
    outboxWritten: (topic) => written.inc({ topic }),
    json: async () => {
      const { memory, lengths } = await sampleBus();
      return {
        requests: await requestsView(),
        outbox_rows_written_total: await sumByLabel(registry, 'outbox_rows_written_total', 'topic'),
        redis: memory
          ? { used_memory: memory.usedMemory, maxmemory: memory.maxMemory, maxmemory_policy: memory.policy }
          : { available: false },
        streams: lengths
          ? Object.fromEntries(streams.map((s, i) => [s, lengths[i] ?? 0]))
          : { available: false },
        dlq_backlog: lengths
          ? Object.fromEntries(topics.map((t, i) => [t, lengths[2 * i + 1] ?? 0]))
          : { available: false },
      };
    },
  };
};
