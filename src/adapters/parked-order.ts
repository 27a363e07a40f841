// What both store adapters share about parked events: their order (outbox id, then stream id by
// number, as Redis orders entries) and reading back the fields they stored.
import type { StreamFields } from '../core/envelope.ts';
import type { ParkedEvent } from '../ports/parking.ts';

const streamIdParts = (id: string): [bigint, bigint] | undefined => {
  const match = /^(\d+)-(\d+)$/.exec(id);
  return match?.[1] && match[2] ? [BigInt(match[1]), BigInt(match[2])] : undefined;
};

const compareStreamIds = (a: string, b: string): number => {
  const [pa, pb] = [streamIdParts(a), streamIdParts(b)];
  if (!pa || !pb) return a < b ? -1 : a > b ? 1 : 0;
  if (pa[0] !== pb[0]) return pa[0] < pb[0] ? -1 : 1;
  return pa[1] === pb[1] ? 0 : pa[1] < pb[1] ? -1 : 1;
};

/** Outbox order; events without an outbox id (published by something else) after those with one. */
export const compareParked = (a: ParkedEvent, b: ParkedEvent): number => {
  if (a.outboxId !== b.outboxId) {
    if (a.outboxId === null) return 1;
    if (b.outboxId === null) return -1;
    return a.outboxId - b.outboxId;
  }
  return compareStreamIds(a.streamId, b.streamId);
};

export const parseParkedFields = (text: string): StreamFields => JSON.parse(text) as StreamFields;
