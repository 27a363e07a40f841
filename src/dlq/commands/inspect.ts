// `mm-dlq inspect`: everything about one dead letter, open or closed, what the ledger says, and
// which aggregates its event halts with how many events wait behind it.
import { isTruncatedDeadLetter, parseDeadLetter } from '../../core/dead-letter.ts';
import type { StreamFields } from '../../core/envelope.ts';
import { streamIdTime } from '../../core/ids.ts';
import { renderInspect } from '../format/inspect-render.ts';
import { previewOf } from '../format/payload-preview.ts';
import type { DlqContext } from '../io.ts';
import type { AuditRecord } from '../model/audit-record.ts';
import { type Halted, haltedBehindOrUnchecked, haltedJson } from '../model/halted.ts';
import { type LedgerStatus, ledgerStatus, streamGroups } from '../model/ledger-status.ts';
import { locate } from '../model/locate.ts';
import type { DlqStream } from '../model/names.ts';
import { requireDlqStream } from '../model/place.ts';
import { withFullBody, withRepublishedBody } from '../model/relay-hold.ts';
import { originStreamOf } from '../model/republish.ts';
import type { InspectOptions } from '../options.ts';

export type Inspection = {
  readonly stream: string;
  readonly id: string;
  readonly state: 'open' | 'closed';
  readonly fields: StreamFields;
  readonly audits: readonly AuditRecord[];
  readonly ledger: LedgerStatus;
  readonly halted: Halted;
};

const parsedPayload = (raw: string | undefined): unknown => {
  if (raw === undefined) return null;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
};

/** The payload as JSON output carries it: parsed when whole, the cut text when over the preview size. */
const payloadJson = (raw: string | undefined, full: boolean) => {
  if (raw === undefined) return { payload: null, payload_bytes: 0, payload_truncated: false };
  const preview = previewOf(raw, raw, full);
  return preview.truncated
    ? { payload: preview.text, payload_bytes: preview.bytes, payload_truncated: true }
    : { payload: parsedPayload(raw), payload_bytes: preview.bytes, payload_truncated: false };
};

export const inspectionJson = (inspection: Inspection, options: { full?: boolean } = {}) => {
  const dead = parseDeadLetter(inspection.fields);
  const payload = payloadJson(inspection.fields.payload, options.full === true);
  const fields =
    payload.payload_truncated && typeof payload.payload === 'string'
      ? { ...inspection.fields, payload: payload.payload }
      : inspection.fields;
  return {
    stream: inspection.stream,
    id: inspection.id,
    state: inspection.state,
    dead_lettered_at: new Date(streamIdTime(inspection.id)).toISOString(),
    fields,
    ...payload,
    failure: {
      stage: dead.stage,
      consumer_group: dead.consumerGroup ?? null,
      origin_stream: dead.originStream,
      origin_id: dead.originId ?? null,
      attempts: dead.attempts,
      first_failed_at: dead.firstFailedAt,
      failed_at: dead.failedAt,
      error_class: dead.errorClass,
      error_message: dead.errorMessage,
      error_stack: dead.errorStack,
      fingerprint: dead.fingerprint,
    },
    audit: inspection.audits.map((record) => ({
      audit_id: record.auditId,
      action: record.action,
      at: record.at,
      actor: record.actor,
      note: record.note,
      new_stream_id: record.newStreamId ?? null,
      forced: record.forced === true,
    })),
    ledger: inspection.ledger.checked
      ? {
          checked: true,
          groups: inspection.ledger.groups.map((g) => ({
            group: g.group,
            applied: g.applied,
            processed_at: g.processedAt ?? null,
            result: g.result ?? null,
            stream_id: g.streamId ?? null,
          })),
        }
      : { checked: false, reason: inspection.ledger.reason, groups: inspection.ledger.groups },
    waiting_behind: inspection.halted.checked ? inspection.halted.waiting : null,
    halted: inspection.halted.checked
      ? { checked: true, groups: haltedJson(inspection.halted) }
      : { checked: false, reason: inspection.halted.reason, groups: [] },
  };
};

/**
 * A relay-stage letter over --max-event-bytes keeps a preview of its event: the whole body comes from
 * its dead row while the database keeps it, else from the copy a reprocess published.
 */
const fullFields = async (
  ctx: DlqContext,
  dlq: DlqStream,
  found: { readonly id: string; readonly fields: StreamFields; readonly audits: readonly AuditRecord[] },
): Promise<StreamFields> => {
  if (!isTruncatedDeadLetter(found.fields)) return found.fields;
  const row = await ctx.store?.outbox.deadRow({ stream: dlq.name, id: found.id });
  if (row) return withFullBody(found.fields, row);
  return withRepublishedBody(ctx.bus, found.fields, found.audits, originStreamOf(found.fields, dlq));
};

export const inspect = async (ctx: DlqContext, options: InspectOptions): Promise<Inspection> => {
  await requireDlqStream(ctx.bus, ctx.place, options.dlq);
  const found = await locate(ctx.bus, options.dlq, options.id);
  const dead = parseDeadLetter(found.fields);
  const groups = await streamGroups(ctx.bus, dead.originStream || options.dlq.topic, [dead.consumerGroup]);
  const eventId = found.fields.event_id ?? '';
  return {
    stream: options.dlq.name,
    id: found.id,
    state: found.state,
    fields: await fullFields(ctx, options.dlq, found),
    audits: found.audits,
    ledger: await ledgerStatus(ctx.store, eventId, groups),
    halted: await haltedBehindOrUnchecked(ctx.parking, eventId),
  };
};

export const runInspect = async (ctx: DlqContext, options: InspectOptions): Promise<number> => {
  const inspection = await inspect(ctx, options);
  const full = { full: options.full };
  if (options.json) ctx.io.out(`${JSON.stringify(inspectionJson(inspection, full), null, 2)}\n`);
  else ctx.io.out(`${renderInspect(inspection, ctx.clock.now(), ctx.style, full)}\n`);
  return 0;
};
