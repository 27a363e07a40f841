// The console's dead-letter reads, on mm-dlq's own model and commands (report, select, inspect), with
// the filters the pages offer on top: event type, stage, consumer group, age.
import { systemClock } from '../../core/clock.ts';
import { readStream } from '../../dlq/commands/report.ts';
import { createStyle } from '../../dlq/format/style.ts';
import { type DlqContext, memoryOutput } from '../../dlq/io.ts';
import { type DeadLetterView, viewOf } from '../../dlq/model/dead-letter-view.ts';
import type { Place } from '../../dlq/model/place.ts';
import { buildStreamReport, HOUR_MS, type StreamReport } from '../../dlq/model/report-model.ts';
import { scanEntries } from '../../dlq/model/scan.ts';
import type { Bus } from '../../ports/bus.ts';
import type { Store } from '../../ports/store.ts';

export type PageFilter = {
  readonly eventType?: string;
  readonly stage?: string;
  readonly group?: string;
  readonly fingerprint?: string;
  /** Only dead letters younger than this many hours. */
  readonly hours: number;
};

/** mm-dlq's context for one console request: the ports, output kept in memory, the operator's name. */
export const dlqContext = (
  ports: { bus: Bus; store: Store | undefined; place: Place },
  actor: string,
): DlqContext => ({
  bus: ports.bus,
  place: ports.place,
  store: ports.store,
  parking: ports.store?.parking,
  io: memoryOutput().io,
  style: createStyle(false),
  clock: systemClock,
  actor,
});

const keep = (view: DeadLetterView, filter: PageFilter): boolean =>
  (!filter.eventType || view.eventType === filter.eventType) &&
  (!filter.stage || view.stage === filter.stage) &&
  (!filter.group || view.consumerGroup === filter.group) &&
  (!filter.fingerprint || view.fingerprint.toLowerCase() === filter.fingerprint.toLowerCase());

/** `mm-dlq report` for one stream over the window, only counting what the filter keeps. */
export const filteredReport = async (
  ctx: DlqContext,
  dlq: Parameters<typeof readStream>[1],
  filter: PageFilter,
): Promise<StreamReport> => {
  const toMs = ctx.clock.now();
  const window = { fromMs: toMs - filter.hours * HOUR_MS, toMs, hours: filter.hours };
  const input = await readStream(ctx, dlq, window);
  return buildStreamReport(
    {
      ...input,
      openInWindow: input.openInWindow.filter((view) => keep(view, filter)),
      audits: input.audits.filter((record) => keep(viewOf(record.dlqId, record.entry), filter)),
    },
    window,
  );
};

/** Open dead letters the filter keeps, newest first, at most `limit`. */
export const openDeadLetters = async (
  ctx: DlqContext,
  stream: string,
  filter: PageFilter,
  limit: number,
): Promise<DeadLetterView[]> => {
  const views: DeadLetterView[] = [];
  const start = `${Math.max(0, ctx.clock.now() - filter.hours * HOUR_MS)}-0`;
  for await (const entry of scanEntries(ctx.bus, stream, { start, reverse: true, pageSize: 500 })) {
    const view = viewOf(entry.id, entry.fields);
    if (keep(view, filter)) views.push(view);
    if (views.length >= limit) break;
  }
  return views;
};
