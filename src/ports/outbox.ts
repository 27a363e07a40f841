// The outbox port: the backend writes rows inside its transaction; the relays claim and remove them
// with the statements of one relay transaction each. How the statements are strung together (the drain
// policy: batches, held rows, attempt history, partitions) lives once, in relay/drain-outbox.ts.
//
// Semantics every adapter must honour (the Store contract suite proves them):
// - Rows are claimed in id (insertion) order; ids grow with each insert.
// - A row whose `nextAttemptAt` is in the future is not claimed, and neither is any later row of the
//   same aggregate that waits behind it (an earlier row with attempts > 0 not yet due), so one
//   aggregate's events are never reordered by a retry.
// - A row put back dead is never claimed again and holds its aggregate's later rows the same way,
//   until it is released.
// - A claim never fails on a row's content: a time the platform cannot represent comes back as the
//   database's own text for it (not ISO 8601), for the relay to dead-letter; put back, it is stored
//   unchanged.
// - The statements run inside one relay transaction: everything commits when the callback resolves,
//   and if it throws every claimed row stays as it was.
// - Many relays drain at once, each the rows of its own partitions (`ClaimScope`: partition_hash mod
//   N, the streams' partition function); a transaction without a scope claims from every partition.
//   A scope's fences are checked as the relay transaction joins the relays, and until it ends nobody
//   can take those leases (a take waits), so a relay that lost a partition never publishes its rows.
// - `withRelaysPaused` waits until no relay transaction runs; while it runs, relay transactions
//   stand by (`joinRelays` answers false) or wait, so a partition-count switch sees no publish.
import type { EventHeaders, JsonValue } from '../core/envelope.ts';
import type { LeaseFence } from './leases.ts';

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

/** Where a dead row's dead letter was written: the DLQ stream and the entry id in it. */
export type DeadLetterRef = { readonly stream: string; readonly id: string };

/**
 * A claimed row going back into the outbox: same id and event, the history and next attempt as given.
 * With `dead`, it goes back dead: never claimed again (`nextAttemptAt` is then ignored), while it
 * holds every later row of its aggregate, until `releaseDeadRow` deletes it.
 */
export type ReinstatedRow = OutboxRow & {
  readonly nextAttemptAt: Date;
  readonly dead?: DeadLetterRef | undefined;
};

/** A row kept in the outbox after it was dead-lettered: the full event, whatever the dead letter kept. */
export type DeadOutboxRow = OutboxRow & { readonly deadAt: string; readonly deadLetter: DeadLetterRef };

export type OutboxBacklog = { readonly count: number; readonly oldestAgeSeconds: number };

/** Inside a transaction: the backend's side. */
export type OutboxWriter = {
  insert(events: readonly NewOutboxEvent[]): Promise<void>;
};

/**
 * The rows one relay transaction may claim: those whose partition (`partition_hash` mod `count`) is
 * one of `partitions`, while every fence (the relay's leases on them) still holds.
 */
export type ClaimScope = {
  readonly count: number;
  readonly partitions: readonly number[];
  readonly fences: readonly LeaseFence[];
};

/** The relay's statements, valid only inside the relay transaction that handed them out. */
export type RelayStatements = {
  /**
   * Joins the relays draining now, without waiting: true unless `withRelaysPaused` has them paused
   * (then false, and nothing may be claimed). With a scope it also checks its fences (FencedError when
   * one no longer holds) and keeps them until this transaction ends: a take of those leases waits for
   * it. Claims are only safe after it answered true; asking again answers the same.
   */
  joinRelays(): Promise<boolean>;
  /**
   * Deletes and returns up to `limit` due rows of the scope, oldest first (returned in any order). The statement
   * is on its way when the promise is returned, and claims run in the order they were made, so the
   * relay can have the next claim executing while it publishes the current batch; a claim does not
   * see rows put back after it was made.
   */
  claimBatch(options: { readonly limit: number }): Promise<OutboxRow[]>;
  /** Puts claimed rows back, each under its own id, with attempts, failures and next attempt as given. */
  reinstate(rows: readonly ReinstatedRow[]): Promise<void>;
};

/** Outside any caller transaction: the relay's side. */
export type OutboxRelay = {
  /**
   * Runs `work` in one relay transaction, claiming within `scope` (every partition without one):
   * commits when it resolves, rolls back when it throws. Rows committed before the call are visible to
   * its claims (an adapter may look for due rows of the scope as it opens the transaction, and skip
   * the write lock when there are none).
   */
  withRelayTransaction<T>(work: (statements: RelayStatements) => Promise<T>, scope?: ClaimScope): Promise<T>;
  /**
   * Runs `work` once no relay transaction runs, and none runs until it is done (relay transactions
   * meanwhile stand by or wait): the partition-count switch checks and records under it. Undefined,
   * without running `work`, when relay transactions kept going for `waitMs`.
   */
  withRelaysPaused<T>(
    work: () => Promise<T>,
    options: { readonly waitMs: number },
  ): Promise<{ value: T } | undefined>;
  /** Rows waiting (all, or one topic's: a topic is drained when it has none); dead rows are the DLQ's. */
  backlog(options?: { readonly topic?: string }): Promise<OutboxBacklog>;
  /** The dead row whose dead letter is `ref`, if it is still kept. */
  deadRow(ref: DeadLetterRef): Promise<DeadOutboxRow | undefined>;
  /**
   * Deletes the dead row of dead letter `ref`, so its aggregate's later rows flow again; false when
   * there was none (already released, or the dead letter came from elsewhere). Safe to repeat.
   */
  releaseDeadRow(ref: DeadLetterRef): Promise<boolean>;
  /** Calls `onInsert` soon after rows are committed (LISTEN/NOTIFY, file polling); returns an unsubscribe. */
  watch?(onInsert: () => void): Promise<() => Promise<void>>;
};
