// Who holds each partition, as the services say in /health/detailed: a consumer names its group
// (`consumer_group` check) and the streams it owns (`consumer` check), a relay the outbox partitions
// it drains (`relay` check). Silent or unreachable services are left out: their leases lapse.
import type { Probe } from './probe.ts';

export type PartitionOwners = {
  /** The consumer of `group` that holds `stream`, when one says so. */
  consumer(group: string, stream: string): string | undefined;
  /** The relay that drains outbox partition `partition` (its events go to partition stream `partition`). */
  relay(partition: number): string | undefined;
};

const objectsIn = (value: unknown): Array<Record<string, unknown>> =>
  Array.isArray(value)
    ? value.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null)
    : [];

export const partitionOwners = (probes: readonly Probe[]): PartitionOwners => {
  const consumers = new Map<string, string>();
  const relays = new Map<number, string>();
  for (const probe of probes) {
    if (probe.silent || probe.status === 'unreachable') continue;
    if (probe.record.role === 'consumer') {
      const group = probe.checks.consumer_group?.group;
      if (typeof group !== 'string') continue;
      for (const owned of objectsIn(probe.checks.consumer?.partitions))
        if (typeof owned.stream === 'string') consumers.set(`${group} ${owned.stream}`, probe.record.name);
    } else if (probe.record.role === 'relay') {
      for (const held of objectsIn(probe.checks.relay?.partitions))
        if (typeof held.partition === 'number') relays.set(held.partition, probe.record.name);
    }
  }
  return {
    consumer: (group, stream) => consumers.get(`${group} ${stream}`),
    relay: (partition) => relays.get(partition),
  };
};
