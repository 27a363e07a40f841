// The text form of `mm-dlq report`: headline numbers, breakdown tables and an hourly bar chart.

import { waitingPhrase } from '../model/halted.ts';
import type { Report, StreamReport } from '../model/report-model.ts';
import { formatAge, formatTime } from './age.ts';
import { renderBars } from './bars.ts';
import type { Style } from './style.ts';
import { renderTable } from './table.ts';

type RenderOptions = { readonly width: number; readonly style: Style };

const indentBlock = (text: string): string => text.replace(/^/gm, '  ');

const time = (iso: string): string => formatTime(Date.parse(iso));

const hourLabel = (iso: string): string => `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;

const headline = (stream: StreamReport): string[] => {
  const c = stream.closed;
  const open = stream.open;
  const oldest =
    open.oldest_age_seconds === null
      ? ''
      : `, oldest ${formatAge(open.oldest_age_seconds * 1000)} (${open.oldest_id})`;
  return [
    `  new dead letters  ${stream.new}`,
    `  closed            ${c.total} (reprocessed ${c.reprocessed}, resolved ${c.resolved}, purged ${c.purged})` +
      (stream.forced_republishes > 0 ? `; ${stream.forced_republishes} forced re-publishes` : ''),
    `  open backlog      ${open.count}${oldest}`,
    `  halted            ${haltedHeadline(stream.halted)}`,
  ];
};

const haltedHeadline = (halted: StreamReport['halted']): string => {
  if (!halted.checked) return `not checked (${halted.reason})`;
  if (halted.aggregates === 0) return 'none: no events wait behind an open dead letter';
  const behind = `${halted.dead_letters} dead letter${halted.dead_letters === 1 ? '' : 's'}`;
  return `${halted.aggregates} aggregate${halted.aggregates === 1 ? '' : 's'}: ${waitingPhrase(halted.waiting_behind, behind)}`;
};

const haltedTable = (halted: StreamReport['halted'], width: number): string | undefined => {
  if (!halted.checked || halted.largest.length === 0) return undefined;
  const table = renderTable(
    [
      { header: 'DEAD LETTER' },
      { header: 'GROUP', shrink: 2, min: 12 },
      { header: 'AGGREGATE', shrink: 1, min: 16 },
      { header: 'WAITING', align: 'right' },
      { header: 'HALTED SINCE' },
    ],
    halted.largest.map((r) => [r.id, r.group, r.aggregate_key, String(r.waiting_behind), time(r.since)]),
    { width },
  );
  const more = halted.aggregates - halted.largest.length;
  return more > 0 ? `${table}\n... and ${more} more halted aggregate${more === 1 ? '' : 's'}` : table;
};

export const renderStreamReport = (report: Report, stream: StreamReport, options: RenderOptions): string => {
  const { style, width } = options;
  const title = `${style.bold(`DLQ report for ${stream.stream}`)}: last ${report.hours} h (${time(report.from)} to ${time(report.to)})`;
  if (!stream.exists) return `${title}\n  ${stream.stream} does not exist: no dead letters`;
  if (stream.new === 0 && stream.closed.total === 0 && stream.open.count === 0)
    return `${title}\n  no dead letters in the last ${report.hours} h; none open`;
  const inner = Math.max(40, width - 2);
  const out = [title, ...headline(stream)];
  if (stream.new > 0) {
    out.push('', style.bold('By event type'));
    out.push(
      indentBlock(
        renderTable(
          [
            { header: 'EVENT TYPE', shrink: 1, min: 12 },
            { header: 'NEW', align: 'right' },
            { header: 'STILL OPEN', align: 'right' },
          ],
          stream.by_event_type.map((r) => [r.event_type, String(r.count), String(r.open)]),
          { width: inner },
        ),
      ),
    );
    out.push('', style.bold('By stage/group'));
    out.push(
      indentBlock(
        renderTable(
          [
            { header: 'STAGE/GROUP', shrink: 1, min: 12 },
            { header: 'NEW', align: 'right' },
            { header: 'STILL OPEN', align: 'right' },
          ],
          stream.by_stage.map((r) => [
            r.consumer_group ? `${r.stage}/${r.consumer_group}` : r.stage,
            String(r.count),
            String(r.open),
          ]),
          { width: inner },
        ),
      ),
    );
    out.push('', style.bold('By error fingerprint'));
    out.push(
      indentBlock(
        renderTable(
          [
            { header: 'FINGERPRINT' },
            { header: 'COUNT', align: 'right' },
            { header: 'OPEN', align: 'right' },
            { header: 'FIRST SEEN' },
            { header: 'LAST SEEN' },
            { header: 'SAMPLE ID' },
            { header: 'ERROR', shrink: 1, min: 20 },
          ],
          stream.by_fingerprint.map((r) => [
            r.fingerprint,
            String(r.count),
            String(r.open),
            time(r.first_seen),
            time(r.last_seen),
            r.sample_id,
            r.error_message ? `${r.error_class}: ${r.error_message}` : r.error_class,
          ]),
          { width: inner },
        ),
      ),
    );
  }
  const halted = haltedTable(stream.halted, inner);
  if (halted) {
    out.push(
      '',
      style.bold('Halted aggregates (most events waiting first; resolve or reprocess releases them)'),
    );
    out.push(indentBlock(halted));
  }
  out.push('', style.bold('New dead letters per hour (UTC)'));
  out.push(
    indentBlock(
      renderBars(
        stream.hourly.map((h) => ({ label: hourLabel(h.hour), value: h.count })),
        { width: inner, paint: style.cyan },
      ),
    ),
  );
  return out.join('\n');
};

export const renderReport = (report: Report, options: RenderOptions): string => {
  if (report.streams.length === 0) return 'no dead-letter streams (*.dlq) found: no dead letters';
  const sections = report.streams.map((stream) => renderStreamReport(report, stream, options));
  if (report.streams.length > 1) {
    const t = report.totals;
    sections.push(
      `${options.style.bold('All dead-letter streams')}: ${t.new} new, ${t.closed} closed, ${t.open} open`,
    );
  }
  return sections.join('\n\n');
};
