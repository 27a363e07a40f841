// One batch end to end, in two steps so batches overlap: `commit` applies a batch in one transaction
// under the partitions' lease fences, with its parking writes (retried while a dependency is down);
// `finish` acknowledges and dead-letters it in one Redis round trip, which may run while the next
// batch commits (the ledger covers a crash in between). The order gate learns each batch's outcome
// as soon as it committed, before the next batch is planned.
import { coerceError, FencedError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Bus } from '../ports/bus.ts';
import type { LeaseFence } from '../ports/leases.ts';
import type { ParkedEvent, ParkingStore } from '../ports/parking.ts';
import type { Store } from '../ports/store.ts';
import { applyExactlyOnce } from './apply-exactly-once.ts';
import { type BatchPlan, type Delivery, type PlannedEvent, planBatch } from './batch-plan.ts';
import { countBatch, logFailures } from './batch-report.ts';
import type { FailureMemory } from './failure-memory.ts';
import type { HandlerMap } from './handler.ts';
import { withoutHeldFailures } from './held-entries.ts';
import type { ConsumerMetrics } from './metrics.ts';
import type { GateItem, OrderGate } from './order-gate.ts';
import type { Retrier } from './retrier.ts';
import { type Settlement, settleBatch, writeSettlement } from './settle.ts';
import { findWrittenDeadLetters } from './written-dead-letters.ts';

export type BatchProcessorDeps = {
  readonly bus: Bus;
  readonly store: Store;
  readonly handlers: HandlerMap;
  readonly logger: Logger;
  readonly metrics: ConsumerMetrics;
  readonly retrier: Retrier;
  readonly failures: FailureMemory;
  readonly gate: OrderGate;
  readonly now?: () => number;
};

export type BatchProcessorSettings = {
  readonly group: string;
  readonly maxDeliveries: number;
  readonly strict: boolean;
  readonly onDeadLetter: 'halt' | 'continue';
  /** How long a failed released event waits for its next attempt (--claim-idle-ms). */
  readonly claimIdleMs: number;
};

export type Committed = {
  readonly plan: BatchPlan;
  readonly settlement: Settlement;
  readonly startedAt: number;
};

/** `fenced`: a lease was lost; nothing committed, the entries stay pending for the new owner. */
export type CommitOutcome = Committed | 'fenced' | undefined;

export type BatchProcessor = {
  /** Pure and synchronous; plan right before committing, so the gate has the previous outcome. */
  plan(deliveries: readonly Delivery[]): BatchPlan;
  /** Undefined when shutdown gave up on the batch: nothing committed, it stays pending. */
  commit(plan: BatchPlan, fences: readonly LeaseFence[]): Promise<CommitOutcome>;
  /** Acknowledges and dead-letters; false when shutdown gave up (entries stay pending). */
  finish(committed: Committed): Promise<boolean>;
};

export const gateItemOf = (planned: PlannedEvent): GateItem => ({
  stream: planned.delivery.stream,
  id: planned.delivery.entry.id,
  eventId: planned.key,
  aggregateKey: planned.aggregateKey,
});

const outboxNumber = (raw: string | undefined): number | null => {
  const n = raw === undefined ? Number.NaN : Number(raw);
  return Number.isSafeInteger(n) ? n : null;
};

export const parkedEventOf = (planned: PlannedEvent, group: string): ParkedEvent => ({
  group,
  aggregateKey: planned.aggregateKey,
  stream: planned.delivery.stream,
  streamId: planned.delivery.entry.id,
  eventId: planned.key,
  outboxId: outboxNumber(planned.event.outboxId),
  fields: planned.delivery.entry.fields,
});

export const createBatchProcessor = (
  deps: BatchProcessorDeps,
  settings: BatchProcessorSettings,
): BatchProcessor => {
  const now = deps.now ?? Date.now;
  const { logger, retrier, gate } = deps;
  const { group } = settings;
  const halt = settings.onDeadLetter === 'halt';
  const giveUpLine = (plan: BatchPlan, error: unknown): void =>
    logger.warn(`left ${plan.deliveries.length} entries pending on shutdown: ${(error as Error).message}`);

  /** Inside the batch's transaction: parked events, released ones, blocks and lifted blocks. */
  const writeParking = async (parking: ParkingStore, settlement: Settlement): Promise<void> => {
    await parking.park(settlement.parked.map((p) => parkedEventOf(p, group)));
    await parking.remove(group, settlement.unparked);
    for (const dead of settlement.deadLettered) {
      if (!halt || dead.aggregateKey === undefined || dead.eventId === undefined) continue;
      await parking.block({
        group,
        aggregateKey: dead.aggregateKey,
        eventId: dead.eventId.toLowerCase(),
        deadLetterStream: dead.dlqStream,
        deadLetterId: null,
      });
    }
    // The reprocessed dead letter is applied: what waited behind it may follow.
    for (const planned of settlement.done) {
      if (gate.blockOf(planned.aggregateKey) === planned.key)
        await parking.unblock(group, planned.aggregateKey);
    }
  };

  const learn = (settlement: Settlement): void => {
    const at = now();
    gate.parked(settlement.parked.map(gateItemOf));
    for (const planned of settlement.done) {
      if (gate.settled(gateItemOf(planned))) gate.unblocked(planned.aggregateKey);
    }
    for (const failed of settlement.retrying) {
      const { aggregateKey, eventId, delivery } = failed;
      if (aggregateKey === undefined || eventId === undefined) continue;
      if (delivery.parked) {
        gate.failedParked(aggregateKey, {
          kind: 'parked',
          stream: delivery.stream,
          eventId: eventId.toLowerCase(),
          attempts: delivery.deliveries,
          retryAt: at + settings.claimIdleMs,
        });
      } else {
        gate.failed(
          { stream: delivery.stream, id: delivery.entry.id, eventId: eventId.toLowerCase(), aggregateKey },
          at,
        );
      }
    }
    for (const dead of settlement.deadLettered) {
      const { aggregateKey, eventId, delivery } = dead;
      if (aggregateKey === undefined || eventId === undefined) continue;
      const item = {
        stream: delivery.stream,
        id: delivery.entry.id,
        eventId: eventId.toLowerCase(),
        aggregateKey,
      };
      gate.deadLettered(item, halt);
    }
  };

  return {
    plan: (deliveries) =>
      planBatch(deliveries, {
        handlers: deps.handlers,
        group,
        strict: settings.strict,
        gate: gate.verdict,
      }),

    commit: async (planned, fences) => {
      if (planned.deliveries.length === 0) return undefined;
      const startedAt = now();
      let plan = planned;
      let settlement: Settlement | undefined;
      try {
        plan = await retrier.run(
          'check held entries',
          () => withoutHeldFailures(deps.store, planned, settings.group),
          { dependency: 'store' },
        );
        const outcome = await retrier.run(
          'apply batch',
          async () => {
            try {
              await applyExactlyOnce(deps.store, plan, {
                group,
                logger,
                fences,
                inTx: async (tx, result) => {
                  settlement = settleBatch(plan, result, {
                    group,
                    maxDeliveries: settings.maxDeliveries,
                    failures: deps.failures,
                    now: new Date(now()),
                  });
                  await writeParking(tx.parking, settlement);
                },
              });
              return 'committed' as const;
            } catch (thrown) {
              if (thrown instanceof FencedError) return 'fenced' as const;
              throw thrown;
            }
          },
          { dependency: 'store' },
        );
        if (outcome === 'fenced' || !settlement) {
          logger.warn(`dropped a batch of ${plan.deliveries.length} entries: a partition lease was lost`);
          return 'fenced';
        }
        learn(settlement);
        return { plan, settlement, startedAt };
      } catch (error) {
        giveUpLine(plan, error);
        return undefined;
      }
    },

    finish: async ({ plan, settlement, startedAt }) => {
      let deadLetterIds: string[];
      try {
        deadLetterIds = await retrier.run(
          'acknowledge batch',
          async () =>
            writeSettlement(
              deps.bus,
              group,
              settlement,
              await findWrittenDeadLetters(deps.bus, group, settlement.deadLettered),
            ),
          { dependency: 'bus' },
        );
        if (settlement.deadUnparked.length > 0) {
          await retrier.run('remove dead letters from parking', () =>
            deps.store.parking.remove(group, settlement.deadUnparked),
          );
        }
      } catch (error) {
        giveUpLine(plan, error);
        return false;
      }
      logFailures(logger, settlement, settings.maxDeliveries);
      countBatch(deps.metrics, plan, settlement, { startedAt, finishedAt: now() });
      if (halt) await nameDeadLetters(deps.store.parking, group, settlement, deadLetterIds, logger);
      return true;
    },
  };
};

/** Blocks are written with the transaction, before their dead letter exists; name it now (best effort). */
const nameDeadLetters = async (
  parking: ParkingStore,
  group: string,
  settlement: Settlement,
  ids: readonly string[],
  logger: Logger,
): Promise<void> => {
  for (const [i, dead] of settlement.deadLettered.entries()) {
    const id = ids[i];
    if (dead.aggregateKey === undefined || dead.eventId === undefined || id === undefined) continue;
    await parking
      .block({
        group,
        aggregateKey: dead.aggregateKey,
        eventId: dead.eventId.toLowerCase(),
        deadLetterStream: dead.dlqStream,
        deadLetterId: id,
      })
      .catch((thrown: unknown) =>
        logger.debug(`could not name dead letter ${id} in its block: ${coerceError(thrown).message}`),
      );
  }
};
