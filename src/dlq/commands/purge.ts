// `mm-dlq purge --older-than 30d`: closes old dead letters as `purged`; they stay in the audit.
import { UsageError } from '../../core/errors.ts';
import { reportBulk } from '../format/bulk-report.ts';
import type { DlqContext } from '../io.ts';
import { describeFilter } from '../model/filters.ts';
import { requireDlqStream } from '../model/place.ts';
import { filterAt, type PurgeOptions } from '../options.ts';
import { runBulk, selectEntries } from './bulk.ts';

export const runPurge = async (ctx: DlqContext, options: PurgeOptions): Promise<number> => {
  // Refuse before touching anything: an unattended purge must say --yes.
  if (!options.yes && !options.dryRun && !ctx.confirm)
    throw new UsageError('purge needs --yes when not run on a terminal (or --dry-run to count first)');
  if (options.target.kind !== 'bulk') return 1;
  await requireDlqStream(ctx.bus, ctx.place, options.dlq);
  const filter = filterAt(options.target.filter, ctx.clock.now());
  const entries = await selectEntries(ctx, options.dlq, filter, options.target.limit);
  const { dlq } = options;
  if (entries.length === 0) {
    const message = `no open dead letters in ${dlq.name} match ${describeFilter(filter)}; nothing purged`;
    ctx.io.out(
      options.json
        ? `${JSON.stringify({ stream: dlq.name, selected: 0, done: 0, message })}\n`
        : `${message}\n`,
    );
    return 0;
  }
  if (options.dryRun) {
    ctx.io.out(
      options.json
        ? `${JSON.stringify({ dry_run: true, action: 'purged', stream: dlq.name, selected: entries.length })}\n`
        : `dry run: ${entries.length} dead letters in ${dlq.name} would be purged (${describeFilter(filter)}); nothing was changed\n`,
    );
    return 0;
  }
  if (!options.yes && ctx.confirm) {
    const question = `Purge ${entries.length} dead letters from ${dlq.name} (${describeFilter(filter)})? They stay in ${dlq.audit} as purged. [y/N] `;
    if (!(await ctx.confirm(question))) {
      ctx.io.out('cancelled: nothing purged\n');
      return 0;
    }
  }
  const summary = await runBulk(ctx, {
    dlq,
    entries,
    action: 'purged',
    note: options.note,
    rate: undefined,
    maxFailures: 0,
    progress: ctx.io.errIsTTY && !options.json,
  });
  return reportBulk(ctx, dlq, 'purged', summary, { json: options.json, maxFailures: 0 });
};
