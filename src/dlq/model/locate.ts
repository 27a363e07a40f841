// Finds the dead letter an `--id` names: open (still in the DLQ) or closed (only in the audit).
import type { StreamFields } from '../../core/envelope.ts';
import { NotFoundError, UsageError } from '../../core/errors.ts';
import { compareStreamIds, streamIdTime } from '../../core/ids.ts';
import type { Bus } from '../../ports/bus.ts';
import { type AuditRecord, closingRecord, parseAuditRecord } from './audit-record.ts';
import type { DlqStream, IdArg } from './names.ts';
import { getEntry, scanEntries, streamExists } from './scan.ts';

export type Located = {
  readonly state: 'open' | 'closed';
  readonly id: string;
  /** The dead letter's fields (for a closed one, as its closing audit record kept them). */
  readonly fields: StreamFields;
  /** Audit records of this entry, oldest first (empty while it is open). */
  readonly audits: AuditRecord[];
};

// Audit ids come from the same server clock after the entry existed; the margin covers a clock
// stepped back between the two writes.
const CLOCK_MARGIN_MS = 86_400_000;

export const auditsFor = async (bus: Bus, dlq: DlqStream, dlqId: string): Promise<AuditRecord[]> => {
  const records: AuditRecord[] = [];
  const start = `${Math.max(0, streamIdTime(dlqId) - CLOCK_MARGIN_MS)}-0`;
  for await (const entry of scanEntries(bus, dlq.audit, { start, pageSize: 1000 })) {
    if (entry.fields.dlq_id !== dlqId) continue;
    const record = parseAuditRecord(entry);
    if (record) records.push(record);
  }
  return records;
};

const closed = (id: string, audits: AuditRecord[]): Located => ({
  state: 'closed',
  id,
  fields: closingRecord(audits)?.entry ?? {},
  audits,
});

const notFound = async (bus: Bus, dlq: DlqStream, what: string): Promise<never> => {
  const exists = (await streamExists(bus, dlq.name)) || (await streamExists(bus, dlq.audit));
  throw new NotFoundError(
    exists
      ? `no dead letter ${what} in ${dlq.name} (open or closed)`
      : `${dlq.name} does not exist: no dead letter ${what}`,
  );
};

const locateEntry = async (bus: Bus, dlq: DlqStream, id: string): Promise<Located> => {
  const open = await getEntry(bus, dlq.name, id);
  if (open) return { state: 'open', id, fields: open.fields, audits: [] };
  const audits = await auditsFor(bus, dlq, id);
  if (audits.length > 0) return closed(id, audits);
  return notFound(bus, dlq, id);
};

const locateEvent = async (bus: Bus, dlq: DlqStream, eventId: string): Promise<Located> => {
  const open: Located[] = [];
  for await (const entry of scanEntries(bus, dlq.name, { pageSize: 1000 })) {
    if (entry.fields.event_id?.toLowerCase() === eventId)
      open.push({ state: 'open', id: entry.id, fields: entry.fields, audits: [] });
  }
  if (open.length > 1) {
    const ids = open.map((entry) => entry.id).join(', ');
    throw new UsageError(
      `event ${eventId} has ${open.length} open dead letters (${ids}): pass one with --id`,
    );
  }
  if (open[0]) return open[0];
  const byDlqId = new Map<string, AuditRecord[]>();
  for await (const entry of scanEntries(bus, dlq.audit, { pageSize: 1000 })) {
    const record = parseAuditRecord(entry);
    if (!record || record.entry.event_id?.toLowerCase() !== eventId) continue;
    byDlqId.set(record.dlqId, [...(byDlqId.get(record.dlqId) ?? []), record]);
  }
  // The event's most recent dead letter is the one an operator means.
  const latest = [...byDlqId.keys()].sort(compareStreamIds).pop();
  if (latest !== undefined) return closed(latest, byDlqId.get(latest) ?? []);
  return notFound(bus, dlq, `for event ${eventId}`);
};

export const locate = (bus: Bus, dlq: DlqStream, arg: IdArg): Promise<Located> =>
  arg.kind === 'entry' ? locateEntry(bus, dlq, arg.id) : locateEvent(bus, dlq, arg.eventId);
