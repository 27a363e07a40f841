// Bulk reprocess / resolve / purge: the selected open dead letters closed one atomic step each, at a
// steady rate, with a progress bar on a terminal and an early stop if reprocessed events come back.
import { coerceError, ValidationError } from '../core/errors.ts';
import type { StreamEntry } from '../ports/bus.ts';
import type { AuditAction } from './audit-record.ts';
import { closeEntry } from './close.ts';
import { viewOf } from './dead-letter-view.ts';
import { type Filter, matches, rangeBounds } from './filters.ts';
import { renderProgress } from './format/progress.ts';
import type { DlqContext } from './io.ts';
import type { DlqStream } from './names.ts';
import { createPacer } from './pacer.ts';
import { republish } from './republish.ts';
import { createReturnWatch } from './return-watch.ts';
import { scanEntries } from './scan.ts';

export type BulkRequest = {
  readonly dlq: DlqStream;
  readonly entries: readonly StreamEntry[];
  readonly action: AuditAction;
  readonly note: string;
  /** Per second; undefined runs as fast as the backend takes it. */
  readonly rate: number | undefined;
  /** Stop after this many reprocessed events came back to the DLQ; 0 never stops. */
  readonly maxFailures: number;
  readonly progress: boolean;
};

export type BulkSummary = {
  readonly selected: number;
  readonly done: number;
  readonly alreadyClosed: number;
  readonly failed: readonly { readonly id: string; readonly error: string }[];
  readonly returned: number;
  readonly stoppedEarly: boolean;
  readonly elapsedMs: number;
};

/** The open dead letters a filter selects, oldest first (the order they failed in). */
export const selectEntries = async (
  ctx: DlqContext,
  dlq: DlqStream,
  filter: Filter,
  limit: number | undefined,
): Promise<StreamEntry[]> => {
  const selected: StreamEntry[] = [];
  for await (const entry of scanEntries(ctx.bus, dlq.name, { ...rangeBounds(filter), pageSize: 1000 })) {
    if (!matches(viewOf(entry.id, entry.fields), filter)) continue;
    selected.push(entry);
    if (limit !== undefined && selected.length >= limit) break;
  }
  return selected;
};

const BATCH = 100;

export const runBulk = async (ctx: DlqContext, request: BulkRequest): Promise<BulkSummary> => {
  const started = ctx.clock.now();
  const pacer = createPacer(ctx.clock, request.rate, BATCH);
  const watch =
    request.action === 'reprocessed' && request.maxFailures > 0
      ? await createReturnWatch(ctx.bus, request.dlq.name)
      : undefined;
  const failed: { id: string; error: string }[] = [];
  let done = 0;
  let alreadyClosed = 0;
  let next = 0;
  let stoppedEarly = false;
  let drawn = 0;
  let drawnLength = 0;
  const total = request.entries.length;
  const draw = (force: boolean): void => {
    if (!request.progress || (!force && ctx.clock.now() - drawn < 100)) return;
    drawn = ctx.clock.now();
    const state = { done: next, total, elapsedMs: drawn - started, label: request.action.replace(/ed$/, '') };
    // Spaces, not an erase-line escape, wipe what a longer previous line left behind.
    const line = renderProgress(state, ctx.io.columns);
    ctx.io.err(`\r${line.padEnd(drawnLength)}`);
    drawnLength = line.length;
  };
  const closeOne = async (entry: StreamEntry): Promise<void> => {
    try {
      const republished =
        request.action === 'reprocessed' ? republish(entry.fields, entry.id, request.dlq, 0) : undefined;
      const result = await closeEntry(ctx.bus, {
        dlq: request.dlq,
        id: entry.id,
        fields: entry.fields,
        closing: {
          action: request.action,
          dlqId: entry.id,
          actor: ctx.actor,
          note: request.note,
          at: new Date(ctx.clock.now()).toISOString(),
        },
        republish: republished,
        open: true,
      });
      if (!result.applied) alreadyClosed += 1;
      else {
        done += 1;
        watch?.expect(entry.fields.event_id);
      }
    } catch (thrown) {
      const error = coerceError(thrown);
      if (!(error instanceof ValidationError)) throw error;
      failed.push({ id: entry.id, error: error.message });
    }
  };
  draw(true);
  while (next < total) {
    const batch = request.entries.slice(next, next + (await pacer.next(next, total - next)));
    await Promise.all(batch.map(closeOne));
    next += batch.length;
    draw(false);
    if (watch && (await watch.returned()) >= request.maxFailures) {
      stoppedEarly = true;
      break;
    }
  }
  draw(true);
  if (request.progress) ctx.io.err('\n');
  return {
    selected: total,
    done,
    alreadyClosed,
    failed,
    returned: watch ? await watch.returned(true) : 0,
    stoppedEarly,
    elapsedMs: ctx.clock.now() - started,
  };
};
