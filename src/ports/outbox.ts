// The outbox port: the backend writes rows inside its transaction; the relay claims and removes them
// with the statements of one relay transaction. How the statements are strung together (the drain
// policy: batches, held rows, attempt history, leader or standby) lives once, in relay/drain-outbox.ts.
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
// - The relay lock is relay-wide: while one relay transaction holds it, any other (in this process
//   or another) is refused at once, without waiting.
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

/** The relay's statements, valid only inside the relay transaction that handed them out. */
export type RelayStatements = {
  /**
   * Tries the relay lock without waiting (an adapter may already have tried it as the transaction
   * opened); true when this transaction holds it (asking again answers true again), false when another
   * relay transaction does. Held until this transaction ends. Claims are only safe under it: the relay
   * takes it before its first claim.
   */
  takeRelayLock(): Promise<boolean>;
  /**
   * Deletes and returns up to `limit` due rows, oldest first (returned in any order). The statement
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
   * Runs `work` in one relay transaction: commits when it resolves, rolls back when it throws. Rows
   * committed before the call are visible to its claims (an adapter may look for due rows as it opens
   * the transaction, and skip the write lock when there are none).
   */
  withRelayTransaction<T>(work: (statements: RelayStatements) => Promise<T>): Promise<T>;
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
