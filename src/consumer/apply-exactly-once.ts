// Applies a planned batch in ONE transaction: ledger claim for every event, handlers only for events
// newly claimed. Optimistic first (whole batch, set-based): a batch of first deliveries sends its
// handlers' statements right behind the claim and is rolled back if the claim finds an event recorded
// before; otherwise the claim answers first. If a handler fails, the transaction is redone with a
// savepoint per event so the failing event undoes nothing else and holds back only the later events
// of its own aggregate (deferred: they park behind it).
import { coerceError, FencedError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { LeaseFence } from '../ports/leases.ts';
import type { Store, Tx } from '../ports/store.ts';
import { type BatchPlan, ledgerEntry, type PlannedEvent, runsOf } from './batch-plan.ts';
import type { HandlerContext } from './handler.ts';
import { isTransientFailure } from './transient.ts';

export type ApplyResult = {
  /** Keys of events this transaction recorded and whose handler ran (or `skipped` rows it wrote). */
  readonly recorded: ReadonlySet<string>;
  /** Event key -> the handler's error; these events were not recorded. */
  readonly failures: ReadonlyMap<string, Error>;
  /** Keys of events not run because an earlier event of their aggregate failed in this batch. */
  readonly deferred: ReadonlySet<string>;
  /** Whether the per-event redo was needed. */
  readonly redone: boolean;
};

export type ApplyOptions = {
  readonly group: string;
  readonly logger: Logger;
  /** The partitions' leases: the transaction commits nothing unless they all still hold (FencedError). */
  readonly fences?: readonly LeaseFence[];
  /** Runs last inside the transaction, with the outcome: parking writes commit with the effects. */
  readonly inTx?: (tx: Tx, result: ApplyResult) => Promise<void>;
};

const finishTx = async (tx: Tx, result: ApplyResult, options: ApplyOptions): Promise<ApplyResult> => {
  await options.inTx?.(tx, result);
  return result;
};

const contextFor = (tx: Tx, options: ApplyOptions): HandlerContext => ({
  tx,
  consumerGroup: options.group,
  logger: options.logger,
});

// First in the transaction: on Postgres it also locks the lease rows, so no other consumer can take
// the partition before this transaction ends.
const assertFences = async (tx: Tx, options: ApplyOptions): Promise<void> => {
  if (options.fences && options.fences.length > 0) await tx.fences.assertHeld(options.fences);
};

/**
 * The keys the ledger newly recorded. Lease check and claim are sent together (one round trip on
 * Postgres) and run in this order: a lost lease fails the transaction before anything commits, and
 * the claim waits on the lease rows it locked.
 */
const fencesAndClaim = async (
  tx: Tx,
  all: readonly PlannedEvent[],
  options: ApplyOptions,
): Promise<Set<string>> => {
  const [, recorded] = await Promise.all([
    assertFences(tx, options),
    tx.ledger.claim(all.map((p) => ledgerEntry(p, options.group))),
  ]);
  return recorded;
};

/** Thrown inside `pipelined` to roll it back: some event of the batch was recorded before. */
class SeenBefore extends Error {}

const runHandlers = async (tx: Tx, work: readonly PlannedEvent[], options: ApplyOptions): Promise<void> => {
  const context = contextFor(tx, options);
  for (const run of runsOf(work)) await run[0]?.handler?.apply(run, context);
};

/**
 * The usual batch (only first deliveries): the handlers' statements go out right behind the claim,
 * so their parameters are built while the database inserts the ledger rows. If the claim finds an
 * event recorded before, the transaction is rolled back and the batch goes through `claimFirst`.
 */
const pipelined = (store: Store, plan: BatchPlan, options: ApplyOptions): Promise<ApplyResult> =>
  store.withTransaction(async (tx) => {
    const all = [...plan.work, ...plan.unhandled];
    const checked = fencesAndClaim(tx, all, options);
    const effects = runHandlers(tx, plan.work, options);
    // Both settle before anything is decided: a statement a handler sent after the rollback would
    // run outside the transaction, and commit.
    const [claim, effect] = await Promise.allSettled([checked, effects]);
    if (claim.status === 'rejected') throw claim.reason;
    const recorded = claim.value;
    if (recorded.size < all.length) throw new SeenBefore();
    if (effect.status === 'rejected') throw effect.reason;
    return finishTx(tx, { recorded, failures: new Map(), deferred: new Set(), redone: false }, options);
  });

const claimFirst = (store: Store, plan: BatchPlan, options: ApplyOptions): Promise<ApplyResult> =>
  store.withTransaction(async (tx) => {
    const recorded = await fencesAndClaim(tx, [...plan.work, ...plan.unhandled], options);
    await runHandlers(
      tx,
      plan.work.filter((p) => recorded.has(p.key)),
      options,
    );
    return finishTx(tx, { recorded, failures: new Map(), deferred: new Set(), redone: false }, options);
  });

const applyOne = (tx: Tx, planned: PlannedEvent, options: ApplyOptions): Promise<boolean> =>
  tx.savepoint(async (sp) => {
    const fresh = await sp.ledger.claim([ledgerEntry(planned, options.group)]);
    if (fresh.size === 0) return false;
    await planned.handler?.apply([planned], contextFor(sp, options));
    return true;
  });

/** Work and unhandled events together, in the order the batch delivered them. */
const inStreamOrder = (plan: BatchPlan): PlannedEvent[] => {
  const position = new Map(plan.deliveries.map((delivery, i) => [delivery, i]));
  const at = (p: PlannedEvent): number => position.get(p.delivery) ?? 0;
  return [...plan.work, ...plan.unhandled].sort((a, b) => at(a) - at(b));
};

const eventByEvent = (store: Store, plan: BatchPlan, options: ApplyOptions): Promise<ApplyResult> =>
  store.withTransaction(async (tx) => {
    await assertFences(tx, options);
    const recorded = new Set<string>();
    const failures = new Map<string, Error>();
    const deferred = new Set<string>();
    const failedAggregates = new Set<string>();
    for (const planned of inStreamOrder(plan)) {
      if (failedAggregates.has(planned.aggregateKey)) {
        deferred.add(planned.key);
        continue;
      }
      try {
        if (await applyOne(tx, planned, options)) recorded.add(planned.key);
      } catch (thrown) {
        const error = coerceError(thrown);
        if (isTransientFailure(error)) throw error;
        failures.set(planned.key, error);
        failedAggregates.add(planned.aggregateKey);
      }
    }
    return finishTx(tx, { recorded, failures, deferred, redone: true }, options);
  });

/**
 * Throws only when the transaction as a whole failed (database down, commit failed): then nothing
 * was recorded and the caller retries the batch without counting an attempt against any event.
 */
export const applyExactlyOnce = async (
  store: Store,
  plan: BatchPlan,
  options: ApplyOptions,
): Promise<ApplyResult> => {
  const nothing: ApplyResult = {
    recorded: new Set(),
    failures: new Map(),
    deferred: new Set(),
    redone: false,
  };
  if (plan.work.length === 0 && plan.unhandled.length === 0) {
    // Parked events and blocks still need their parking writes, under the same fences.
    if (!options.inTx || plan.deliveries.length === 0) return nothing;
    return store.withTransaction(async (tx) => {
      await assertFences(tx, options);
      return finishTx(tx, nothing, options);
    });
  }
  try {
    const firstDeliveries = plan.deliveries.every((d) => d.deliveries === 1 && !d.parked);
    if (firstDeliveries) {
      try {
        return await pipelined(store, plan, options);
      } catch (thrown) {
        if (!(thrown instanceof SeenBefore)) throw thrown;
      }
    }
    return await claimFirst(store, plan, options);
  } catch (thrown) {
    // Any other failure is most likely one event's (a handler error, or a statement of its that
    // failed even if the handler caught it); the redo finds out which. A lost lease is nobody's.
    if (isTransientFailure(thrown) || thrown instanceof FencedError) throw thrown;
    options.logger.debug(
      `batch of ${plan.work.length} events redone event by event: ${coerceError(thrown).message}`,
    );
    return eventByEvent(store, plan, options);
  }
};
