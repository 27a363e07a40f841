// The per-event library form of the consumer's exactly-once rule (the runbook's
// `ensure_idempotent_processing`): record the event in the ledger and run `process` in one step.
import { isEventType } from '../core/envelope.ts';
import { ValidationError } from '../core/errors.ts';
import { assertIdentifier } from '../core/identifiers.ts';
import { isUuid } from '../core/ids.ts';
import type { Tx } from '../ports/store.ts';

export type IdempotentProcessingOptions<T> = {
  /** The caller's open transaction; the ledger row and the effect commit (or roll back) with it. */
  readonly tx: Tx;
  readonly eventId: string;
  readonly eventType: string;
  readonly consumerGroup: string;
  /** Runs only when this group has not recorded the event yet, inside a savepoint of `tx`. */
  readonly process: (tx: Tx) => Promise<T> | T;
  /** Schema holding `event_ledger`; validated, never interpolated raw. */
  readonly schema?: string;
  /** Stream entry id, when the event came from a stream. */
  readonly streamId?: string;
};

export type IdempotentOutcome<T> =
  | { readonly status: 'applied'; readonly result: T }
  | { readonly status: 'duplicate' };

/**
 * Inserts (event_id, consumer_group) into `<schema>.event_ledger` and runs `process` in the same
 * savepoint. A row already there means the event was applied before: `process` does not run. When
 * `process` throws, the savepoint undoes the ledger row with the effect and the error is rethrown,
 * so the caller's transaction stays usable either way.
 */
export const ensureIdempotentProcessing = async <T>(
  options: IdempotentProcessingOptions<T>,
): Promise<IdempotentOutcome<T>> => {
  const schema = assertIdentifier(options.schema ?? 'public', 'schema');
  const problems: string[] = [];
  if (!isUuid(options.eventId))
    problems.push(`eventId must be a UUID, got "${String(options.eventId).slice(0, 80)}"`);
  if (!isEventType(options.eventType))
    problems.push(`eventType is malformed: "${String(options.eventType).slice(0, 80)}"`);
  if (typeof options.consumerGroup !== 'string' || options.consumerGroup === '')
    problems.push('consumerGroup is required');
  if (typeof options.process !== 'function') problems.push('process must be a function');
  if (problems.length > 0) throw new ValidationError(problems.join('; '), { problems });
  return options.tx.savepoint(async (tx) => {
    const fresh = await tx.ledger.claim(
      [
        {
          // Lower case like the consumer's own rows, so both forms of one id meet in any store.
          eventId: options.eventId.toLowerCase(),
          consumerGroup: options.consumerGroup,
          eventType: options.eventType,
          streamId: options.streamId ?? '',
          result: 'applied',
        },
      ],
      { schema },
    );
    if (fresh.size === 0) return { status: 'duplicate' } as const;
    return { status: 'applied', result: await options.process(tx) } as const;
  });
};
