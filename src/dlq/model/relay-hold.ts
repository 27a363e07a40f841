// A relay-stage dead letter's event stays in the outbox as a dead row (the full body, whatever the
// dead letter kept) and holds its aggregate's later rows. Closing the dead letter (resolve, reprocess,
// purge) deletes that row, which lets them flow; reprocess publishes the row's full event, first.
import { isTruncatedDeadLetter, truncatedFields } from '../../core/dead-letter.ts';
import type { StreamFields } from '../../core/envelope.ts';
import { ConfigError, ValidationError } from '../../core/errors.ts';
import { eventProblem } from '../../core/event-check.ts';
import type { DeadOutboxRow } from '../../ports/outbox.ts';
import type { DlqContext } from '../io.ts';
import type { DlqStream } from './names.ts';
import type { Republished } from './republish.ts';

const isRelayStage = (fields: StreamFields): boolean => fields.dlq_stage === 'relay';

/**
 * The dead row kept for this dead letter, if any. A relay-stage one cannot be closed without the
 * database: its row would keep holding its aggregate with nobody left to release it.
 */
export const relayHold = async (
  ctx: DlqContext,
  dlq: DlqStream,
  id: string,
  fields: StreamFields,
): Promise<DeadOutboxRow | undefined> => {
  if (!isRelayStage(fields)) return undefined;
  if (!ctx.store)
    throw new ConfigError([
      `${id} is a relay-stage dead letter: its outbox row holds its aggregate's later events until it is closed, which needs --database-url (DATABASE_URL)`,
    ]);
  return ctx.store.outbox.deadRow({ stream: dlq.name, id });
};

/** Deletes the dead row of a closed relay-stage dead letter; safe to repeat. */
export const releaseRelayHold = async (
  ctx: DlqContext,
  dlq: DlqStream,
  id: string,
  fields: StreamFields,
): Promise<void> => {
  if (isRelayStage(fields) && ctx.store) await ctx.store.outbox.releaseDeadRow({ stream: dlq.name, id });
};

/** The dead letter with its event's full body from the dead row, when the letter kept only a preview. */
export const withFullBody = (fields: StreamFields, row: DeadOutboxRow | undefined): StreamFields => {
  if (!row) return fields;
  const full: StreamFields = { ...fields, payload: row.payloadJson, headers: row.headersJson };
  for (const name of ['payload', 'headers'])
    for (const field of Object.values(truncatedFields(name))) delete full[field];
  return full;
};

/**
 * A relay-stage event is republished only as the relay would publish it: a whole body, a valid
 * event, at most --max-event-bytes.
 */
export const assertPublishable = (
  fields: StreamFields,
  republished: Republished,
  maxEventBytes: number,
): void => {
  if (isTruncatedDeadLetter(fields))
    throw new ValidationError(
      'cannot reprocess: the dead letter keeps only a preview of the event and its outbox row is gone (resolve it instead)',
    );
  if (!isRelayStage(fields)) return;
  const problem = eventProblem(republished.fields);
  if (problem) throw new ValidationError(`cannot reprocess: ${problem.reason} (resolve it instead)`);
  let bytes = 0;
  for (const [name, value] of Object.entries(republished.fields))
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  if (bytes > maxEventBytes)
    throw new ValidationError(
      `cannot reprocess: the event is ${bytes} bytes, over --max-event-bytes ${maxEventBytes} (resolve it instead)`,
    );
};
