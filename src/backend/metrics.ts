// mm-backend metrics: requests by route and status, outbox rows written by topic, Redis memory,
// stream lengths and open dead letters; the JSON view at /monitoring/metrics reads the same registry.
import { Counter, Gauge, type Registry } from 'prom-client';
import { withDeadline } from '../core/bounded.ts';
import { dlqStreamOf } from '../core/envelope.ts';
import { sumByLabel } from '../core/metrics.ts';
import { streamsOfTopics } from '../core/topic-streams.ts';
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
  const written = new Counter({
    name: 'outbox_rows_written_total',
    help: 'Outbox rows written with their domain change, by topic',
    labelNames: ['topic'] as const,
    registers: [registry],
  });
  for (const topic of topics) written.inc({ topic }, 0);

  // One bounded probe of Redis serves every gauge of a scrape; a failed or stalled probe keeps the
  // previous values.
  // Lengths by stream name: every partition stream of each topic (under its recorded count), then
  // each topic's one dead-letter stream.
  type Sample = { memory?: MemoryInfo | undefined; lengths?: Map<string, number> | undefined };
  const readLengths = async (): Promise<Map<string, number>> => {
    const streams = [...(await streamsOfTopics(bus, topics)), ...topics.map(dlqStreamOf)];
    const lengths = await Promise.all(streams.map((s) => bus.len(s)));
    return new Map(streams.map((s, i) => [s, lengths[i] ?? 0]));
  };
  let cached: { at: number; sample: Promise<Sample> } | undefined;
  const sampleBus = (): Promise<Sample> => {
    if (cached && Date.now() - cached.at < SAMPLE_TTL_MS) return cached.sample;
    const sample = (async (): Promise<Sample> => ({
      memory: bus.memory
        ? await withDeadline(bus.memory(), PROBE_MS, 'redis').catch(() => undefined)
        : undefined,
      lengths: await withDeadline(readLengths(), PROBE_MS, 'redis').catch(() => undefined),
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
    help: 'Entries in each topic (partition) stream and its dead-letter stream',
    labelNames: ['stream'] as const,
    registers: [registry],
    async collect() {
      const { lengths } = await sampleBus();
      if (!lengths) return;
      this.reset(); // streams of an earlier partition count drop out
      for (const [stream, length] of lengths) this.set({ stream }, length);
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
      for (const topic of topics) this.set({ topic }, lengths.get(dlqStreamOf(topic)) ?? 0);
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
        streams: lengths ? Object.fromEntries(lengths) : { available: false },
        dlq_backlog: lengths
          ? Object.fromEntries(topics.map((t) => [t, lengths.get(dlqStreamOf(t)) ?? 0]))
          : { available: false },
      };
    },
  };
};
