// The audit record of a closed dead letter (`<dlq>.audit`): who closed which entry, how and when,
// with the closed entry's fields verbatim. Reading and writing it lives here only.
import type { StreamFields } from '../../core/envelope.ts';
import type { StreamEntry } from '../../ports/bus.ts';

export const AuditActions = ['reprocessed', 'resolved', 'purged'] as const;
export type AuditAction = (typeof AuditActions)[number];

export type Closing = {
  readonly action: AuditAction;
  readonly dlqId: string;
  readonly actor: string;
  readonly note: string;
  /** ISO 8601 UTC. */
  readonly at: string;
  /**
   * A reprocess with --force of an entry that was already closed: it publishes again but closes
   * nothing, so reports do not count it as a close.
   */
  readonly forced?: boolean;
};

export type AuditRecord = Closing & {
  /** The audit entry's own stream id. */
  readonly auditId: string;
  /** Where the reprocessed event went (reprocess only). */
  readonly newStreamId: string | undefined;
  /** The closed dead letter's fields, as they were in the DLQ. */
  readonly entry: StreamFields;
};

const AUDIT_FIELDS = ['action', 'dlq_id', 'actor', 'note', 'at', 'new_stream_id', 'forced', 'dlq_entry'];
export const NEW_STREAM_ID_FIELD = 'new_stream_id';

/**
 * Audit fields first, then the entry's. An entry that happens to carry a field with an audit name
 * (a raw, unparseable event) is kept whole as JSON in `dlq_entry`, so nothing of it is lost.
 * `new_stream_id` is not set here: the atomic write fills it with the republished entry's id.
 */
export const auditFields = (entry: StreamFields, closing: Closing): StreamFields => {
  const fields: StreamFields = {
    action: closing.action,
    dlq_id: closing.dlqId,
    actor: closing.actor,
    note: closing.note,
    at: closing.at,
  };
  if (closing.forced) fields.forced = 'true';
  const clashes = Object.keys(entry).some((name) => AUDIT_FIELDS.includes(name));
  for (const [name, value] of Object.entries(entry)) if (!AUDIT_FIELDS.includes(name)) fields[name] = value;
  if (clashes) fields.dlq_entry = JSON.stringify(entry);
  return fields;
};

const isAction = (value: string | undefined): value is AuditAction =>
  (AuditActions as readonly string[]).includes(value ?? '');

const entryOf = (fields: StreamFields): StreamFields => {
  if (fields.dlq_entry !== undefined) {
    try {
      return JSON.parse(fields.dlq_entry) as StreamFields;
    } catch {
      // fall through: show what the record has
    }
  }
  return Object.fromEntries(Object.entries(fields).filter(([name]) => !AUDIT_FIELDS.includes(name)));
};

/** Reads an audit entry back; undefined for entries that are not audit records. */
export const parseAuditRecord = (entry: StreamEntry): AuditRecord | undefined => {
  const { fields } = entry;
  if (!isAction(fields.action) || fields.dlq_id === undefined) return undefined;
  return {
    auditId: entry.id,
    action: fields.action,
    dlqId: fields.dlq_id,
    actor: fields.actor ?? '',
    note: fields.note ?? '',
    at: fields.at ?? '',
    forced: fields.forced === 'true',
    newStreamId: fields.new_stream_id,
    entry: entryOf(fields),
  };
};

/** The record that closed the entry (the first one that is not a forced re-publish). */
export const closingRecord = (records: readonly AuditRecord[]): AuditRecord | undefined =>
  records.find((record) => !record.forced) ?? records[0];
