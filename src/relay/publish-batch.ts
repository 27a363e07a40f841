// Publishes one claimed batch: one pipeline of XADDs, per-event failures counted towards the DLQ,
// poison rows (relay/row-check.ts) dead-lettered at once. A dead-lettered row goes back into the
// outbox as dead, holding its aggregate's later rows until mm-dlq closes its dead letter. Transient
// failures throw, so the drain transaction rolls back and every row stays.
import { type BackoffPolicy, backoffDelay } from '../core/backoff.ts';
import { boundDeadLetterBodies, deadLetterFields } from '../core/dead-letter.ts';
import { dlqStreamOf, type StreamFields } from '../core/envelope.ts';
import { coerceError, PermanentError } from '../core/errors.ts';
import type { Bus } from '../ports/bus.ts';
import type { OutboxRow } from '../ports/outbox.ts';
import type { DrainOutcome } from './drain-outbox.ts';
import type { RetryRow } from './reinstated-row.ts';
import { checkRow } from './row-check.ts';
import { rowStreamFields } from './row-fields.ts';

export type PublishPolicy = {
  readonly maxAttempts: number;
  readonly maxEventBytes: number;
  readonly backoff: BackoffPolicy;
};

export type Published = { readonly row: OutboxRow; readonly stream: string; readonly streamId: string };
export type DeadLettered = {
  readonly row: OutboxRow;
  readonly reason: string;
  readonly attempts: number;
  readonly dlqStream: string;
};
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
type Dead = { readonly reason: string; readonly attempts: number; readonly dlqStream: string };
type Planned = { readonly row: OutboxRow; readonly dead?: Dead };

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

  /** The dead letter of a row: at most --max-event-bytes of its body, the rest kept in the dead row. */
  const deadLetter = (
    row: OutboxRow,
    origin: string,
    fields: StreamFields,
    error: Error,
    stream: string,
  ): Entry => {
    const failedAt = new Date(now()).toISOString();
    const letter = deadLetterFields(fields, {
      stage: 'relay',
      originStream: origin,
      error,
      attempts: row.attempts + 1,
      firstFailedAt: row.firstFailedAt ?? failedAt,
      failedAt,
    });
    return { stream, fields: boundDeadLetterBodies(letter, policy.maxEventBytes) };
  };

  /** Counts one failed attempt: a dead letter to write at max attempts, otherwise a retry. */
  const fail = (row: OutboxRow, stream: string, fields: StreamFields, error: Error): Entry | undefined => {
    const attempts = row.attempts + 1;
    if (attempts >= policy.maxAttempts) return deadLetter(row, stream, fields, error, dlqStreamOf(row.topic));
    retryLater(row, error, attempts);
    return undefined;
  };

  /** A written dead letter: its row goes back dead, and its aggregate's later rows wait behind it. */
  const deadRow = (row: OutboxRow, info: Dead, dlqId: string): void => {
    report.deadLettered.push({ row, ...info });
    retry.push({
      id: row.id,
      error: info.reason,
      nextAttemptAt: new Date(now()),
      dead: { stream: info.dlqStream, id: dlqId },
    });
    const key = aggregateKey(row);
    if (!blocked.has(key)) blocked.set(key, new Date(now()));
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
        if (dead) deadRow(row, dead, outcome.id);
        else report.published.push({ row, stream: entry.stream, streamId: outcome.id });
        return;
      }
      const error = coerceError(outcome.error);
      if (dead) {
        // The dead letter itself could not be written: the row stays, and is tried again later.
        retryLater(row, new PermanentError(`dead letter not written: ${error.message}`), dead.attempts + 1);
        return;
      }
      const letter = fail(row, entry.stream, entry.fields, error);
      if (letter) {
        laterEntries.push(letter);
        laterPlanned.push({
          row,
          dead: { reason: error.message, attempts: row.attempts + 1, dlqStream: letter.stream },
        });
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
    const poison = checkRow(fields, policy.maxEventBytes);
    if (!poison) {
      entries.push({ stream, fields });
      planned.push({ row });
      continue;
    }
    // A poison row fails the same way every time: no retries, its dead letter now.
    const error = new PermanentError(`outbox column ${poison.column}: ${poison.reason}`);
    entries.push(deadLetter(row, row.topic, fields, error, poison.dlqStream));
    planned.push({
      row,
      dead: { reason: error.message, attempts: row.attempts + 1, dlqStream: poison.dlqStream },
    });
    // Its aggregate's later rows of this batch wait behind it from here on.
    blocked.set(aggregateKey(row), new Date(now()));
  }
  const [deadLetters, deadPlanned] = await send(entries, planned);
  if (deadLetters.length > 0) await send(deadLetters, deadPlanned);
  return { outcome: { retry }, report };
};
