// How a bulk run is reported: a summary line (or JSON), failures listed, and the exit code.

import type { BulkSummary } from '../commands/bulk.ts';
import type { DlqContext } from '../io.ts';
import type { AuditAction } from '../model/audit-record.ts';
import { NO_DATABASE } from '../model/ledger-status.ts';
import type { DlqStream } from '../model/names.ts';
import { formatElapsed } from './age.ts';
import { oneLine } from './text.ts';

export const bulkJson = (dlq: DlqStream, action: AuditAction, s: BulkSummary) => ({
  dry_run: false,
  action,
  stream: dlq.name,
  selected: s.selected,
  done: s.done,
  already_closed: s.alreadyClosed,
  failed: s.failed.map((f) => ({ id: f.id, error: f.error })),
  returned_to_dlq: s.returned,
  stopped_early: s.stoppedEarly,
  elapsed_ms: Math.round(s.elapsedMs),
  halted: s.halted.checked
    ? {
        aggregates: s.halted.aggregates,
        waiting_behind: s.halted.waiting,
        released: s.halted.released,
      }
    : null,
});

/** The aggregates the closed entries halted, as a second line (empty when none). */
const describeHaltedTally = (action: AuditAction, s: BulkSummary): string => {
  const h = s.halted;
  if (!h.checked || h.aggregates === 0) return '';
  const what = `${h.aggregates} halted aggregate${h.aggregates === 1 ? '' : 's'} (${h.waiting} waiting event${h.waiting === 1 ? '' : 's'})`;
  return action === 'reprocessed'
    ? `\n${what} released in order once the consumer applied each reprocessed event`
    : `\nreleased ${what}: the waiting events follow in order`;
};

export const describeBulk = (dlq: DlqStream, action: AuditAction, s: BulkSummary): string => {
  const rate = s.elapsedMs > 0 ? `, ${Math.round((s.done * 1000) / s.elapsedMs)}/s` : '';
  const parts = [`${s.alreadyClosed} already closed`, `${s.failed.length} failed`];
  if (action === 'reprocessed') parts.push(`${s.returned} came back to the DLQ`);
  return `${action} ${s.done} of ${s.selected} dead letters in ${dlq.name} in ${formatElapsed(s.elapsedMs)}${rate}; ${parts.join(', ')}${describeHaltedTally(action, s)}`;
};

const MAX_LISTED = 20;

/** Prints the outcome and returns the exit code: 0, 1 after an early stop, 65 when entries had bad data. */
export const reportBulk = (
  ctx: DlqContext,
  dlq: DlqStream,
  action: AuditAction,
  summary: BulkSummary,
  options: { json: boolean; maxFailures: number },
): number => {
  if (options.json) ctx.io.out(`${JSON.stringify(bulkJson(dlq, action, summary), null, 2)}\n`);
  else ctx.io.out(`${describeBulk(dlq, action, summary)}\n`);
  if (!summary.halted.checked && summary.halted.released && summary.done > 0)
    ctx.io.err(
      `mm-dlq: events waiting behind them (if any) were not released: ${NO_DATABASE}; resolve each again with the database (--id) to release them\n`,
    );
  for (const f of summary.failed.slice(0, MAX_LISTED))
    ctx.io.err(`mm-dlq: skipped ${f.id}: ${oneLine(f.error)}\n`);
  if (summary.failed.length > MAX_LISTED)
    ctx.io.err(`mm-dlq: ... and ${summary.failed.length - MAX_LISTED} more\n`);
  if (summary.stoppedEarly) {
    ctx.io.err(
      `mm-dlq: stopped early: ${summary.returned} reprocessed events came back to ${dlq.name} (--max-failures ${options.maxFailures})\n`,
    );
    return 1;
  }
  return summary.failed.length > 0 ? 65 : 0;
};
