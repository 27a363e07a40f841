// mm-dlq's command-line options, checked before anything connects: every problem is a usage error (64).
import { parseDurationMs, parseInteger } from '../core/config.ts';
import { UsageError } from '../core/errors.ts';
import type { Filter } from './model/filters.ts';
import { type DlqStream, dlqStream, type IdArg, parseIdArg } from './model/names.ts';

/** The flags as commander hands them over (camelCase, raw strings). */
export type DlqFlags = {
  readonly stream?: string;
  readonly json?: boolean;
  readonly count?: string;
  readonly eventType?: string;
  readonly error?: string;
  readonly fingerprint?: string;
  readonly since?: string;
  readonly id?: string;
  readonly all?: boolean;
  readonly force?: boolean;
  readonly limit?: string;
  readonly rate?: string;
  readonly dryRun?: boolean;
  readonly maxFailures?: string;
  readonly note?: string;
  readonly actor?: string;
  readonly hours?: string;
  readonly olderThan?: string;
  readonly yes?: boolean;
};

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
export type InspectOptions = { readonly dlq: DlqStream; readonly json: boolean; readonly id: IdArg };
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
};
export type ReportOptions = {
  readonly dlq: DlqStream | undefined;
  readonly json: boolean;
  readonly hours: number;
};
export type PurgeOptions = CloseOptions & { readonly yes: boolean; readonly olderThanMs: number };

type Problems = string[];

const duration = (raw: string | undefined, flag: string, problems: Problems): number | undefined => {
  if (raw === undefined) return undefined;
  const ms = parseDurationMs(raw);
  if (ms === undefined || ms <= 0) {
    problems.push(`${flag} must be a duration like 90s, 15m, 2h or 30d, got "${raw}"`);
    return undefined;
  }
  return ms;
};

const streamOf = (flags: DlqFlags, problems: Problems): DlqStream | undefined => {
  if (flags.stream === undefined) {
    problems.push('--stream is required (e.g. --stream identity.dlq)');
    return undefined;
  }
  try {
    return dlqStream(flags.stream);
  } catch (error) {
    problems.push((error as Error).message);
    return undefined;
  }
};

const idOf = (raw: string, problems: Problems): IdArg | undefined => {
  try {
    return parseIdArg(raw);
  } catch (error) {
    problems.push((error as Error).message);
    return undefined;
  }
};

const filterOf = (flags: DlqFlags, problems: Problems): FilterSpec => {
  if (flags.error !== undefined && flags.fingerprint !== undefined)
    problems.push('--error and --fingerprint cannot be combined: give one');
  if (flags.fingerprint !== undefined && !/^[0-9a-f]{4,64}$/i.test(flags.fingerprint))
    problems.push(`--fingerprint must be hex like 3fa2c1d0b9e4, got "${flags.fingerprint}"`);
  return {
    eventType: flags.eventType,
    error: flags.error,
    fingerprint: flags.fingerprint?.toLowerCase(),
    sinceAgoMs: duration(flags.since, '--since', problems),
  };
};

const hasFilterFlags = (flags: DlqFlags): boolean =>
  flags.eventType !== undefined ||
  flags.error !== undefined ||
  flags.fingerprint !== undefined ||
  flags.since !== undefined;

const fail = (problems: Problems): void => {
  if (problems.length > 0) throw new UsageError(problems.join('; '));
};

/** `--id`, or `--all`, or filters: exactly one way of choosing entries. */
const targetOf = (
  flags: DlqFlags,
  problems: Problems,
  bulkOnly: readonly (keyof DlqFlags)[],
): Target | undefined => {
  const filter = filterOf(flags, problems);
  const limit =
    flags.limit === undefined ? undefined : parseInteger(flags.limit, '--limit', 0, problems, { min: 1 });
  if (flags.id !== undefined) {
    if (flags.all || hasFilterFlags(flags)) problems.push('--id cannot be combined with --all or filters');
    for (const name of bulkOnly)
      if (flags[name] !== undefined && flags[name] !== false)
        problems.push(`${flagName(name)} applies to bulk runs (--all or filters), not to --id`);
    const id = idOf(flags.id, problems);
    return id ? { kind: 'one', id } : undefined;
  }
  if (flags.all && hasFilterFlags(flags))
    problems.push('--all cannot be combined with filters: give one or the other');
  if (!flags.all && !hasFilterFlags(flags))
    problems.push(
      'say which dead letters: --id ID, --all, or filters (--event-type, --error, --fingerprint, --since)',
    );
  return { kind: 'bulk', filter, limit };
};

const flagName = (name: string): string => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export const listOptions = (flags: DlqFlags): ListOptions => {
  const problems: Problems = [];
  const dlq = streamOf(flags, problems);
  const count = parseInteger(flags.count, '--count', 20, problems, { min: 1, max: 100_000 });
  const filter = filterOf(flags, problems);
  fail(problems);
  return { dlq: dlq as DlqStream, json: flags.json === true, count, filter };
};

export const inspectOptions = (flags: DlqFlags): InspectOptions => {
  const problems: Problems = [];
  const dlq = streamOf(flags, problems);
  const id = flags.id === undefined ? undefined : idOf(flags.id, problems);
  if (flags.id === undefined) problems.push('--id is required (e.g. --id 1700000000000-0)');
  fail(problems);
  return { dlq: dlq as DlqStream, json: flags.json === true, id: id as IdArg };
};

export const reprocessOptions = (flags: DlqFlags): ReprocessOptions => {
  const problems: Problems = [];
  const dlq = streamOf(flags, problems);
  const target = targetOf(flags, problems, ['limit', 'rate', 'dryRun', 'maxFailures']);
  if (flags.force && flags.id === undefined) problems.push('--force works with --id only');
  const rate = parseInteger(flags.rate, '--rate', 50, problems, { min: 1, max: 1_000_000 });
  const maxFailures = parseInteger(flags.maxFailures, '--max-failures', 10, problems, { min: 0 });
  fail(problems);
  return {
    dlq: dlq as DlqStream,
    json: flags.json === true,
    target: target as Target,
    note: flags.note ?? '',
    dryRun: flags.dryRun === true,
    force: flags.force === true,
    rate,
    maxFailures,
  };
};

export const resolveOptions = (flags: DlqFlags): CloseOptions => {
  const problems: Problems = [];
  const dlq = streamOf(flags, problems);
  const target = targetOf(flags, problems, ['limit', 'dryRun']);
  fail(problems);
  return {
    dlq: dlq as DlqStream,
    json: flags.json === true,
    target: target as Target,
    note: flags.note ?? '',
    dryRun: flags.dryRun === true,
  };
};

export const reportOptions = (flags: DlqFlags): ReportOptions => {
  const problems: Problems = [];
  const dlq = flags.stream === undefined ? undefined : streamOf(flags, problems);
  const hours = parseInteger(flags.hours, '--hours', 24, problems, { min: 1, max: 24 * 366 });
  fail(problems);
  return { dlq, json: flags.json === true, hours };
};

export const purgeOptions = (flags: DlqFlags): PurgeOptions => {
  const problems: Problems = [];
  const dlq = streamOf(flags, problems);
  if (flags.id !== undefined || flags.all) problems.push('purge selects by age only: drop --id/--all');
  const olderThanMs = duration(flags.olderThan, '--older-than', problems);
  if (flags.olderThan === undefined) problems.push('--older-than is required (e.g. --older-than 30d)');
  const filter = filterOf(flags, problems);
  const limit =
    flags.limit === undefined ? undefined : parseInteger(flags.limit, '--limit', 0, problems, { min: 1 });
  fail(problems);
  return {
    dlq: dlq as DlqStream,
    json: flags.json === true,
    target: { kind: 'bulk', filter: { ...filter, olderThanMs }, limit },
    note: flags.note ?? '',
    dryRun: flags.dryRun === true,
    yes: flags.yes === true,
    olderThanMs: olderThanMs as number,
  };
};
