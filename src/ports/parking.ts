// The Parking port: events that wait behind an earlier failing or dead-lettered event of their aggregate.
//
// Semantics every adapter must honour (the parking contract suite proves them against both stores):
// - Parked events leave the stream's pending list: they are stored here first, then acknowledged, so
//   `park` is idempotent on (group, event id) for the redelivery after a crash in between.
// - A block marks an aggregate of a group as halted behind a dead letter; its later events park
//   until the block is lifted (`unblock`: the dead letter was resolved, or reprocessed and applied).
// - `parked` lists one aggregate's events in outbox order (outbox id, then stream id).
import type { StreamFields } from '../core/envelope.ts';

export type ParkedEvent = {
  readonly group: string;
  readonly aggregateKey: string;
  readonly stream: string;
  readonly streamId: string;
  readonly eventId: string;
  readonly outboxId: number | null;
  readonly fields: StreamFields;
};

/** A parked event as the store keeps it: with when it was parked (the store's clock, ms since the epoch). */
export type ParkedEntry = ParkedEvent & { readonly parkedAt: number };

export type AggregateBlock = {
  readonly group: string;
  readonly aggregateKey: string;
  /** The dead-lettered event that halts the aggregate. */
  readonly eventId: string;
  readonly deadLetterStream: string;
  readonly deadLetterId: string | null;
  readonly since: string;
};

export type ParkingStore = {
  park(events: readonly ParkedEvent[]): Promise<void>;
  parked(group: string, aggregateKey: string): Promise<ParkedEntry[]>;
  remove(group: string, eventIds: readonly string[]): Promise<void>;
  /** Aggregates of the group with parked events and no block: ready to be released. */
  releasable(group: string, limit: number): Promise<string[]>;
  count(group: string): Promise<number>;
  countBehind(group: string, aggregateKey: string): Promise<number>;
  block(block: Omit<AggregateBlock, 'since'>): Promise<void>;
  blocks(group: string, aggregateKeys?: readonly string[]): Promise<AggregateBlock[]>;
  /** Blocks that a dead letter holds, whatever the group. */
  blocksOfEvent(eventId: string): Promise<AggregateBlock[]>;
  /**
   * Lifts the aggregate's block. The blocked event's own parked copy goes with it: that event was
   * dead-lettered, and a copy still parked (the process died between its dead letter and its removal
   * from parking) must not run after the operator's resolve.
   */
  unblock(group: string, aggregateKey: string): Promise<boolean>;
};
