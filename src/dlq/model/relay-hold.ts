// A relay-stage dead letter's event stays in the outbox as a dead row (the full body, whatever the
// dead letter kept) and holds its aggregate's later rows. Closing the dead letter (resolve, reprocess,
// purge) deletes that row, which lets them flow; reprocess publishes the row's full event, first.
import { isTruncatedDeadLetter, truncatedFields } from '../../core/dead-letter.ts';
import type { StreamFields } from '../../core/envelope.ts';
import { ValidationError } from '../../core/errors.ts';
import { eventProblem } from '../../core/event-check.ts';
import type { Bus } from '../../ports/bus.ts';
import type { DeadOutboxRow } from '../../ports/outbox.ts';
import type { DlqContext } from '../io.ts';
import type { AuditRecord } from './audit-record.ts';
import type { DlqStream } from './names.ts';
import type { Republished } from './republish.ts';

const isRelayStage = (fields: StreamFields): boolean => fields.dlq_stage === 'relay';

const warned = new WeakSet<DlqContext>();

/**
 * The dead row kept for this dead letter, if any. Without the database it cannot be looked at (nor
 * released): the operator is told once per run how to release it later.
 */
export const relayHold = async (
  ctx: DlqContext,
  dlq: DlqStream,
  id: string,
  fields: StreamFields,
): Promise<DeadOutboxRow | undefined> => {
  if (!isRelayStage(fields)) return undefined;
  if (!ctx.store) {
    if (!warned.has(ctx)) {
      warned.add(ctx);
      ctx.io.err(
        `mm-dlq: warning: ${id} is a relay-stage dead letter; without --database-url (DATABASE_URL) its outbox row, which holds its aggregate's later events, is not released: with DATABASE_URL set, mm-dlq resolve --stream ${dlq.name} --id ${id} releases it (safe on a closed dead letter)\n`,
      );
    }
    return undefined;
  }
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

const withBody = (fields: StreamFields, payload: string, headers: string): StreamFields => {
  const full: StreamFields = { ...fields, payload, headers };
  for (const name of ['payload', 'headers'])
    for (const field of Object.values(truncatedFields(name))) delete full[field];
  return full;
};

/** The dead letter with its event's full body from the dead row, when the letter kept only a preview. */
export const withFullBody = (fields: StreamFields, row: DeadOutboxRow | undefined): StreamFields =>
  row ? withBody(fields, row.payloadJson, row.headersJson) : fields;

/**
 * A truncated dead letter whose dead row went when it was first reprocessed: the full body from that
 * republished copy, while `stream` still holds it (a forced reprocess then republishes the same event).
 */
export const withRepublishedBody = async (
  bus: Bus,
  fields: StreamFields,
  audits: readonly AuditRecord[],
  stream: string,
): Promise<StreamFields> => {
  if (!isTruncatedDeadLetter(fields)) return fields;
  for (const audit of audits) {
    if (audit.newStreamId === undefined) continue;
    const [copy] = await bus.range(stream, { start: audit.newStreamId, end: audit.newStreamId, count: 1 });
    const payload = copy?.fields.payload;
    if (copy && copy.fields.event_id === fields.event_id && payload !== undefined)
      return withBody(fields, payload, copy.fields.headers ?? '{}');
  }
  return fields;
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
