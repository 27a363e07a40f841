// What a row put back by the relay carries: a failed row counts an attempt and records its error;
// a held row (waiting behind a failed event of its aggregate) keeps its history unchanged.
import type { DrainOutcome } from '../ports/outbox.ts';

export type FailureHistory = {
  readonly attempts: number;
  readonly firstFailedAt: string | null;
  readonly lastError: string | null;
};

export const MAX_ERROR_CHARS = 2_000;

export const reinstatedHistory = (
  row: FailureHistory,
  retry: DrainOutcome['retry'][number],
  nowIso: string,
): FailureHistory =>
  retry.held
    ? row
    : {
        attempts: row.attempts + 1,
        firstFailedAt: row.firstFailedAt ?? nowIso,
        lastError: retry.error.slice(0, MAX_ERROR_CHARS),
      };
