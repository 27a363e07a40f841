// `reprocess --dry-run`: per origin stream and consumer group, how many selected events would be
// applied and how many the ledger says that group has already applied (those would be skipped).
import { parseDeadLetter } from '../../core/dead-letter.ts';
import { isUuid } from '../../core/ids.ts';
import type { StreamEntry } from '../../ports/bus.ts';
import { renderTable } from '../format/table.ts';
import type { DlqContext } from '../io.ts';
import { NO_DATABASE, streamGroups } from '../model/ledger-status.ts';
import type { DlqStream } from '../model/names.ts';

export type DryRunRow = {
  readonly originStream: string;
  /** Undefined when the origin stream has no consumer group yet. */
  readonly group: string | undefined;
  readonly wouldApply: number;
  /** Null when the ledger could not be checked. */
  readonly alreadyApplied: number | null;
};

export type DryRun = {
  readonly selected: number;
  readonly rows: readonly DryRunRow[];
  readonly ledgerChecked: boolean;
};

const CHUNK = 1000;

const eventIdOf = (entry: StreamEntry): string => (entry.fields.event_id ?? '').toLowerCase();

export const dryRunReprocess = async (
  ctx: DlqContext,
  dlq: DlqStream,
  entries: readonly StreamEntry[],
): Promise<DryRun> => {
  const byOrigin = new Map<string, StreamEntry[]>();
  for (const entry of entries) {
    const origin = parseDeadLetter(entry.fields).originStream || dlq.topic;
    byOrigin.set(origin, [...(byOrigin.get(origin) ?? []), entry]);
  }
  const rows: DryRunRow[] = [];
  for (const [origin, group] of byOrigin) {
    const named = group.map((entry) => entry.fields.dlq_consumer_group);
    const groups = await streamGroups(ctx.bus, origin, named);
    if (groups.length === 0)
      rows.push({ originStream: origin, group: undefined, wouldApply: group.length, alreadyApplied: null });
    for (const name of groups.sort()) {
      if (!ctx.store) {
        rows.push({ originStream: origin, group: name, wouldApply: group.length, alreadyApplied: null });
        continue;
      }
      const ids = [...new Set(group.map(eventIdOf).filter(isUuid))];
      const recorded = new Set<string>();
      for (let i = 0; i < ids.length; i += CHUNK)
        for (const id of await ctx.store.ledger.recorded(name, ids.slice(i, i + CHUNK)))
          recorded.add(id.toLowerCase());
      const already = group.filter((entry) => recorded.has(eventIdOf(entry))).length;
      rows.push({
        originStream: origin,
        group: name,
        wouldApply: group.length - already,
        alreadyApplied: already,
      });
    }
  }
  return { selected: entries.length, rows, ledgerChecked: ctx.store !== undefined };
};

export const dryRunJson = (dlq: DlqStream, run: DryRun) => ({
  dry_run: true,
  action: 'reprocessed',
  stream: dlq.name,
  selected: run.selected,
  ledger_checked: run.ledgerChecked,
  groups: run.rows.map((row) => ({
    origin_stream: row.originStream,
    group: row.group ?? null,
    would_apply: row.wouldApply,
    already_applied: row.alreadyApplied,
  })),
});

export const renderDryRun = (dlq: DlqStream, run: DryRun, width: number): string => {
  const lines = [
    `dry run: ${run.selected} dead letter${run.selected === 1 ? '' : 's'} in ${dlq.name} would be reprocessed`,
  ];
  if (run.rows.length > 0) {
    const table = renderTable(
      [
        { header: 'ORIGIN' },
        { header: 'GROUP' },
        { header: 'WOULD APPLY', align: 'right' },
        { header: 'ALREADY APPLIED', align: 'right' },
      ],
      run.rows.map((row) => [
        row.originStream,
        row.group ?? '(no consumer group yet)',
        String(row.wouldApply),
        row.alreadyApplied === null ? '?' : String(row.alreadyApplied),
      ]),
      { width },
    );
    lines.push(table.replace(/^/gm, '  '));
  }
  if (!run.ledgerChecked) lines.push(`ledger not checked: ${NO_DATABASE}`);
  lines.push('nothing was changed');
  return lines.join('\n');
};
