// Bulk reprocess / resolve / purge: the selected open dead letters closed one atomic step each, at a
// steady rate, with a progress bar on a terminal and an early stop if reprocessed events come back.
// Resolve and purge release the aggregates each closed entry halted; reprocess leaves that to the
// consumer, once it applied the reprocessed event.
import { coerceError, TransientError, ValidationError } from '../../core/errors.ts';
import type { StreamEntry } from '../../ports/bus.ts';
import { createProgressLine } from '../format/progress-line.ts';
import type { DlqContext } from '../io.ts';
import type { AuditAction } from '../model/audit-record.ts';
import { viewOf } from '../model/dead-letter-view.ts';
import { type Filter, matches, rangeBounds } from '../model/filters.ts';
import { type Halted, haltedBehindOrUnchecked } from '../model/halted.ts';
import type { DlqStream } from '../model/names.ts';
import { createPacer } from '../model/pacer.ts';
import { assertPublishable, relayHold, releaseRelayHold, withFullBody } from '../model/relay-hold.ts';
import { releaseHalted } from '../model/release.ts';
import { currentPartitionsOf, republish } from '../model/republish.ts';
import { createReturnWatch } from '../model/return-watch.ts';
import { scanEntries } from '../model/scan.ts';
import { closeEntry } from './close.ts';

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
  /** Reprocess: the relay's limit, for relay-stage dead letters (default 1 MiB). */
  readonly maxEventBytes?: number | undefined;
};

export type BulkSummary = {
  readonly selected: number;
  readonly done: number;
  readonly alreadyClosed: number;
  readonly failed: readonly { readonly id: string; readonly error: string }[];
  readonly returned: number;
  readonly stoppedEarly: boolean;
  readonly elapsedMs: number;
  /** Aggregates the closed entries halted: released now (resolve, purge) or once applied (reprocess). */
  readonly halted: HaltedTally;
};

export type HaltedTally = {
  /** False when the parking store could not be read (no database): nothing was released. */
  readonly checked: boolean;
  readonly aggregates: number;
  readonly waiting: number;
  readonly released: boolean;
};

const tallyHalted = (tally: HaltedTally, halted: Halted): HaltedTally =>
  halted.checked
    ? {
        ...tally,
        aggregates: tally.aggregates + halted.groups.length,
        waiting: tally.waiting + halted.waiting,
      }
    : { ...tally, checked: false };

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

type Closed = { readonly done: Halted } | 'already_closed' | { readonly failed: string };

/** Closes one selected entry; an entry whose own data is bad is reported, not fatal. */
const closeSelected = async (ctx: DlqContext, request: BulkRequest, entry: StreamEntry): Promise<Closed> => {
  try {
    const fields = withFullBody(entry.fields, await relayHold(ctx, request.dlq, entry.id, entry.fields));
    // The count as recorded now: a bulk run may outlast a switch of the partition count.
    const republished =
      request.action === 'reprocessed'
        ? republish(
            fields,
            entry.id,
            request.dlq,
            0,
            await currentPartitionsOf(ctx, entry.fields, request.dlq),
          )
        : undefined;
    if (republished) assertPublishable(fields, republished, request.maxEventBytes ?? 1_048_576);
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
    await releaseRelayHold(ctx, request.dlq, entry.id, entry.fields);
    if (!result.applied) return 'already_closed';
    const eventId = entry.fields.event_id ?? '';
    return {
      done:
        request.action === 'reprocessed'
          ? await haltedBehindOrUnchecked(ctx.parking, eventId)
          : await releaseHalted(ctx.parking, eventId, entry.id),
    };
  } catch (thrown) {
    const error = coerceError(thrown);
    if (!(error instanceof ValidationError)) throw error;
    return { failed: error.message };
  }
};

export const runBulk = async (ctx: DlqContext, request: BulkRequest): Promise<BulkSummary> => {
  const started = ctx.clock.now();
  const total = request.entries.length;
  const pacer = createPacer(ctx.clock, request.rate, BATCH);
  const progress = request.progress
    ? createProgressLine(ctx, request.action.replace(/ed$/, ''), total)
    : undefined;
  const watch =
    request.action === 'reprocessed' && request.maxFailures > 0
      ? await createReturnWatch(ctx.bus, request.dlq.name)
      : undefined;
  const failed: { id: string; error: string }[] = [];
  let done = 0;
  let alreadyClosed = 0;
  let next = 0;
  let stoppedEarly = false;
  let halted: HaltedTally = {
    checked: true,
    aggregates: 0,
    waiting: 0,
    released: request.action !== 'reprocessed',
  };
  try {
    while (next < total) {
      const batch = request.entries.slice(next, next + (await pacer.next(next, total - next)));
      const outcomes = await Promise.all(batch.map((entry) => closeSelected(ctx, request, entry)));
      outcomes.forEach((outcome, i) => {
        const entry = batch[i] as StreamEntry;
        if (outcome === 'already_closed') alreadyClosed += 1;
        else if ('failed' in outcome) failed.push({ id: entry.id, error: outcome.failed });
        else {
          done += 1;
          halted = tallyHalted(halted, outcome.done);
          watch?.expect(entry.fields.event_id);
        }
      });
      next += batch.length;
      progress?.draw(next);
      if (watch && (await watch.returned()) >= request.maxFailures) {
        stoppedEarly = true;
        break;
      }
    }
  } catch (thrown) {
    const error = coerceError(thrown);
    // Say how far it got; a rerun skips what is already closed.
    if (error instanceof TransientError)
      throw new TransientError(
        `${error.message} (after ${done} of ${total} ${request.action}; rerun to continue)`,
        {
          cause: error,
          dependency: error.dependency,
        },
      );
    throw error;
  } finally {
    progress?.end(next);
  }
  return {
    selected: total,
    done,
    alreadyClosed,
    failed,
    returned: watch ? await watch.returned(true) : 0,
    stoppedEarly,
    elapsedMs: ctx.clock.now() - started,
    halted,
  };
};
