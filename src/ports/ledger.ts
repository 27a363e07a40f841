// The idempotency ledger port: one row per (event, consumer group), written with the handler's effect.
//
// Semantics every adapter must honour:
// - `claim` inserts the rows that are not there yet and reports which ones it inserted; an existing
//   (event_id, consumer_group) row is left untouched, however often the event is delivered.
// - It runs inside the caller's transaction, so a rollback removes the ledger row with the effect.

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

/** Inside a transaction. */
export type LedgerWriter = {
  /** Returns the event ids that were newly recorded (the others were already in the ledger). */
  claim(entries: readonly LedgerEntry[], options?: { schema?: string }): Promise<Set<string>>;
};

export type LedgerReader = {
  find(eventId: string): Promise<LedgerRow[]>;
  /** Event ids among `eventIds` that `consumerGroup` has already recorded. */
  recorded(consumerGroup: string, eventIds: readonly string[]): Promise<Set<string>>;
  /** Deletes rows older than the retention (default 30 days); returns how many. */
  cleanup(retentionSeconds?: number): Promise<number>;
};
