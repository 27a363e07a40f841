// `mm-dlq list`: the newest open dead letters as a table (or a JSON array), each with the number of
// events parked behind it when the database is at hand.

import { formatAge } from '../format/age.ts';
import { renderTable } from '../format/table.ts';
import type { DlqContext } from '../io.ts';
import { type DeadLetterView, errorLine, stageLabel, viewJson, viewOf } from '../model/dead-letter-view.ts';
import { describeFilter, hasFilter, matches, rangeBounds } from '../model/filters.ts';
import { type Halted, haltedBehindEach, haltedJson, waitingPhrase } from '../model/halted.ts';
import { NO_DATABASE } from '../model/ledger-status.ts';
import { requireDlqStream } from '../model/place.ts';
import { scanPages } from '../model/scan.ts';
import { filterAt, type ListOptions } from '../options.ts';

export const listColumns = [
  { header: 'ID' },
  { header: 'AGE', align: 'right' },
  { header: 'EVENT TYPE', shrink: 3, min: 10 },
  { header: 'EVENT ID' },
  { header: 'STAGE/GROUP', shrink: 2, min: 12 },
  { header: 'ATTEMPTS', align: 'right' },
  { header: 'ERROR', shrink: 1, min: 16 },
] as const;

const WAITING_COLUMN = { header: 'WAITING', align: 'right' } as const;

export const listRows = (views: readonly DeadLetterView[], nowMs: number): string[][] =>
  views.map((view) => [
    view.id,
    formatAge(nowMs - view.createdMs),
    view.eventType || '?',
    view.eventId || '?',
    stageLabel(view),
    String(view.attempts),
    errorLine(view),
  ]);

/** Halted per event id; the WAITING column (before ERROR) only when the parking store was read. */
export const renderList = (
  views: readonly DeadLetterView[],
  nowMs: number,
  width: number,
  header?: (text: string) => string,
  halted?: ReadonlyMap<string, Halted>,
): string => {
  const options = { width, ...(header ? { header } : {}) };
  if (!halted) return renderTable(listColumns, listRows(views, nowMs), options);
  const columns = [...listColumns.slice(0, -1), WAITING_COLUMN, ...listColumns.slice(-1)];
  const rows = listRows(views, nowMs).map((row, i) => {
    const found = halted.get(views[i]?.eventId ?? '');
    return [...row.slice(0, -1), found?.checked ? String(found.waiting) : '?', ...row.slice(-1)];
  });
  return renderTable(columns, rows, options);
};

const waitingJson = (halted: Halted | undefined) => ({
  waiting_behind: halted?.checked ? halted.waiting : null,
  halted: halted ? haltedJson(halted) : null,
});

export const runList = async (ctx: DlqContext, options: ListOptions): Promise<number> => {
  const { dlq } = options;
  await requireDlqStream(ctx.bus, ctx.place, dlq);
  const now = ctx.clock.now();
  const filter = filterAt(options.filter, now);
  const views: DeadLetterView[] = [];
  const pageSize = Math.min(1000, Math.max(options.count, 100));
  scan: for await (const page of scanPages(ctx.bus, dlq.name, {
    ...rangeBounds(filter),
    reverse: true,
    pageSize,
  })) {
    for (const entry of page) {
      const view = viewOf(entry.id, entry.fields);
      if (!matches(view, filter)) continue;
      views.push(view);
      if (views.length >= options.count) break scan;
    }
  }
  const halted = ctx.parking
    ? await haltedBehindEach(
        ctx.parking,
        views.map((view) => view.eventId),
      )
    : undefined;
  const unchecked = halted && [...halted.values()].find((h) => !h.checked);
  if (!halted && views.some((view) => view.stage === 'consumer'))
    ctx.io.err(`mm-dlq: events waiting behind each dead letter not checked: ${NO_DATABASE}\n`);
  else if (unchecked && !unchecked.checked)
    ctx.io.err(`mm-dlq: events waiting behind each dead letter not checked: ${unchecked.reason}\n`);
  if (options.json) {
    ctx.io.out(
      `${JSON.stringify(
        views.map((view) => ({ ...viewJson(view, now), ...waitingJson(halted?.get(view.eventId)) })),
        null,
        2,
      )}\n`,
    );
    return 0;
  }
  const open = await ctx.bus.len(dlq.name);
  if (views.length === 0) {
    if (open > 0)
      ctx.io.out(`no open dead letters in ${dlq.name} match ${describeFilter(filter)} (${open} open)\n`);
    else ctx.io.out(`${dlq.name}: 0 open dead letters\n`);
    return 0;
  }
  const which = hasFilter(filter)
    ? `the newest ${views.length} matching ${describeFilter(filter)}`
    : `the newest ${views.length}`;
  ctx.io.out(`${dlq.name}: ${open} open dead letter${open === 1 ? '' : 's'}, ${which}\n`);
  ctx.io.out(`${renderList(views, now, ctx.io.columns, ctx.style.bold, halted)}\n`);
  if (halted && !unchecked) {
    const waiting = [...halted.values()].reduce((sum, h) => sum + (h.checked ? h.waiting : 0), 0);
    if (waiting > 0)
      ctx.io.out(
        `${waitingPhrase(waiting, 'these dead letters')}: resolve or reprocess releases them in order\n`,
      );
  }
  return 0;
};
