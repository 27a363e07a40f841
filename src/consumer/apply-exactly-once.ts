// Applies a planned batch in ONE transaction: ledger claim for every event, handlers only for events
// newly claimed. Optimistic first (whole batch, set-based); if a handler fails, the transaction is
// redone with a savepoint per event so the failing event neither undoes nor blocks the others.
import { coerceError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Store, Tx } from '../ports/store.ts';
import { type BatchPlan, ledgerEntry, type PlannedEvent, runsOf } from './batch-plan.ts';
import type { HandlerContext } from './handler.ts';
import { isTransientFailure } from './transient.ts';

export type ApplyResult = {
  /** Keys of events this transaction recorded and whose handler ran (or `skipped` rows it wrote). */
  readonly recorded: ReadonlySet<string>;
  /** Event key -> the handler's error; these events were not recorded. */
  readonly failures: ReadonlyMap<string, Error>;
  /** Whether the per-event redo was needed. */
  readonly redone: boolean;
};

export type ApplyOptions = { readonly group: string; readonly logger: Logger };

const contextFor = (tx: Tx, options: ApplyOptions): HandlerContext => ({
  tx,
  consumerGroup: options.group,
  logger: options.logger,
});

const optimistic = (store: Store, plan: BatchPlan, options: ApplyOptions): Promise<ApplyResult> =>
  store.withTransaction(async (tx) => {
    const all = [...plan.work, ...plan.unhandled];
    const recorded = await tx.ledger.claim(all.map((p) => ledgerEntry(p, options.group)));
    const context = contextFor(tx, options);
    for (const run of runsOf(plan.work.filter((p) => recorded.has(p.key)))) {
      await run[0]?.handler?.apply(run, context);
    }
    return { recorded, failures: new Map(), redone: false };
  });

const applyOne = (tx: Tx, planned: PlannedEvent, options: ApplyOptions): Promise<boolean> =>
  tx.savepoint(async (sp) => {
    const fresh = await sp.ledger.claim([ledgerEntry(planned, options.group)]);
    if (fresh.size === 0) return false;
    await planned.handler?.apply([planned], contextFor(sp, options));
    return true;
  });

const eventByEvent = (store: Store, plan: BatchPlan, options: ApplyOptions): Promise<ApplyResult> =>
  store.withTransaction(async (tx) => {
    const recorded = new Set(await tx.ledger.claim(plan.unhandled.map((p) => ledgerEntry(p, options.group))));
    const failures = new Map<string, Error>();
    for (const planned of plan.work) {
      try {
        if (await applyOne(tx, planned, options)) recorded.add(planned.key);
      } catch (thrown) {
        const error = coerceError(thrown);
        if (isTransientFailure(error)) throw error;
        failures.set(planned.key, error);
      }
    }
    return { recorded, failures, redone: true };
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
  if (plan.work.length === 0 && plan.unhandled.length === 0) {
    return { recorded: new Set(), failures: new Map(), redone: false };
  }
  try {
    return await optimistic(store, plan, options);
  } catch (thrown) {
    // Any other failure is most likely one event's (a handler error, or a statement of its that
    // failed even if the handler caught it); the redo finds out which.
    if (isTransientFailure(thrown)) throw thrown;
    options.logger.debug(
      `batch of ${plan.work.length} events redone event by event: ${coerceError(thrown).message}`,
    );
    return eventByEvent(store, plan, options);
  }
};
