// The real services for a benchmark: built bundles as subprocesses, with their peak memory.
import { readFileSync } from 'node:fs';
import { type RunningBinary, startBinary } from '../helpers/binaries.ts';
import { eventually } from '../helpers/eventually.ts';

export type Service = RunningBinary & { peakRssMb(): number };

/** VmHWM: the most resident memory the process ever had. */
export const peakRss = (pid: number | undefined): number => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
    return kb / 1024;
  } catch {
    return Number.NaN;
  }
};

export const startService = async (
  name: 'mm-relay' | 'mm-consumer' | 'mm-backend',
  args: readonly string[],
): Promise<Service> => {
  const running = await startBinary(name, [...args, '--log-level', 'warn']);
  return Object.assign(running, { peakRssMb: () => peakRss(running.pid) });
};

export const stopAll = async (services: ReadonlyArray<Service | undefined>): Promise<void> => {
  await Promise.all(services.map((s) => s?.stop('SIGTERM')));
};

/** Events the consumer applied so far, from its JSON metrics. */
export const processedCount = async (consumer: Service): Promise<number> => {
  const metrics = (await (await fetch(`${consumer.url}/metrics`)).json()) as {
    events_processed_success?: number;
  };
  return metrics.events_processed_success ?? 0;
};

/** Outbox partitions the relay holds now, from its JSON metrics. */
export const partitionsOwned = async (relay: Service): Promise<number> => {
  const metrics = (await (await fetch(`${relay.url}/metrics`)).json()) as { partitions_owned?: number };
  return metrics.partitions_owned ?? 0;
};

/**
 * Until the consumer's loop runs and holds exactly `partitions` partitions: /health answers before
 * that, and what it waits for (the relay's partition count, its first leases, the group splitting the
 * partitions among its members) is start-up, not throughput.
 */
export const consumerOwns = async (consumer: Service, partitions: number): Promise<void> => {
  await eventually(
    async () => {
      const report = (await (await fetch(`${consumer.url}/health/detailed`)).json()) as {
        checks: { consumer?: { state?: string; partitions?: unknown[] } };
      };
      const loop = report.checks.consumer;
      return loop?.state === 'running' && loop.partitions?.length === partitions;
    },
    30_000,
    { message: `the consumer runs and holds ${partitions} partition(s)`, intervalMs: 20 },
  );
};
