// The numbers of `mm-dlq report`, computed purely from what was read: open entries, audit records.
import { compareStreamIds, streamIdTime } from '../../core/ids.ts';
import type { AuditRecord } from './audit-record.ts';
import { type DeadLetterView, viewOf } from './dead-letter-view.ts';
import type { HaltedGroup } from './halted.ts';
import { NO_DATABASE } from './ledger-status.ts';

export const HOUR_MS = 3_600_000;

export type StreamInput = {
  readonly stream: string;
  readonly exists: boolean;
  readonly openCount: number;
  readonly oldestOpenId: string | undefined;
  /** Open entries that entered the DLQ in the window. */
  readonly openInWindow: readonly DeadLetterView[];
  /** Audit records written in the window (and any of entries that entered it). */
  readonly audits: readonly AuditRecord[];
  /** What every open dead letter (in the window or not) halts; absent when it could not be read. */
  readonly halted?: HaltedInput | undefined;
};

export type HaltedInput =
  | { readonly checked: false; readonly reason: string }
  | {
      readonly checked: true;
      readonly entries: readonly {
        readonly id: string;
        readonly eventId: string;
        readonly groups: readonly HaltedGroup[];
      }[];
    };

/** The dead letters holding back the most events are listed first; the rest are only counted. */
export const HALTED_LISTED = 10;

export type Window = { readonly fromMs: number; readonly toMs: number; readonly hours: number };

type Item = { readonly view: DeadLetterView; readonly open: boolean };

const iso = (ms: number): string => new Date(ms).toISOString();

/** Dead letters that entered the DLQ in the window: the open ones and the closed ones the audit kept. */
const newInWindow = (input: StreamInput, window: Window): Item[] => {
  const items: Item[] = input.openInWindow.map((view) => ({ view, open: true }));
  const seen = new Set(items.map((item) => item.view.id));
  for (const record of input.audits) {
    if (record.forced || seen.has(record.dlqId)) continue;
    const created = streamIdTime(record.dlqId);
    if (created < window.fromMs || created > window.toMs) continue;
    seen.add(record.dlqId);
    items.push({ view: viewOf(record.dlqId, record.entry), open: false });
  }
  return items;
};

const countBy = <K extends string>(items: readonly Item[], key: (item: Item) => K) => {
  const counts = new Map<K, { count: number; open: number; items: Item[] }>();
  for (const item of items) {
    const k = key(item);
    const row = counts.get(k) ?? { count: 0, open: 0, items: [] };
    row.count += 1;
    if (item.open) row.open += 1;
    row.items.push(item);
    counts.set(k, row);
  }
  return [...counts.entries()].sort(
    (a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0),
  );
};

const hourly = (items: readonly Item[], window: Window) => {
  const first = Math.floor(window.fromMs / HOUR_MS) * HOUR_MS;
  const last = Math.floor(window.toMs / HOUR_MS) * HOUR_MS;
  const buckets = new Map<number, number>();
  for (let hour = first; hour <= last; hour += HOUR_MS) buckets.set(hour, 0);
  for (const { view } of items) {
    const hour = Math.floor(view.createdMs / HOUR_MS) * HOUR_MS;
    if (buckets.has(hour)) buckets.set(hour, (buckets.get(hour) ?? 0) + 1);
  }
  return [...buckets.entries()].map(([hour, count]) => ({ hour: iso(hour), count }));
};

const fingerprintRow = (fingerprint: string, row: { count: number; open: number; items: Item[] }) => {
  const times = row.items.map((item) => item.view.createdMs);
  // By stream id, not time: entries written in the same millisecond are still ordered.
  const newest = [...row.items].sort((a, b) => compareStreamIds(b.view.id, a.view.id));
  const sample = newest.find((item) => item.open) ?? newest[0];
  return {
    fingerprint,
    error_class: sample?.view.errorClass ?? '',
    error_message: sample?.view.errorMessage ?? '',
    count: row.count,
    open: row.open,
    first_seen: iso(Math.min(...times)),
    last_seen: iso(Math.max(...times)),
    sample_id: sample?.view.id ?? '',
  };
};

const haltedReport = (halted: HaltedInput | undefined) => {
  if (!halted?.checked) return { checked: false as const, reason: halted?.reason ?? NO_DATABASE };
  const rows = halted.entries
    .flatMap((entry) =>
      entry.groups.map((g) => ({
        id: entry.id,
        event_id: entry.eventId,
        group: g.group,
        aggregate_key: g.aggregateKey,
        waiting_behind: g.waiting,
        since: g.since,
      })),
    )
    .sort((a, b) => b.waiting_behind - a.waiting_behind || compareStreamIds(a.id, b.id));
  return {
    checked: true as const,
    aggregates: rows.length,
    dead_letters: new Set(rows.map((row) => row.id)).size,
    waiting_behind: rows.reduce((sum, row) => sum + row.waiting_behind, 0),
    largest: rows.slice(0, HALTED_LISTED),
  };
};

export const buildStreamReport = (input: StreamInput, window: Window) => {
  const items = newInWindow(input, window);
  const closing = input.audits.filter((record) => !record.forced);
  const inWindow = (record: AuditRecord): boolean => {
    const at = streamIdTime(record.auditId);
    return at >= window.fromMs && at <= window.toMs;
  };
  const closedBy = (action: string): number =>
    closing.filter((r) => r.action === action && inWindow(r)).length;
  const closed = {
    reprocessed: closedBy('reprocessed'),
    resolved: closedBy('resolved'),
    purged: closedBy('purged'),
  };
  const oldestMs = input.oldestOpenId === undefined ? undefined : streamIdTime(input.oldestOpenId);
  return {
    stream: input.stream,
    exists: input.exists,
    new: items.length,
    closed: { total: closed.reprocessed + closed.resolved + closed.purged, ...closed },
    forced_republishes: input.audits.filter((r) => r.forced && inWindow(r)).length,
    open: {
      count: input.openCount,
      oldest_id: input.oldestOpenId ?? null,
      oldest_at: oldestMs === undefined ? null : iso(oldestMs),
      oldest_age_seconds:
        oldestMs === undefined ? null : Math.max(0, Math.round((window.toMs - oldestMs) / 1000)),
    },
    by_event_type: countBy(items, (item) => item.view.eventType || '?').map(([event_type, row]) => ({
      event_type,
      count: row.count,
      open: row.open,
    })),
    by_stage: countBy(items, (item) => `${item.view.stage}\u0000${item.view.consumerGroup ?? ''}`).map(
      ([key, row]) => {
        const [stage, group] = key.split('\u0000');
        return { stage: stage ?? '', consumer_group: group || null, count: row.count, open: row.open };
      },
    ),
    by_fingerprint: countBy(items, (item) => item.view.fingerprint).map(([fp, row]) =>
      fingerprintRow(fp, row),
    ),
    hourly: hourly(items, window),
    halted: haltedReport(input.halted),
  };
};

export type StreamReport = ReturnType<typeof buildStreamReport>;

export const buildReport = (reports: readonly StreamReport[], window: Window) => ({
  generated_at: iso(window.toMs),
  hours: window.hours,
  from: iso(window.fromMs),
  to: iso(window.toMs),
  totals: {
    new: reports.reduce((sum, r) => sum + r.new, 0),
    closed: reports.reduce((sum, r) => sum + r.closed.total, 0),
    open: reports.reduce((sum, r) => sum + r.open.count, 0),
  },
  streams: reports,
});

export type Report = ReturnType<typeof buildReport>;
