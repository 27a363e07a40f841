// Reads the outcome of a run from the ledger, the same way in Postgres and SQLite (Tx.query).
import type { Store } from '../../src/ports/store.ts';

export type LedgerSummary = {
  readonly rows: number;
  readonly distinct: number;
  readonly firstMs: number;
  readonly lastMs: number;
  readonly profiles: number;
};

const toMs = (value: unknown): number => new Date(value as string | Date).getTime();

export const ledgerSummary = async (store: Store, group: string): Promise<LedgerSummary> =>
  store.withTransaction(async (tx) => {
    const [row] = await tx.query<Record<string, unknown>>(
      `select count(*) as n, count(distinct event_id) as d, min(processed_at) as first, max(processed_at) as last
       from event_ledger where consumer_group = $1`,
      [group],
    );
    const [profiles] = await tx.query<Record<string, unknown>>('select count(*) as n from lint_profiles');
    return {
      rows: Number(row?.n ?? 0),
      distinct: Number(row?.d ?? 0),
      firstMs: toMs(row?.first),
      lastMs: toMs(row?.last),
      profiles: Number(profiles?.n ?? 0),
    };
  });

/** When the row at `rank` (0 for the first) in the order of processing was applied, ms since the epoch. */
export const appliedAtRank = async (store: Store, group: string, rank: number): Promise<number> =>
  store.withTransaction(async (tx) => {
    const [row] = await tx.query<{ processed_at: unknown }>(
      'select processed_at from event_ledger where consumer_group = $1 order by processed_at limit 1 offset $2',
      [group, rank],
    );
    return row ? toMs(row.processed_at) : Number.NaN;
  });

/** event_id -> when its effect committed (ms since the epoch). */
export const appliedTimes = async (store: Store, group: string): Promise<Map<string, number>> =>
  store.withTransaction(async (tx) => {
    const rows = await tx.query<{ event_id: string; processed_at: unknown }>(
      'select event_id, processed_at from event_ledger where consumer_group = $1',
      [group],
    );
    return new Map(rows.map((r) => [String(r.event_id), toMs(r.processed_at)]));
  });

/**
 * Every event applied exactly once: the correctness check every benchmark run makes before it reports.
 * `profiles: false` for a run whose consumer writes no read model (the raw consumer baseline).
 */
export const assertExactlyOnce = (
  summary: LedgerSummary,
  expected: number,
  what: string,
  options: { profiles?: boolean } = {},
): void => {
  const profiles = options.profiles === false ? expected : summary.profiles;
  if (summary.rows !== expected || summary.distinct !== expected || profiles !== expected) {
    throw new Error(
      `${what}: ledger has ${summary.rows} rows (${summary.distinct} distinct) and ${summary.profiles} profiles for ${expected} events`,
    );
  }
};

/**
 * Events applied after a later event of their aggregate: `events` in outbox order, judged by when the
 * ledger says each one committed (one batch shares a time, so only a strict inversion counts).
 */
export const orderInversions = async (
  store: Store,
  group: string,
  events: ReadonlyArray<{ readonly eventId: string; readonly aggregateId: string }>,
): Promise<number> => {
  const applied = await appliedTimes(store, group);
  const latest = new Map<string, number>();
  let inversions = 0;
  for (const event of events) {
    const at = applied.get(event.eventId) ?? Number.NaN;
    if (at < (latest.get(event.aggregateId) ?? Number.NEGATIVE_INFINITY)) inversions += 1;
    else latest.set(event.aggregateId, at);
  }
  return inversions;
};
