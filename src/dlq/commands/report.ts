// `mm-dlq report`: reads one or every `*.dlq` stream, its audit and what its open dead letters halt,
// then renders the report model.
import { streamIdTime } from '../../core/ids.ts';
import { renderReport } from '../format/report-render.ts';
import type { DlqContext } from '../io.ts';
import { type AuditRecord, parseAuditRecord } from '../model/audit-record.ts';
import { type DeadLetterView, viewOf } from '../model/dead-letter-view.ts';
import { haltedBehindEach } from '../model/halted.ts';
import { DLQ_SUFFIX, type DlqStream, dlqStream } from '../model/names.ts';
import { requireAnyDlqStream, requireDlqStream } from '../model/place.ts';
import {
  buildReport,
  buildStreamReport,
  type HaltedInput,
  HOUR_MS,
  type StreamInput,
  type Window,
} from '../model/report-model.ts';
import { scanEntries, streamExists } from '../model/scan.ts';
import type { ReportOptions } from '../options.ts';

/** Every open dead letter, not only the window's: an old one may hold back the most. */
const readHalted = async (ctx: DlqContext, dlq: DlqStream): Promise<HaltedInput | undefined> => {
  if (!ctx.parking) return undefined;
  const open: { id: string; eventId: string }[] = [];
  for await (const entry of scanEntries(ctx.bus, dlq.name, { pageSize: 1000 }))
    open.push({ id: entry.id, eventId: entry.fields.event_id ?? '' });
  const found = await haltedBehindEach(
    ctx.parking,
    open.map((entry) => entry.eventId),
  );
  return {
    checked: true,
    entries: open.map((entry) => {
      const halted = found.get(entry.eventId);
      return { ...entry, groups: halted?.checked ? halted.groups : [] };
    }),
  };
};

const readStream = async (ctx: DlqContext, dlq: DlqStream, window: Window): Promise<StreamInput> => {
  const start = `${window.fromMs}-0`;
  const [openCount, oldest] = await Promise.all([
    ctx.bus.len(dlq.name),
    ctx.bus.range(dlq.name, { count: 1 }),
  ]);
  const openInWindow: DeadLetterView[] = [];
  for await (const entry of scanEntries(ctx.bus, dlq.name, { start, pageSize: 1000 })) {
    if (streamIdTime(entry.id) <= window.toMs) openInWindow.push(viewOf(entry.id, entry.fields));
  }
  const audits: AuditRecord[] = [];
  for await (const entry of scanEntries(ctx.bus, dlq.audit, { start, pageSize: 1000 })) {
    const record = parseAuditRecord(entry);
    if (record) audits.push(record);
  }
  const exists = openCount > 0 || audits.length > 0 || (await streamExists(ctx.bus, dlq.name));
  const halted = await readHalted(ctx, dlq);
  return { stream: dlq.name, exists, openCount, oldestOpenId: oldest[0]?.id, openInWindow, audits, halted };
};

/** Every `*.dlq` stream, skipping names that are not `<topic>.dlq`. */
const allDlqStreams = async (ctx: DlqContext): Promise<DlqStream[]> => {
  const names = await ctx.bus.streamsEndingWith(DLQ_SUFFIX);
  return names.flatMap((name) => {
    try {
      return [dlqStream(name)];
    } catch {
      return [];
    }
  });
};

export const runReport = async (ctx: DlqContext, options: ReportOptions): Promise<number> => {
  const toMs = ctx.clock.now();
  const window: Window = { fromMs: toMs - options.hours * HOUR_MS, toMs, hours: options.hours };
  if (options.dlq) await requireDlqStream(ctx.bus, ctx.place, options.dlq);
  else await requireAnyDlqStream(ctx.bus, ctx.place);
  const streams = options.dlq ? [options.dlq] : await allDlqStreams(ctx);
  const inputs: StreamInput[] = [];
  for (const dlq of streams) inputs.push(await readStream(ctx, dlq, window));
  const report = buildReport(
    inputs.map((input) => buildStreamReport(input, window)),
    window,
  );
  if (options.json) ctx.io.out(`${JSON.stringify(report, null, 2)}\n`);
  else ctx.io.out(`${renderReport(report, { width: ctx.io.columns, style: ctx.style })}\n`);
  return 0;
};
