// `mm-dlq reprocess` and `mm-dlq resolve`: one entry by --id, or many by --all or filters.

import { UsageError } from '../../core/errors.ts';
import { reportBulk } from '../format/bulk-report.ts';
import type { DlqContext } from '../io.ts';
import { describeFilter } from '../model/filters.ts';
import { requireDlqStream } from '../model/place.ts';
import { type CloseOptions, filterAt, type ReprocessOptions, type ResolveOptions } from '../options.ts';
import { runBulk, selectEntries } from './bulk.ts';
import { closeOne, describeOneOutcome, notReleasedWarning, oneOutcomeJson } from './close-one.ts';
import { dryRunJson, dryRunReprocess, renderDryRun } from './dry-run.ts';
import { dryRunOne, dryRunOneJson, renderDryRunOne } from './dry-run-one.ts';

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
  const warning = notReleasedWarning(outcome.halted, outcome.released);
  if (warning) ctx.io.err(warning);
  return 0;
};

/** Nothing selected: say why (empty, or no match) and succeed; a missing stream failed before. */
const nothingSelected = async (
  ctx: DlqContext,
  options: CloseOptions,
  filterText: string,
  verb: string,
): Promise<number> => {
  const open = await ctx.bus.len(options.dlq.name);
  let message: string;
  if (open > 0) message = `no open dead letters in ${options.dlq.name} match ${filterText}; nothing ${verb}`;
  else message = `${options.dlq.name}: 0 open dead letters, nothing ${verb}`;
  if (options.json)
    ctx.io.out(`${JSON.stringify({ stream: options.dlq.name, selected: 0, done: 0, message })}\n`);
  else ctx.io.out(`${message}\n`);
  return 0;
};

export const runReprocess = async (ctx: DlqContext, options: ReprocessOptions): Promise<number> => {
  await requireDlqStream(ctx.bus, ctx.place, options.dlq);
  if (options.target.kind === 'one' && options.dryRun) {
    const run = await dryRunOne(ctx, { dlq: options.dlq, id: options.target.id, force: options.force });
    ctx.io.out(
      options.json ? `${JSON.stringify(dryRunOneJson(run), null, 2)}\n` : `${renderDryRunOne(run)}\n`,
    );
    return 0;
  }
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

/** `resolve --all` closes everything without republishing: like purge, it asks or needs --yes. */
const confirmAll = async (ctx: DlqContext, options: ResolveOptions, count: number): Promise<boolean> => {
  if (!options.all || options.yes || options.dryRun) return true;
  if (!ctx.confirm)
    throw new UsageError(
      'resolve --all needs --yes when not run on a terminal (or --dry-run to count first)',
    );
  return ctx.confirm(
    `Resolve all ${count} open dead letters in ${options.dlq.name} without republishing them? They stay in ${options.dlq.audit} as resolved. [y/N] `,
  );
};

export const runResolve = async (ctx: DlqContext, options: ResolveOptions): Promise<number> => {
  // Refused before touching anything, as purge does.
  if (options.all && !options.yes && !options.dryRun && !ctx.confirm) await confirmAll(ctx, options, 0);
  await requireDlqStream(ctx.bus, ctx.place, options.dlq);
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
  if (!(await confirmAll(ctx, options, entries.length))) {
    ctx.io.out('cancelled: nothing resolved\n');
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
