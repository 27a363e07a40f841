// `mm-dlq reprocess` and `mm-dlq resolve`: one entry by --id, or many by --all or filters.

import { reportBulk } from '../format/bulk-report.ts';
import type { DlqContext } from '../io.ts';
import { describeFilter } from '../model/filters.ts';
import { streamExists } from '../model/scan.ts';
import { type CloseOptions, filterAt, type ReprocessOptions } from '../options.ts';
import { runBulk, selectEntries } from './bulk.ts';
import { closeOne, describeOneOutcome, oneOutcomeJson } from './close-one.ts';
import { dryRunJson, dryRunReprocess, renderDryRun } from './dry-run.ts';

const runOne = async (
  ctx: DlqContext,
  options: CloseOptions,
  action: 'reprocessed' | 'resolved',
  force: boolean,
): Promise<number> => {
  if (options.target.kind !== 'one') return 1;
  const outcome = await closeOne(ctx, {
    dlq: options.dlq,
    id: options.target.id,
    action,
    note: options.note,
    force,
    maxEventBytes: 'maxEventBytes' in options ? (options as ReprocessOptions).maxEventBytes : undefined,
  });
  if (options.json) ctx.io.out(`${JSON.stringify(oneOutcomeJson(outcome), null, 2)}\n`);
  else ctx.io.out(`${describeOneOutcome(outcome, options.dlq.audit)}\n`);
  return 0;
};

/** Nothing selected: say why (no stream, empty, or no match) and succeed. */
const nothingSelected = async (
  ctx: DlqContext,
  options: CloseOptions,
  filterText: string,
  verb: string,
): Promise<number> => {
  const open = await ctx.bus.len(options.dlq.name);
  let message: string;
  if (open > 0) message = `no open dead letters in ${options.dlq.name} match ${filterText}; nothing ${verb}`;
  else if (await streamExists(ctx.bus, options.dlq.name))
    message = `${options.dlq.name} is empty: nothing ${verb}`;
  else message = `${options.dlq.name} does not exist: nothing ${verb}`;
  if (options.json)
    ctx.io.out(`${JSON.stringify({ stream: options.dlq.name, selected: 0, done: 0, message })}\n`);
  else ctx.io.out(`${message}\n`);
  return 0;
};

export const runReprocess = async (ctx: DlqContext, options: ReprocessOptions): Promise<number> => {
  if (options.target.kind === 'one') return runOne(ctx, options, 'reprocessed', options.force);
  const filter = filterAt(options.target.filter, ctx.clock.now());
  const entries = await selectEntries(ctx, options.dlq, filter, options.target.limit);
  if (entries.length === 0)
    return nothingSelected(ctx, options, describeFilter(filter) || 'the selection', 'reprocessed');
  if (options.dryRun) {
    const run = await dryRunReprocess(ctx, options.dlq, entries);
    if (options.json) ctx.io.out(`${JSON.stringify(dryRunJson(options.dlq, run), null, 2)}\n`);
    else ctx.io.out(`${renderDryRun(options.dlq, run, ctx.io.columns)}\n`);
    return 0;
  }
  const summary = await runBulk(ctx, {
    dlq: options.dlq,
    entries,
    action: 'reprocessed',
    note: options.note,
    rate: options.rate,
    maxFailures: options.maxFailures,
    progress: ctx.io.errIsTTY && !options.json,
    maxEventBytes: options.maxEventBytes,
  });
  return reportBulk(ctx, options.dlq, 'reprocessed', summary, {
    json: options.json,
    maxFailures: options.maxFailures,
  });
};

export const runResolve = async (ctx: DlqContext, options: CloseOptions): Promise<number> => {
  if (options.target.kind === 'one') return runOne(ctx, options, 'resolved', false);
  const filter = filterAt(options.target.filter, ctx.clock.now());
  const entries = await selectEntries(ctx, options.dlq, filter, options.target.limit);
  if (entries.length === 0)
    return nothingSelected(ctx, options, describeFilter(filter) || 'the selection', 'resolved');
  if (options.dryRun) {
    const message = `dry run: ${entries.length} dead letters in ${options.dlq.name} would be resolved; nothing was changed`;
    if (options.json)
      ctx.io.out(
        `${JSON.stringify({ dry_run: true, action: 'resolved', stream: options.dlq.name, selected: entries.length })}\n`,
      );
    else ctx.io.out(`${message}\n`);
    return 0;
  }
  const summary = await runBulk(ctx, {
    dlq: options.dlq,
    entries,
    action: 'resolved',
    note: options.note,
    rate: undefined,
    maxFailures: 0,
    progress: ctx.io.errIsTTY && !options.json,
  });
  return reportBulk(ctx, options.dlq, 'resolved', summary, { json: options.json, maxFailures: 0 });
};
