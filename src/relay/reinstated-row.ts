// What a row put back by the relay carries: a failed row counts an attempt and records its error;
// a held row (waiting behind a failed event of its aggregate) keeps its history unchanged; a dead
// row counts its last attempt and names its dead letter.
import type { DeadLetterRef, OutboxRow, ReinstatedRow } from '../ports/outbox.ts';

/** One row of a batch the relay could not publish (yet). */
export type RetryRow = {
  readonly id: string;
  readonly error: string;
  readonly nextAttemptAt: Date;
  /** Did not fail itself: waits behind an earlier failed row of its aggregate. */
  readonly held?: boolean;
  /** Dead-lettered: goes back dead (never claimed again), with the dead letter it is kept for. */
  readonly dead?: DeadLetterRef;
};

export const MAX_ERROR_CHARS = 2_000;

export const reinstatedRow = (row: OutboxRow, retry: RetryRow, nowIso: string): ReinstatedRow =>
  retry.held
    ? { ...row, nextAttemptAt: retry.nextAttemptAt }
    : {
        ...row,
        attempts: row.attempts + 1,
        firstFailedAt: row.firstFailedAt ?? nowIso,
        lastError: retry.error.slice(0, MAX_ERROR_CHARS),
        nextAttemptAt: retry.nextAttemptAt,
        ...(retry.dead === undefined ? {} : { dead: retry.dead }),
      };
