// mm-dlq's command options, checked before anything connects: each command's table gives the
// values, these rules decide which combinations make sense; every problem is a usage error (64).
import { UsageError } from '../core/errors.ts';
import { resolveSettings } from '../core/settings.ts';
import type { Filter } from './model/filters.ts';
import type { DlqStream, IdArg } from './model/names.ts';
import { type DlqFlags, dlqOptionSettings } from './settings.ts';

/** Filters with `--since` still relative: it becomes a time when the command runs. */
export type FilterSpec = Omit<Filter, 'sinceMs' | 'beforeMs'> & {
  readonly sinceAgoMs?: number | undefined;
  readonly olderThanMs?: number | undefined;
};

export const filterAt = (spec: FilterSpec, nowMs: number): Filter => ({
  eventType: spec.eventType,
  error: spec.error,
  fingerprint: spec.fingerprint,
  sinceMs: spec.sinceAgoMs === undefined ? undefined : nowMs - spec.sinceAgoMs,
  beforeMs: spec.olderThanMs === undefined ? undefined : nowMs - spec.olderThanMs,
});

export type Target =
  | { readonly kind: 'one'; readonly id: IdArg }
  | { readonly kind: 'bulk'; readonly filter: FilterSpec; readonly limit: number | undefined };

export type ListOptions = {
  readonly dlq: DlqStream;
  readonly json: boolean;
  readonly count: number;
  readonly filter: FilterSpec;
};
export type InspectOptions = {
  readonly dlq: DlqStream;
  readonly json: boolean;
  readonly id: IdArg;
  /** The whole payload, not the first 4 KiB. */
  readonly full: boolean;
};
export type CloseOptions = {
  readonly dlq: DlqStream;
  readonly json: boolean;
  readonly target: Target;
  readonly note: string;
  readonly dryRun: boolean;
};
export type ReprocessOptions = CloseOptions & {
  readonly force: boolean;
  readonly rate: number;
  /** Stop once this many reprocessed events came back to the DLQ; 0 never stops. */
  readonly maxFailures: number;
  /** A relay-stage dead letter's event is not republished when larger (the relay would refuse it). */
  readonly maxEventBytes: number;
};
export type ReportOptions = {
  readonly dlq: DlqStream | undefined;
  readonly json: boolean;
  readonly hours: number;
};
export type PurgeOptions = CloseOptions & { readonly yes: boolean; readonly olderThanMs: number };

type Problems = string[];

const fail = (problems: Problems): void => {
  if (problems.length > 0) throw new UsageError(problems.join('; '));
};

const requireStream = (flags: DlqFlags, problems: Problems): void => {
  if (flags.stream === undefined) problems.push('--stream is required (e.g. --stream identity.dlq)');
};

const filterOf = (
  flags: DlqFlags,
  values: Omit<FilterSpec, 'sinceAgoMs'> & { since?: number | undefined },
  problems: Problems,
): FilterSpec => {
  if (flags.error !== undefined && flags.fingerprint !== undefined)
    problems.push('--error and --fingerprint cannot be combined: give one');
  return {
    eventType: values.eventType,
    error: values.error,
    fingerprint: values.fingerprint,
    sinceAgoMs: values.since,
  };
};

const hasFilterFlags = (flags: DlqFlags): boolean =>
  flags.eventType !== undefined ||
  flags.error !== undefined ||
  flags.fingerprint !== undefined ||
  flags.since !== undefined;

const flagName = (name: string): string => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** `--id`, or `--all`, or filters: exactly one way of choosing entries. */
const targetOf = (
  flags: DlqFlags,
  values: { id: IdArg | undefined; limit: number | undefined; filter: FilterSpec },
  problems: Problems,
  bulkOnly: readonly (keyof DlqFlags)[],
): Target => {
  if (flags.id !== undefined) {
    if (flags.all || hasFilterFlags(flags)) problems.push('--id cannot be combined with --all or filters');
    for (const name of bulkOnly)
      if (flags[name] !== undefined && flags[name] !== false)
        problems.push(`${flagName(name)} applies to bulk runs (--all or filters), not to --id`);
    return { kind: 'one', id: values.id as IdArg };
  }
  if (flags.all && hasFilterFlags(flags))
    problems.push('--all cannot be combined with filters: give one or the other');
  if (!flags.all && !hasFilterFlags(flags))
    problems.push(
      'say which dead letters: --id ID, --all, or filters (--event-type, --error, --fingerprint, --since)',
    );
  return { kind: 'bulk', filter: values.filter, limit: values.limit };
};

export const listOptions = (flags: DlqFlags): ListOptions => {
  const problems: Problems = [];
  requireStream(flags, problems);
  const values = resolveSettings(dlqOptionSettings.list, flags, {}, problems);
  const filter = filterOf(flags, values, problems);
  fail(problems);
  return { dlq: values.stream as DlqStream, json: values.json, count: values.count, filter };
};

export const inspectOptions = (flags: DlqFlags): InspectOptions => {
  const problems: Problems = [];
  requireStream(flags, problems);
  const values = resolveSettings(dlqOptionSettings.inspect, flags, {}, problems);
  if (flags.id === undefined) problems.push('--id is required (e.g. --id 1700000000000-0)');
  fail(problems);
  return { dlq: values.stream as DlqStream, json: values.json, id: values.id as IdArg, full: values.full };
};

export const reprocessOptions = (flags: DlqFlags): ReprocessOptions => {
  const problems: Problems = [];
  requireStream(flags, problems);
  const values = resolveSettings(dlqOptionSettings.reprocess, flags, {}, problems);
  const filter = filterOf(flags, values, problems);
  const target = targetOf(flags, { ...values, filter }, problems, ['limit', 'rate', 'maxFailures']);
  if (flags.force && flags.id === undefined) problems.push('--force works with --id only');
  fail(problems);
  const { json, note, dryRun, force, rate, maxFailures, maxEventBytes } = values;
  return {
    dlq: values.stream as DlqStream,
    json,
    target,
    note,
    dryRun,
    force,
    rate,
    maxFailures,
    maxEventBytes,
  };
};

export type ResolveOptions = CloseOptions & {
  /** `--all` was given: like purge, it asks first, or needs --yes off a terminal. */
  readonly all: boolean;
  readonly yes: boolean;
};

export const resolveOptions = (flags: DlqFlags): ResolveOptions => {
  const problems: Problems = [];
  requireStream(flags, problems);
  const values = resolveSettings(dlqOptionSettings.resolve, flags, {}, problems);
  const filter = filterOf(flags, values, problems);
  const target = targetOf(flags, { ...values, filter }, problems, ['limit', 'dryRun', 'yes']);
  fail(problems);
  const { json, note, dryRun, yes } = values;
  return { dlq: values.stream as DlqStream, json, target, note, dryRun, all: flags.all === true, yes };
};

export const reportOptions = (flags: DlqFlags): ReportOptions => {
  const problems: Problems = [];
  const values = resolveSettings(dlqOptionSettings.report, flags, {}, problems);
  fail(problems);
  return { dlq: values.stream, json: values.json, hours: values.hours };
};

export const purgeOptions = (flags: DlqFlags): PurgeOptions => {
  const problems: Problems = [];
  requireStream(flags, problems);
  if (flags.id !== undefined || flags.all) problems.push('purge selects by age only: drop --id/--all');
  const values = resolveSettings(dlqOptionSettings.purge, flags, {}, problems);
  if (flags.olderThan === undefined) problems.push('--older-than is required (e.g. --older-than 30d)');
  fail(problems);
  const { json, note, dryRun, yes, limit, eventType } = values;
  const olderThanMs = values.olderThan as number;
  const filter = { eventType, olderThanMs };
  return {
    dlq: values.stream as DlqStream,
    json,
    target: { kind: 'bulk', filter, limit },
    note,
    dryRun,
    yes,
    olderThanMs,
  };
};

export type ExportOptions = {
  readonly dlq: DlqStream;
  readonly id: IdArg;
  readonly to: string;
  readonly json: boolean;
};

export const exportOptions = (flags: DlqFlags): ExportOptions => {
  const problems: Problems = [];
  requireStream(flags, problems);
  const values = resolveSettings(dlqOptionSettings.export, flags, {}, problems);
  if (flags.id === undefined) problems.push('--id is required (e.g. --id 1700000000000-0)');
  if (flags.to === undefined) problems.push('--to is required (e.g. --to case.db)');
  fail(problems);
  return {
    dlq: values.stream as DlqStream,
    id: values.id as IdArg,
    to: values.to as string,
    json: values.json,
  };
};
