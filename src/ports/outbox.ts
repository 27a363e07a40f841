// The outbox port: the backend writes rows inside its transaction; the relay claims and removes them.
//
// Semantics every adapter must honour (the Store contract suite proves them):
// - Rows are claimed in id (insertion) order; ids grow with each insert.
// - A row whose `nextAttemptAt` is in the future is not claimed, and neither is any later row of the
//   same aggregate, so one aggregate's events are never reordered by a retry.
// - `drain` runs in one transaction under a relay-wide lock: while one relay drains, another gets
//   `{ leader: false }` and claims nothing. If `handle` throws, every claimed row stays as it was.
import type { EventHeaders, JsonValue } from '../core/envelope.ts';

export type NewOutboxEvent = {
  readonly eventId: string;
  readonly topic: string;
  readonly eventType: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly payload: JsonValue;
  readonly headers?: EventHeaders;
};

export type OutboxRow = {
  /** bigint as decimal text. */
  readonly id: string;
  readonly eventId: string;
  readonly topic: string;
  readonly eventType: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
  /** The stored JSON as text, handed to the stream without a parse/serialise round trip. */
  readonly payloadJson: string;
  readonly headersJson: string;
  /** ISO 8601 UTC. */
  readonly occurredAt: string;
  readonly attempts: number;
  readonly firstFailedAt: string | null;
  readonly lastError: string | null;
};

/**
 * What the relay did with a claimed batch: rows in `retry` go back (attempts + 1), all others leave.
 * A row marked `held` did not fail itself: it waits behind an earlier failed row of its aggregate,
 * so it goes back with attempts, first failure and last error unchanged (an adapter that ignores the
 * mark still puts the row back, only counting one attempt too many).
 */
export type DrainOutcome = {
  readonly retry: ReadonlyArray<{
    readonly id: string;
    readonly error: string;
    readonly nextAttemptAt: Date;
    readonly held?: boolean;
  }>;
};

export type DrainResult = { readonly leader: boolean; readonly claimed: number; readonly batches: number };

export type DrainOptions = {
  /** Rows per batch. */
  readonly limit: number;
  /**
   * Batches claimed in one transaction (default 1). While one batch is handled the next is already
   * being claimed; claiming stops early at a batch shorter than `limit`. All of them commit together,
   * and if `handle` throws for any of them, every row of every batch stays.
   */
  readonly maxBatches?: number;
  /**
   * Called just before the drain first looks at the outbox: every insert committed before this
   * moment is visible to it, so a wake-up for such an insert needs no drain of its own.
   */
  readonly beforeLook?: () => void;
};

export type OutboxBacklog = { readonly count: number; readonly oldestAgeSeconds: number };

/** Inside a transaction: the backend's side. */
export type OutboxWriter = {
  insert(events: readonly NewOutboxEvent[]): Promise<void>;
};

/** Outside any caller transaction: the relay's side. */
export type OutboxRelay = {
  /** Calls `handle` once per claimed batch, in claim order; each outcome applies before the commit. */
  drain(options: DrainOptions, handle: (rows: OutboxRow[]) => Promise<DrainOutcome>): Promise<DrainResult>;
  backlog(): Promise<OutboxBacklog>;
  /** Calls `onInsert` soon after rows are committed (LISTEN/NOTIFY, file polling); returns an unsubscribe. */
  watch?(onInsert: () => void): Promise<() => Promise<void>>;
};
