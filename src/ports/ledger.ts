// The idempotency ledger port: one row per (event, consumer group), written with the handler's effect.
//
// Semantics every adapter must honour:
// - `claim` inserts the rows that are not there yet and reports which ones it inserted; an existing
//   (event_id, consumer_group) row is left untouched, however often the event is delivered.
// - It runs inside the caller's transaction, so a rollback removes the ledger row with the effect.
// - Without a `schema` option (the consumer's own ledger), an entry held back by `hold` (same group,
//   event id and stream id) is neither recorded nor reported as new: the consumer acknowledges it
//   without a handler run. Another stream id of the same event (a reprocessed copy) is not held.

export const LedgerResults = ['applied', 'skipped'] as const;
export type LedgerResult = (typeof LedgerResults)[number];

export type LedgerEntry = {
  readonly eventId: string;
  readonly consumerGroup: string;
  readonly eventType: string;
  readonly streamId: string;
  readonly result: LedgerResult;
};

export type LedgerRow = LedgerEntry & { readonly processedAt: string };

/** One stream entry of an event held back from a consumer group (a replay over its dead letter). */
export type ReplayHold = {
  readonly consumerGroup: string;
  readonly eventId: string;
  readonly streamId: string;
};

/** Inside a transaction. */
export type LedgerWriter = {
  /** Returns the event ids that were newly recorded (the others were already in the ledger). */
  claim(entries: readonly LedgerEntry[], options?: { schema?: string }): Promise<Set<string>>;
};

export type LedgerReader = {
  find(eventId: string): Promise<LedgerRow[]>;
  /** Event ids among `eventIds` that `consumerGroup` has already recorded. */
  recorded(consumerGroup: string, eventIds: readonly string[]): Promise<Set<string>>;
  /** Holds entries back from the group's claims; returns how many were not held already. */
  hold(holds: readonly ReplayHold[]): Promise<number>;
  /** Those of `holds` that are held. */
  held(holds: readonly ReplayHold[]): Promise<ReplayHold[]>;
  /** Lets held entries through again; returns how many were held. */
  release(holds: readonly ReplayHold[]): Promise<number>;
  /** Deletes rows older than the retention (default 30 days), and holds as old; returns how many rows. */
  cleanup(retentionSeconds?: number): Promise<number>;
};
