// One batch end to end, in two steps so batches overlap: `commit` applies a batch in one transaction
// (retried while a dependency is down); `finish` acknowledges and dead-letters it in one Redis round
// trip, which may run while the next batch commits (the ledger covers a crash in between).
import type { Logger } from '../core/logger.ts';
import type { Bus } from '../ports/bus.ts';
import type { Store } from '../ports/store.ts';
import { applyExactlyOnce } from './apply-exactly-once.ts';
import { type BatchPlan, type Delivery, planBatch } from './batch-plan.ts';
import { countBatch, logFailures } from './batch-report.ts';
import type { FailureMemory } from './failure-memory.ts';
import type { HandlerMap } from './handler.ts';
import { withoutHeldFailures } from './held-entries.ts';
import type { ConsumerMetrics } from './metrics.ts';
import type { Retrier } from './retrier.ts';
import { type Settlement, settleBatch, writeSettlement } from './settle.ts';

export type BatchProcessorDeps = {
  readonly bus: Bus;
  readonly store: Store;
  readonly handlers: HandlerMap;
  readonly logger: Logger;
  readonly metrics: ConsumerMetrics;
  readonly retrier: Retrier;
  readonly failures: FailureMemory;
  readonly now?: () => number;
};

export type BatchProcessorSettings = {
  readonly group: string;
  readonly maxDeliveries: number;
  readonly strict: boolean;
};

export type Committed = {
  readonly plan: BatchPlan;
  readonly settlement: Settlement;
  readonly startedAt: number;
};

export type BatchProcessor = {
  /** Pure and synchronous, so the next batch can be planned while the current one commits. */
  plan(deliveries: readonly Delivery[]): BatchPlan;
  /** Undefined when shutdown gave up on the batch: nothing committed, it stays pending. */
  commit(plan: BatchPlan): Promise<Committed | undefined>;
  /** Acknowledges and dead-letters; false when shutdown gave up (entries stay pending). */
  finish(committed: Committed): Promise<boolean>;
};

export const createBatchProcessor = (
  deps: BatchProcessorDeps,
  settings: BatchProcessorSettings,
): BatchProcessor => {
  const now = deps.now ?? Date.now;
  const { logger, retrier } = deps;
  const giveUpLine = (plan: BatchPlan, error: unknown): void =>
    logger.warn(`left ${plan.deliveries.length} entries pending on shutdown: ${(error as Error).message}`);

  return {
    plan: (deliveries) =>
      planBatch(deliveries, { handlers: deps.handlers, group: settings.group, strict: settings.strict }),

    commit: async (planned) => {
      if (planned.deliveries.length === 0) return undefined;
      const startedAt = now();
      let plan = planned;
      try {
        plan = await retrier.run(
          'check held entries',
          () => withoutHeldFailures(deps.store, planned, settings.group),
          { dependency: 'store' },
        );
        const result = await retrier.run(
          'apply batch',
          () => applyExactlyOnce(deps.store, plan, { group: settings.group, logger }),
          { dependency: 'store' },
        );
        const settlement = settleBatch(plan, result, {
          group: settings.group,
          maxDeliveries: settings.maxDeliveries,
          failures: deps.failures,
          now: new Date(now()),
        });
        return { plan, settlement, startedAt };
      } catch (error) {
        giveUpLine(plan, error);
        return undefined;
      }
    },

    finish: async ({ plan, settlement, startedAt }) => {
      try {
        await retrier.run('acknowledge batch', () => writeSettlement(deps.bus, settings.group, settlement), {
          dependency: 'bus',
        });
      } catch (error) {
        giveUpLine(plan, error);
        return false;
      }
      logFailures(logger, settlement, settings.maxDeliveries);
      countBatch(deps.metrics, plan, settlement, { startedAt, finishedAt: now() });
      return true;
    },
  };
};
