// Health checks of the two dependencies every service has: the store (database) and the bus (Redis).
import type { Bus } from '../ports/bus.ts';
import type { Store } from '../ports/store.ts';
import { type HealthCheck, timedCheck } from './health.ts';

export const databaseCheck = (store: Store): HealthCheck => ({
  name: 'database',
  run: () =>
    timedCheck(async () => {
      await store.ping();
      return { kind: store.kind };
    }),
});

export const busCheckName = (bus: Bus): string => (bus.kind === 'redis' ? 'redis' : 'stream_store');

/**
 * Reachability and latency, memory and eviction policy (any policy but `noeviction` can delete
 * whole streams under memory pressure), and the length of each stream named (a list, or a function
 * giving it at each run: a topic's partition streams change with its recorded count).
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
    let reason: string | undefined;
    if (bus.memory) {
      const memory = await bus.memory();
      details.used_memory = memory.usedMemory;
      details.maxmemory = memory.maxMemory;
      details.maxmemory_policy = memory.policy;
      if (memory.policy !== 'noeviction') {
        reason = `maxmemory-policy is ${memory.policy}: eviction can delete whole streams; set noeviction`;
      }
    }
    const streams = typeof options.streams === 'function' ? await options.streams() : options.streams;
    if (streams && streams.length > 0) {
      const lengths = await Promise.all(streams.map((s) => bus.len(s)));
      details.streams = Object.fromEntries(streams.map((s, i) => [s, lengths[i]]));
    }
    return reason ? { ...base, ...details, status: 'degraded', reason } : { ...base, ...details };
  },
});
