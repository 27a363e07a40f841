// `mm-dlq list`: the newest open dead letters as a table (or a JSON array).

import { formatAge } from '../format/age.ts';
import { renderTable } from '../format/table.ts';
import type { DlqContext } from '../io.ts';
import { type DeadLetterView, errorLine, stageLabel, viewJson, viewOf } from '../model/dead-letter-view.ts';
import { describeFilter, hasFilter, matches, rangeBounds } from '../model/filters.ts';
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

export const renderList = (
  views: readonly DeadLetterView[],
  nowMs: number,
  width: number,
  header?: (text: string) => string,
): string => renderTable(listColumns, listRows(views, nowMs), { width, ...(header ? { header } : {}) });

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
  if (options.json) {
    ctx.io.out(
      `${JSON.stringify(
        views.map((view) => viewJson(view, now)),
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
  ctx.io.out(`${renderList(views, now, ctx.io.columns, ctx.style.bold)}\n`);
  return 0;
};
