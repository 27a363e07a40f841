// Closing a dead letter: audit record, removal from the DLQ and (for reprocess) the republished event,
// written as ONE atomic step that happens only while the entry is still open.
import type { StreamFields } from '../../core/envelope.ts';
import type { Bus, BusWrite } from '../../ports/bus.ts';
import { auditFields, type Closing, NEW_STREAM_ID_FIELD } from '../model/audit-record.ts';
import type { DlqStream } from '../model/names.ts';
import type { Republished } from '../model/republish.ts';

export type CloseRequest = {
  readonly dlq: DlqStream;
  /** The dead letter's id and fields. */
  readonly id: string;
  readonly fields: StreamFields;
  readonly closing: Closing;
  readonly republish?: Republished | undefined;
  /**
   * True when the entry is open: it is removed, and nothing is written if it is gone by then. False
   * only for a forced re-publish of an already closed entry (audit record and event, no removal).
   */
  readonly open: boolean;
};

export type CloseResult = {
  /** False when the entry was closed by someone else first: then nothing was written. */
  readonly applied: boolean;
  readonly newStreamId: string | undefined;
};

export const closeWrites = (request: CloseRequest): BusWrite[] => {
  const writes: BusWrite[] = [];
  if (request.republish) {
    // On a Redis Cluster the event and the closing are two steps: re-run after a crash between
    // them, the open entry's event is not published twice.
    const once = request.open ? { once: `${request.dlq.name} ${request.id}` } : {};
    writes.push({ op: 'add', stream: request.republish.stream, fields: request.republish.fields, ...once });
  }
  writes.push({
    op: 'add',
    stream: request.dlq.audit,
    fields: auditFields(request.fields, request.closing),
    ...(request.republish ? { idFields: { [NEW_STREAM_ID_FIELD]: 0 } } : {}),
  });
  if (request.open) writes.push({ op: 'del', stream: request.dlq.name, ids: [request.id] });
  return writes;
};

export const closeEntry = async (bus: Bus, request: CloseRequest): Promise<CloseResult> => {
  const result = await bus.exec(
    closeWrites(request),
    request.open ? { requireEntry: { stream: request.dlq.name, id: request.id } } : {},
  );
  return {
    applied: result.applied,
    newStreamId: result.applied && request.republish ? result.addedIds[0] : undefined,
  };
};
