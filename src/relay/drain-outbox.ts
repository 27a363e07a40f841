// The relay's drain policy, written once for every store: one relay transaction within the relay's
// partitions (its claim scope, fenced by its leases), several batches claimed in it with the next claim
// already executing while the current batch is published, and failed or held rows put back with their
// history. The store only supplies the statements (ports/outbox.ts).
import { MmError } from '../core/errors.ts';
import type { ClaimScope, OutboxRelay, OutboxRow, RelayStatements } from '../ports/outbox.ts';
import { type RetryRow, reinstatedRow } from './reinstated-row.ts';

/**
 * What the relay did with a claimed batch: rows in `retry` go back (attempts + 1), all others leave.
 * A row marked `held` did not fail itself: it waits behind an earlier failed row of its aggregate,
 * so it goes back with attempts, first failure and last error unchanged.
 */
export type DrainOutcome = { readonly retry: readonly RetryRow[] };

/** `paused`: a partition-count switch held the relays; nothing was claimed. */
export type DrainResult = { readonly paused: boolean; readonly claimed: number; readonly batches: number };

export type DrainOptions = {
  /** Rows per batch. */
  readonly limit: number;
  /**
   * Batches claimed in one transaction (default 1). While one batch is handled the next is already
   * being claimed; claiming stops early at a batch shorter than `limit`. All of them commit together,
   * and if `handle` throws for any of them, every row of every batch stays.
   */
  readonly maxBatches?: number;
  /**
   * Called just before the drain first looks at the outbox: every insert committed before this
   * moment is visible to it, so a wake-up for such an insert needs no drain of its own.
   */
  readonly beforeLook?: () => void;
  /**
   * The partitions this relay may claim, and its leases on them (checked as the transaction begins,
   * and kept from being taken until it ends). Without one, every partition.
   */
  readonly scope?: ClaimScope;
  /** Called once the relays were joined, as the first claim is sent (the relay reads what it routes by). */
  readonly onJoined?: () => void;
};

/** Ids are bigints as decimal text without leading zeros: shorter is smaller. */
const byId = (a: OutboxRow, b: OutboxRow): number =>
  a.id.length === b.id.length ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.id.length - b.id.length;

const noRows: Promise<OutboxRow[]> = Promise.resolve([]);

/** Puts back the rows of one batch that the outcome retries. */
const putBack = async (
  statements: RelayStatements,
  batch: readonly OutboxRow[],
  retry: readonly RetryRow[],
): Promise<void> => {
  const claimed = new Map(batch.map((row) => [row.id, row]));
  const now = new Date().toISOString();
  const rows = retry.map((failure) => {
    const row = claimed.get(failure.id);
    if (!row) throw new MmError('INTERNAL', `drain outcome retries row ${failure.id}, which was not claimed`);
    return reinstatedRow(row, failure, now);
  });
  await statements.reinstate(rows);
};

/**
 * Calls `handle` once per claimed batch, in claim order, rows in id order; each outcome applies
 * before the commit. A fence that no longer holds fails the drain (FencedError) before any `handle`.
 */
export const drainOutbox = async (
  outbox: OutboxRelay,
  { limit, maxBatches = 1, beforeLook, scope, onJoined }: DrainOptions,
  handle: (rows: OutboxRow[]) => Promise<DrainOutcome>,
): Promise<DrainResult> => {
  // Before the transaction opens: a store may look whether anything is due as it opens it.
  beforeLook?.();
  return outbox.withRelayTransaction(async (statements) => {
    // Each partition has one relay, which drains its rows in id order: per-aggregate order holds.
    if (!(await statements.joinRelays())) return { paused: true, claimed: 0, batches: 0 };
    let claimed = 0;
    let batches = 0;
    // The next claim executes while the current batch is handled; claims run in the order made, so
    // rows put back for batch k are seen by the claim of batch k+2 (the publisher keeps their
    // aggregates waiting across batches meanwhile).
    let next = statements.claimBatch({ limit });
    onJoined?.();
    for (;;) {
      const rows = (await next).sort(byId);
      if (rows.length === 0) break;
      batches += 1;
      claimed += rows.length;
      const more = rows.length >= limit && batches < maxBatches;
      next = more ? statements.claimBatch({ limit }) : noRows;
      next.catch(() => {}); // a failure surfaces when awaited; until then it must not go unhandled
      const outcome = await handle(rows);
      if (outcome.retry.length > 0) await putBack(statements, rows, outcome.retry);
      if (!more) break;
    }
    return { paused: false, claimed, batches };
  }, scope);
};
