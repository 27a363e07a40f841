// Shapes raw Redis stream replies into the Bus port's types.
import type { StreamFields } from '../../core/envelope.ts';
import type { GroupInfo, PendingEntry, PendingSummary, StreamEntry } from '../../ports/bus.ts';

export type RawEntry = [id: string, fields: string[] | null];

export const toFields = (flat: readonly string[]): StreamFields => {
  const fields: StreamFields = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
  return fields;
};

export const flattenFields = (fields: StreamFields): string[] => {
  const flat: string[] = [];
  for (const [name, value] of Object.entries(fields)) flat.push(name, value);
  return flat;
};

/** Entries with their fields; entries deleted while pending come back as null fields and are left out. */
export const toEntries = (raw: readonly RawEntry[] | null): StreamEntry[] => {
  const entries: StreamEntry[] = [];
  for (const [id, flat] of raw ?? []) if (flat) entries.push({ id, fields: toFields(flat) });
  return entries;
};

export const deletedIds = (raw: readonly RawEntry[] | null): string[] =>
  (raw ?? []).filter(([, flat]) => flat === null).map(([id]) => id);

type RawSummary = [
  count: number,
  minId: string | null,
  maxId: string | null,
  consumers: [string, string][] | null,
];

export const toPendingSummary = (raw: RawSummary): PendingSummary => ({
  count: Number(raw[0]),
  minId: raw[1],
  maxId: raw[2],
  consumers: Object.fromEntries((raw[3] ?? []).map(([name, count]) => [name, Number(count)])),
});

export const toPendingEntries = (raw: [string, string, number, number][]): PendingEntry[] =>
  raw.map(([id, consumer, idle, deliveries]) => ({
    id,
    consumer,
    idleMs: Number(idle),
    deliveries: Number(deliveries),
  }));

const numberOrNull = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value);

export const toGroupInfo = (flat: unknown[]): GroupInfo => {
  const info: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) info[String(flat[i])] = flat[i + 1];
  return {
    name: String(info.name),
    consumers: Number(info.consumers ?? 0),
    pending: Number(info.pending ?? 0),
    lastDeliveredId: String(info['last-delivered-id'] ?? '0-0'),
    entriesRead: numberOrNull(info['entries-read']),
    lag: numberOrNull(info.lag),
  };
};

/** `INFO memory` text to the three numbers health cares about. */
export const parseMemoryInfo = (text: string): { usedMemory: number; maxMemory: number; policy: string } => {
  const values = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0) values.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  return {
    usedMemory: Number(values.get('used_memory') ?? 0),
    maxMemory: Number(values.get('maxmemory') ?? 0),
    policy: values.get('maxmemory_policy') ?? 'unknown',
  };
};
