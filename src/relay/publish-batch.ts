// Publishes one claimed batch: one pipeline of XADDs, per-event failures counted towards the DLQ,
// dead letters written before their rows may leave the outbox. Transient failures throw, so the
// drain transaction rolls back and every row stays.
import { type BackoffPolicy, backoffDelay } from '../core/backoff.ts';
import { deadLetterFields } from '../core/dead-letter.ts';
import { dlqStreamOf, type StreamFields } from '../core/envelope.ts';
import { coerceError, PermanentError } from '../core/errors.ts';
import type { Bus } from '../ports/bus.ts';
import type { OutboxRow } from '../ports/outbox.ts';
import type { DrainOutcome } from './drain-outbox.ts';
import type { RetryRow } from './reinstated-row.ts';
import { entryBytes, isOversized, rowStreamFields } from './row-fields.ts';

export type PublishPolicy = {
  readonly maxAttempts: number;
  readonly maxEventBytes: number;
  readonly backoff: BackoffPolicy;
};

export type Published = { readonly row: OutboxRow; readonly stream: string; readonly streamId: string };
export type DeadLettered = { readonly row: OutboxRow; readonly reason: string; readonly attempts: number };
export type FailedAttempt = {
  readonly row: OutboxRow;
  readonly error: Error;
  readonly attempts: number;
  readonly nextAttemptAt: Date;
};

/** What happened to a batch; applied to metrics and logs only once its transaction committed. */
export type BatchReport = {
  readonly published: Published[];
  readonly deadLettered: DeadLettered[];
  readonly failed: FailedAttempt[];
  /** Rows put back unchanged behind a failed event of their aggregate. */
  held: number;
};

export type BatchResult = { readonly outcome: DrainOutcome; readonly report: BatchReport };

type Entry = { readonly stream: string; readonly fields: StreamFields };
type Planned = { readonly row: OutboxRow; readonly dead?: { reason: string; attempts: number } };

/** The stream of each row, in order (its topic's partition stream). */
export type RouteRows = (rows: readonly OutboxRow[]) => Promise<readonly string[]>;

const ownTopics: RouteRows = async (rows) => rows.map((row) => row.topic);

const aggregateKey = (row: OutboxRow): string => `${row.aggregateType}\u0000${row.aggregateId}`;

export type BatchPublisher = { publish(rows: readonly OutboxRow[]): Promise<BatchResult> };

/**
 * Publishes the batches of one drain transaction in order. Aggregates with a failed event, and when
 * that event is due again, are remembered across the batches: their later events wait with it, so
 * a retry never reorders an aggregate (later batches were claimed before this one's outcome).
 */
export const createBatchPublisher = (
  bus: Bus,
  policy: PublishPolicy,
  now: () => number = Date.now,
  route: RouteRows = ownTopics,
): BatchPublisher => {
  const blocked = new Map<string, Date>();
  return { publish: async (rows) => publishRows(bus, rows, await route(rows), policy, now, blocked) };
};

const publishRows = async (
  bus: Bus,
  rows: readonly OutboxRow[],
  streams: readonly string[],
  policy: PublishPolicy,
  now: () => number,
  blocked: Map<string, Date>,
): Promise<BatchResult> => {
  const report: BatchReport = { published: [], deadLettered: [], failed: [], held: 0 };
  const retry: RetryRow[] = [];

  /** Counts one failed attempt: a dead letter to write at max attempts, otherwise a retry. */
  const fail = (row: OutboxRow, stream: string, fields: StreamFields, error: Error): Entry | undefined => {
    const attempts = row.attempts + 1;
    const failedAt = new Date(now()).toISOString();
    if (attempts >= policy.maxAttempts) {
      return {
        stream: dlqStreamOf(row.topic),
        fields: deadLetterFields(fields, {
          stage: 'relay',
          originStream: stream,
          error,
          attempts,
          firstFailedAt: row.firstFailedAt ?? failedAt,
          failedAt,
        }),
      };
    }
    retryLater(row, error, attempts);
    return undefined;
  };

  const retryLater = (row: OutboxRow, error: Error, attempts: number): void => {
    const nextAttemptAt = new Date(now() + backoffDelay(row.attempts, policy.backoff));
    retry.push({ id: row.id, error: `${error.name}: ${error.message}`, nextAttemptAt });
    report.failed.push({ row, error, attempts, nextAttemptAt });
    const key = aggregateKey(row);
    if (!blocked.has(key)) blocked.set(key, nextAttemptAt);
  };

  /** Sends entries in one pipeline and sorts out each outcome; returns dead letters still to write. */
  const send = async (entries: Entry[], planned: Planned[]): Promise<[Entry[], Planned[]]> => {
    const outcomes = entries.length === 0 ? [] : await bus.addBatch(entries);
    const laterEntries: Entry[] = [];
    const laterPlanned: Planned[] = [];
    outcomes.forEach((outcome, index) => {
      const { row, dead } = planned[index] as Planned;
      const entry = entries[index] as Entry;
      if ('id' in outcome) {
        if (dead) report.deadLettered.push({ row, ...dead });
        else report.published.push({ row, stream: entry.stream, streamId: outcome.id });
        return;
      }
      const error = coerceError(outcome.error);
      if (dead) {
        // The dead letter itself could not be written: the row stays, and is tried again later.
        retryLater(row, new PermanentError(`dead letter not written: ${error.message}`), dead.attempts + 1);
        return;
      }
      const deadLetter = fail(row, entry.stream, entry.fields, error);
      if (deadLetter) {
        laterEntries.push(deadLetter);
        laterPlanned.push({ row, dead: { reason: error.message, attempts: row.attempts + 1 } });
      }
    });
    return [laterEntries, laterPlanned];
  };

  const entries: Entry[] = [];
  const planned: Planned[] = [];
  for (const [index, row] of rows.entries()) {
    const stream = streams[index] ?? row.topic;
    const waitFor = blocked.get(aggregateKey(row));
    if (waitFor) {
      retry.push({
        id: row.id,
        error: 'held behind a failed event of its aggregate',
        nextAttemptAt: waitFor,
        held: true,
      });
      report.held += 1;
      continue;
    }
    const fields = rowStreamFields(row);
    if (!isOversized(fields, policy.maxEventBytes)) {
      entries.push({ stream, fields });
      planned.push({ row });
      continue;
    }
    const error = new PermanentError(
      `event is ${entryBytes(fields)} bytes, over --max-event-bytes ${policy.maxEventBytes}`,
    );
    const deadLetter = fail(row, stream, fields, error);
    if (deadLetter) {
      entries.push(deadLetter);
      planned.push({ row, dead: { reason: error.message, attempts: row.attempts + 1 } });
    }
  }
  const [deadLetters, deadPlanned] = await send(entries, planned);
  if (deadLetters.length > 0) await send(deadLetters, deadPlanned);
  return { outcome: { retry }, report };
};
