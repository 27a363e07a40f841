// The text form of `mm-dlq inspect`: sections for the event, the failure, payload, stack, ledger, audit.
import { parseDeadLetter } from '../../core/dead-letter.ts';
import { streamIdTime } from '../../core/ids.ts';
import type { Inspection } from '../commands/inspect.ts';
import type { AuditRecord } from '../model/audit-record.ts';
import { waitingPhrase } from '../model/halted.ts';
import { formatAge, formatTime } from './age.ts';
import { previewOf, truncationNote } from './payload-preview.ts';
import type { Style } from './style.ts';
import { indent, oneLine, padEnd, printable } from './text.ts';

const KNOWN_DLQ_FIELDS = new Set([
  'dlq_stage',
  'dlq_origin_stream',
  'dlq_origin_id',
  'dlq_consumer_group',
  'dlq_error_class',
  'dlq_error_message',
  'dlq_error_stack',
  'dlq_attempts',
  'dlq_first_failed_at',
  'dlq_failed_at',
  'dlq_fingerprint',
]);

const pairs = (rows: readonly (readonly [string, string])[]): string => {
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `  ${padEnd(name, width)}  ${oneLine(value)}`).join('\n');
};

const timeWithAge = (iso: string, nowMs: number): string => {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso || '?' : `${formatTime(ms)} (${formatAge(nowMs - ms)} ago)`;
};

const prettyJson = (raw: string | undefined): string => {
  if (raw === undefined) return '(none)';
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    return `${raw} (not JSON)`;
  }
};

export const describeClosing = (record: AuditRecord): string => {
  const parts = [
    `${record.forced ? 'published again (--force)' : record.action} ${record.at} by ${record.actor || '?'}`,
  ];
  if (record.newStreamId)
    parts.push(`as ${record.newStreamId} on ${record.entry.dlq_origin_stream ?? 'its origin'}`);
  if (record.note) parts.push(`note: ${record.note}`);
  return oneLine(parts.join(', '));
};

const headline = (inspection: Inspection, nowMs: number, style: Style): string => {
  const created = streamIdTime(inspection.id);
  const where = `Dead letter ${inspection.id} in ${inspection.stream}`;
  const when = `dead-lettered ${formatTime(created)}, ${formatAge(nowMs - created)} ago`;
  if (inspection.state === 'open') return `${style.bold(where)}: ${style.yellow('OPEN')} (${when})`;
  const closing = inspection.audits.find((record) => !record.forced) ?? inspection.audits[0];
  return `${style.bold(where)}: ${style.green('CLOSED')}${closing ? `, ${describeClosing(closing)}` : ''} (${when})`;
};

const ledgerLines = (inspection: Inspection): string => {
  const { ledger } = inspection;
  if (!ledger.checked) {
    const groups = ledger.groups.length > 0 ? ` (groups: ${ledger.groups.join(', ')})` : '';
    return `  not checked: ${ledger.reason}${groups}`;
  }
  if (ledger.groups.length === 0) return '  no consumer groups on the origin stream and no ledger rows';
  return pairs(
    ledger.groups.map((g): [string, string] => [
      g.group,
      g.applied
        ? `applied ${g.processedAt ?? '?'} (result ${g.result ?? '?'}, stream id ${g.streamId ?? '?'})`
        : 'not applied',
    ]),
  );
};

const payloadSection = (raw: string | undefined, full: boolean): string => {
  if (raw === undefined) return indent('(none)');
  const preview = previewOf(prettyJson(raw), raw, full);
  const body = indent(printable(preview.text));
  return preview.truncated ? `${body}\n  ${truncationNote(preview)}` : body;
};

/** Open: what waits behind the dead letter; closed by reprocess: what waits for the event to apply. */
const haltedLines = (inspection: Inspection, nowMs: number): string => {
  const { halted } = inspection;
  if (!halted.checked) return `  not checked: ${halted.reason}`;
  if (halted.groups.length === 0) return '  nothing waits behind it: no aggregate is halted by this event';
  const behind =
    inspection.state === 'open' ? 'this dead letter' : 'its event until the reprocessed event is applied';
  return halted.groups
    .map(
      (g) =>
        `  ${waitingPhrase(g.waiting, behind)}\n    group ${g.group}, aggregate ${g.aggregateKey}, halted since ${timeWithAge(g.since, nowMs)}`,
    )
    .join('\n');
};

export const renderInspect = (
  inspection: Inspection,
  nowMs: number,
  style: Style,
  options: { full?: boolean } = {},
): string => {
  const { fields } = inspection;
  const dead = parseDeadLetter(fields);
  const eventRows = Object.entries(dead.original)
    .filter(([name]) => name !== 'payload')
    .map(([name, value]): [string, string] => [name, value]);
  const failureRows: [string, string][] = [
    ['stage', dead.stage],
    ['consumer group', dead.consumerGroup ?? '-'],
    ['origin', `${dead.originStream || '?'}${dead.originId ? ` ${dead.originId}` : ''}`],
    ['attempts', String(dead.attempts)],
    ['first failed', timeWithAge(dead.firstFailedAt, nowMs)],
    ['last failed', timeWithAge(dead.failedAt, nowMs)],
    ['error', `${dead.errorClass}: ${dead.errorMessage}`],
    ['fingerprint', dead.fingerprint],
  ];
  for (const [name, value] of Object.entries(fields))
    if (name.startsWith('dlq_') && !KNOWN_DLQ_FIELDS.has(name)) failureRows.push([name, value]);
  const sections = [
    headline(inspection, nowMs, style),
    style.bold('Event'),
    eventRows.length > 0 ? pairs(eventRows) : '  (no event fields)',
    style.bold('Failure'),
    pairs(failureRows),
    style.bold('Payload'),
    payloadSection(fields.payload, options.full === true),
    style.bold('Stack'),
    indent(printable(dead.errorStack || '(none)')),
    style.bold(`Ledger (event_id ${oneLine(fields.event_id ?? '?')})`),
    ledgerLines(inspection),
    style.bold('Halted aggregate (later events of the aggregate wait behind it)'),
    haltedLines(inspection, nowMs),
  ];
  if (inspection.audits.length > 0) {
    sections.push(style.bold('Audit'));
    sections.push(
      inspection.audits.map((record) => `  ${record.auditId}  ${describeClosing(record)}`).join('\n'),
    );
  }
  return sections.join('\n');
};
