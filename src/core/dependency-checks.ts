// Health checks of the two dependencies every service has: the store (database) and the bus (Redis).
import type { Bus } from '../ports/bus.ts';
import type { Store } from '../ports/store.ts';
import { type CheckResult, type HealthCheck, timedCheck } from './health.ts';

export const databaseCheck = (store: Store): HealthCheck => ({
  name: 'database',
  run: () =>
    timedCheck(async () => {
      await store.ping();
      return { kind: store.kind };
    }),
});

export const busCheckName = (bus: Bus): string => (bus.kind === 'redis' ? 'redis' : 'stream_store');

const megabytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/**
 * Memory use against `maxmemory`: at or over it, Redis (under `noeviction`) refuses every write
 * with OOM, so the relay cannot publish and no dead letter can be written, whatever the service
 * asking; any policy but `noeviction` can delete whole streams under memory pressure.
 */
export const memoryVerdict = (memory: {
  usedMemory: number;
  maxMemory: number;
  policy: string;
}): Pick<CheckResult, 'status' | 'reason'> => {
  const { usedMemory, maxMemory, policy } = memory;
  if (maxMemory > 0 && usedMemory >= maxMemory) {
    return {
      status: 'unhealthy',
      reason: `memory full: used_memory ${megabytes(usedMemory)} has reached maxmemory ${megabytes(maxMemory)}; writes fail with OOM (events cannot be published or dead-lettered): raise maxmemory or free memory`,
    };
  }
  if (policy !== 'noeviction') {
    return {
      status: 'degraded',
      reason: `maxmemory-policy is ${policy}: eviction can delete whole streams; set noeviction`,
    };
  }
  return { status: 'healthy' };
};

/**
 * Reachability and latency, memory (see `memoryVerdict`), and the length of each stream named (a
 * list, or a function giving it at each run: a topic's partition streams change with its recorded count).
 */
export const busCheck = (
  bus: Bus,
  options: { streams?: readonly string[] | (() => Promise<readonly string[]>) } = {},
): HealthCheck => ({
  name: busCheckName(bus),
  run: async () => {
    const base = await timedCheck(async () => {
      await bus.ping();
      return { kind: bus.kind };
    });
    const details: Record<string, unknown> = {};
    let verdict: Pick<CheckResult, 'status' | 'reason'> = { status: 'healthy' };
    if (bus.memory) {
      const memory = await bus.memory();
      details.used_memory = memory.usedMemory;
      details.maxmemory = memory.maxMemory;
      details.maxmemory_policy = memory.policy;
      verdict = memoryVerdict(memory);
    }
    const streams = typeof options.streams === 'function' ? await options.streams() : options.streams;
    if (streams && streams.length > 0) {
      const lengths = await Promise.all(streams.map((s) => bus.len(s)));
      details.streams = Object.fromEntries(streams.map((s, i) => [s, lengths[i]]));
    }
    return { ...base, ...details, ...verdict };
  },
});
