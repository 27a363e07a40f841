// `mm-consumer replay`: moves a group's position back (XGROUP SETID) so entries are delivered again;
// the ledger skips what the group already applied, so a replay never applies an effect twice, and
// entries dead-lettered for the group are held back unless --include-dead-letters. It moves the group
// on every partition stream of the topic.
import { ConfigError, NotFoundError, UsageError } from '../core/errors.ts';
import { compareStreamIds, isStreamId, parseStreamId } from '../core/ids.ts';
import { streamsOfTopic } from '../core/topic-streams.ts';
import type { Bus } from '../ports/bus.ts';
import type { LedgerReader, ReplayHold } from '../ports/ledger.ts';
import { deadLettersInRange } from './replay-dead-letters.ts';

export type ReplayFrom =
  | { readonly kind: 'start' }
  | { readonly kind: 'end' }
  | { readonly kind: 'id'; readonly id: string }
  | { readonly kind: 'time'; readonly ms: number };

const MAX_SEQ = 18446744073709551615n;
const isoPattern = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+)?(Z|[+-]\d{2}:?\d{2})?$/;

export const parseReplayFrom = (raw: string): ReplayFrom => {
  const value = raw.trim();
  if (value === 'start') return { kind: 'start' };
  if (value === 'end') return { kind: 'end' };
  if (isStreamId(value)) return { kind: 'id', id: value };
  if (isoPattern.test(value) && !Number.isNaN(Date.parse(value)))
    return { kind: 'time', ms: Date.parse(value) };
  throw new UsageError(
    `--from must be a stream id (1700000000000-0), an ISO time (2024-01-31T12:00:00Z), start or end; got "${raw}"`,
  );
};

/** The id just before `id`, so that setting the group there delivers `id` itself again. */
export const previousStreamId = (id: string): string => {
  const { ms, seq } = parseStreamId(id);
  if (seq > 0n) return `${ms}-${seq - 1n}`;
  if (ms > 0n) return `${ms - 1n}-${MAX_SEQ}`;
  return '0-0';
};

/** The group position for a `--from`: entries after it are delivered (from an id or time, inclusive). */
export const positionFor = (from: ReplayFrom, newestId: string | null): string => {
  switch (from.kind) {
    case 'start':
      return '0-0';
    case 'end':
      return newestId ?? '0-0';
    case 'id':
      return previousStreamId(from.id);
    case 'time':
      return from.ms <= 0 ? '0-0' : `${from.ms - 1}-${MAX_SEQ}`;
  }
};

export type ReplayOptions = {
  readonly group: string;
  readonly topic: string;
  readonly from: ReplayFrom;
  readonly dryRun: boolean;
  /** Deliver dead-lettered events again too (by default they are held back). */
  readonly includeDeadLetters?: boolean;
};

/** One stream's part of a replay (a topic has one stream per partition). */
export type StreamReplay = {
  readonly stream: string;
  readonly previousId: string;
  readonly newId: string;
  /** Entries at or before the old position that the group will receive again. */
  readonly redeliver: number;
  /** Entries after the old position that moving forward skips (never delivered to the group). */
  readonly skipped: number;
};

export type ReplayReport = {
  readonly group: string;
  readonly topic: string;
  /** Every partition stream of the topic under its recorded count (just the topic for one). */
  readonly streams: readonly StreamReplay[];
  /** Totals over the streams. */
  readonly redeliver: number;
  readonly skipped: number;
  /** Of the re-delivered entries, how many the ledger already holds for the group (when known). */
  readonly alreadyApplied: number | null;
  /** Of the re-delivered entries, those dead-lettered for the group, still open or closed. */
  readonly deadLetters: { readonly open: number; readonly closed: number };
  /** Whether those are held back (acknowledged without a handler run) or delivered again. */
  readonly holdsDeadLetters: boolean;
  readonly applied: boolean;
};

const PAGE = 1_000;

/** Entries in (after, upTo], paged; calls `onPage` with each page's event ids. */
const countBetween = async (
  bus: Bus,
  topic: string,
  after: string,
  upTo: string,
  onPage?: (eventIds: string[]) => Promise<void>,
): Promise<number> => {
  if (compareStreamIds(after, upTo) >= 0) return 0;
  let count = 0;
  let start = after === '0-0' ? '-' : `(${after}`;
  for (;;) {
    const page = await bus.range(topic, { start, end: upTo, count: PAGE });
    count += page.length;
    if (onPage)
      await onPage(
        page.map((e) => (e.fields.event_id ?? '').toLowerCase()).filter((id) => /^[0-9a-f-]{36}$/.test(id)),
      );
    const last = page.at(-1);
    if (page.length < PAGE || !last) return count;
    start = `(${last.id}`;
  }
};

type StreamPlan = { readonly stream: string; readonly previousId: string; readonly newId: string };

/** Where the group stands on `stream` and where `--from` moves it; null newest = empty stream. */
const planStream = async (bus: Bus, stream: string, options: ReplayOptions) => {
  const info = (await bus.groups(stream)).find((g) => g.name === options.group);
  if (!info) throw new NotFoundError(`consumer group ${options.group} does not exist on stream ${stream}`);
  const [newest] = await bus.range(stream, { reverse: true, count: 1 });
  // Some backends report a fresh group's position as `0`.
  const previousId = info.lastDeliveredId.includes('-') ? info.lastDeliveredId : `${info.lastDeliveredId}-0`;
  return {
    stream,
    previousId,
    newestId: newest?.id ?? null,
    newId: positionFor(options.from, newest?.id ?? null),
  };
};

const isAfterNewest = (from: ReplayFrom, plan: { newId: string; newestId: string | null }): boolean =>
  from.kind !== 'end' &&
  from.kind !== 'start' &&
  plan.newestId !== null &&
  compareStreamIds(plan.newId, plan.newestId) >= 0;

/**
 * Moves the group on every partition stream of the topic. `--from` an id or a time means the same
 * point on each stream (ids are times); a partition whose entries all lie before it goes to its end.
 */
export const runReplay = async (
  deps: { bus: Bus; ledger?: LedgerReader | undefined },
  options: ReplayOptions,
): Promise<ReplayReport> => {
  const { bus, ledger } = deps;
  const found = [];
  for (const stream of await streamsOfTopic(bus, options.topic))
    found.push(await planStream(bus, stream, options));
  const after = found.filter((plan) => isAfterNewest(options.from, plan));
  if (after.length === found.length && after.length > 0) {
    const newest = after.map((p) => `${p.newestId} of ${p.stream}`).join(', ');
    throw new UsageError(
      `--from is after the newest entry ${newest}: nothing to replay (use --from end to skip everything)`,
    );
  }
  const plans: StreamPlan[] = found.map((plan) => ({
    stream: plan.stream,
    previousId: plan.previousId,
    newId: isAfterNewest(options.from, plan) ? (plan.newestId as string) : plan.newId,
  }));
  let alreadyApplied: number | null = ledger ? 0 : null;
  const streams: StreamReplay[] = [];
  for (const plan of plans) {
    const redeliver = await countBetween(bus, plan.stream, plan.newId, plan.previousId, async (ids) => {
      if (!ledger || ids.length === 0) return;
      const recorded = await ledger.recorded(options.group, ids);
      alreadyApplied = (alreadyApplied ?? 0) + ids.filter((id) => recorded.has(id)).length;
    });
    const skipped = await countBetween(bus, plan.stream, plan.previousId, plan.newId);
    streams.push({ ...plan, redeliver, skipped });
  }
  const open: ReplayHold[] = [];
  const closed: ReplayHold[] = [];
  for (const plan of plans) {
    const dead = await deadLettersInRange(bus, {
      topic: options.topic,
      stream: plan.stream,
      group: options.group,
      after: plan.newId,
      upTo: plan.previousId,
    });
    open.push(...dead.open);
    closed.push(...dead.closed);
  }
  const holdsDeadLetters = options.includeDeadLetters !== true;
  if (!options.dryRun) {
    await holdOrRelease(ledger, [...open, ...closed], holdsDeadLetters, options.group);
    for (const plan of plans) await bus.setGroupId(plan.stream, options.group, plan.newId);
  }
  return {
    group: options.group,
    topic: options.topic,
    streams,
    redeliver: streams.reduce((sum, s) => sum + s.redeliver, 0),
    skipped: streams.reduce((sum, s) => sum + s.skipped, 0),
    alreadyApplied,
    deadLetters: { open: open.length, closed: closed.length },
    holdsDeadLetters,
    applied: !options.dryRun,
  };
};

/** Before the group moves, so no delivery can come first. */
const holdOrRelease = async (
  ledger: LedgerReader | undefined,
  holds: readonly ReplayHold[],
  hold: boolean,
  group: string,
): Promise<void> => {
  if (!hold) {
    if (ledger) await ledger.release(holds);
    return;
  }
  if (holds.length === 0) return;
  if (!ledger)
    throw new ConfigError([
      `${holds.length} of the entries to re-deliver were dead-lettered for ${group}; holding them back needs --database-url (DATABASE_URL), or pass --include-dead-letters to deliver them again`,
    ]);
  await ledger.hold(holds);
};

const deadLetterLine = (report: ReplayReport, verb: string): string | undefined => {
  const { open, closed } = report.deadLetters;
  if (open + closed === 0) return undefined;
  const which = `${open + closed} of them were dead-lettered for ${report.group} (${open} open, ${closed} closed)`;
  return report.holdsDeadLetters
    ? `${which}: they ${verb} held back (acknowledged, not applied, not dead-lettered again); --include-dead-letters delivers them`
    : `${which}: they ${verb} delivered again (--include-dead-letters)`;
};

export const describeReplay = (report: ReplayReport): string[] => {
  const verb = report.applied ? 'will be' : 'would be';
  const lines = [
    ...report.streams.map(
      (s) =>
        `${report.applied ? 'replay' : 'dry run: replay'} of ${s.stream} for group ${report.group}: position ${s.previousId} -> ${s.newId}`,
    ),
    `${report.redeliver} entries ${verb} re-delivered${
      report.alreadyApplied === null
        ? ''
        : `; ${report.alreadyApplied} of them are already in the ledger and ${verb} skipped`
    }`,
  ];
  const dead = deadLetterLine(report, verb);
  if (dead) lines.push(dead);
  if (report.skipped > 0)
    lines.push(`warning: ${report.skipped} entries not yet delivered ${verb} skipped by moving forward`);
  if (!report.applied) lines.push('dry run: nothing changed');
  return lines;
};
