// Sorts one batch of deliveries before any I/O: which events run which handler, which are duplicates
// within the batch, which fail their handler's checks, which go straight to the DLQ, and which wait
// (park) behind an earlier event of their aggregate.
import { parseStreamFields } from '../core/envelope.ts';
import { coerceError, PermanentError } from '../core/errors.ts';
import { aggregateKeyOf } from '../core/partitions.ts';
import type { StreamEntry } from '../ports/bus.ts';
import type { LedgerEntry } from '../ports/ledger.ts';
import { type ConsumedEvent, type HandlerMap, type RunnableHandler, toRunnable } from './handler.ts';

/** One stream entry as read, with the group's delivery count for it. */
export type Delivery = {
  readonly stream: string;
  readonly entry: StreamEntry;
  readonly deliveries: number;
  /** Released from the parking store: already acknowledged on the stream, removed from parking when done. */
  readonly parked?: boolean;
  /** When it was parked (the store's clock): a dead letter written for it since is not older. */
  readonly parkedAt?: number;
};

export type PlannedEvent = {
  readonly delivery: Delivery;
  readonly event: ConsumedEvent;
  /** Lower-cased event id: the ledger key. */
  readonly key: string;
  readonly aggregateKey: string;
  readonly handler: RunnableHandler | undefined;
  readonly prepared: unknown;
};

export type Rejected = {
  readonly delivery: Delivery;
  /** The event id when the entry had a readable one (for log lines). */
  readonly eventId: string | undefined;
  readonly error: Error;
  /** Known when the entry parsed: its aggregate waits behind it. */
  readonly aggregateKey?: string;
};

export type BatchPlan = {
  readonly deliveries: readonly Delivery[];
  /** Events with a handler whose checks passed, in stream order. */
  readonly work: readonly PlannedEvent[];
  /** Events no handler takes: recorded as `skipped`. */
  readonly unhandled: readonly PlannedEvent[];
  /** A second delivery of an event earlier in the same batch: acknowledged, never run. */
  readonly repeats: readonly Delivery[];
  /** Failed their handler's `prepare`: the ordinary failure path (retry, then DLQ). */
  readonly failed: readonly Rejected[];
  /** Unparseable, or unhandled under --strict: straight to the DLQ. */
  readonly deadLetters: readonly Rejected[];
  /** Behind an earlier event of their aggregate: parked, never run in this batch. */
  readonly parked: readonly PlannedEvent[];
};

export type GateVerdict = (item: {
  readonly stream: string;
  readonly id: string;
  readonly eventId: string;
  readonly aggregateKey: string;
}) => 'run' | 'park';

export type PlanOptions = {
  readonly handlers: HandlerMap;
  readonly group: string;
  readonly strict: boolean;
  /** Per-aggregate order; absent: everything runs (replay tools, tests of the plan alone). */
  readonly gate?: GateVerdict;
};

const consumedEvent = (delivery: Delivery): ConsumedEvent =>
  parseStreamFields(delivery.entry.fields, {
    stream: delivery.stream,
    streamId: delivery.entry.id,
    deliveries: delivery.deliveries,
  });

export const planBatch = (deliveries: readonly Delivery[], options: PlanOptions): BatchPlan => {
  const plan = {
    deliveries,
    work: [] as PlannedEvent[],
    unhandled: [] as PlannedEvent[],
    repeats: [] as Delivery[],
    failed: [] as Rejected[],
    deadLetters: [] as Rejected[],
    parked: [] as PlannedEvent[],
  };
  const seen = new Set<string>();
  // Aggregates whose event failed its checks in this batch: their later events wait behind it.
  const failedHere = new Set<string>();
  for (const delivery of deliveries) {
    let event: ConsumedEvent;
    try {
      event = consumedEvent(delivery);
    } catch (thrown) {
      plan.deadLetters.push({
        delivery,
        eventId: delivery.entry.fields.event_id,
        error: coerceError(thrown),
      });
      continue;
    }
    const key = event.eventId.toLowerCase();
    if (seen.has(key)) {
      plan.repeats.push(delivery);
      continue;
    }
    seen.add(key);
    const aggregateKey = aggregateKeyOf(event);
    if (
      failedHere.has(aggregateKey) ||
      (!delivery.parked &&
        options.gate?.({ stream: delivery.stream, id: delivery.entry.id, eventId: key, aggregateKey }) ===
          'park')
    ) {
      plan.parked.push({ delivery, event, key, aggregateKey, handler: undefined, prepared: undefined });
      continue;
    }
    const handler = Object.hasOwn(options.handlers, event.eventType)
      ? options.handlers[event.eventType]
      : undefined;
    if (handler === undefined) {
      if (options.strict) {
        const error = new PermanentError(
          `no handler for event type ${event.eventType} in group ${options.group} (--strict)`,
        );
        plan.deadLetters.push({ delivery, eventId: event.eventId, error, aggregateKey });
      } else
        plan.unhandled.push({ delivery, event, key, aggregateKey, handler: undefined, prepared: undefined });
      continue;
    }
    const runnable = toRunnable(handler);
    try {
      plan.work.push({
        delivery,
        event,
        key,
        aggregateKey,
        handler: runnable,
        prepared: runnable.prepare(event),
      });
    } catch (thrown) {
      plan.failed.push({ delivery, eventId: event.eventId, error: coerceError(thrown), aggregateKey });
      failedHere.add(aggregateKey);
    }
  }
  return plan;
};

export const ledgerEntry = (planned: PlannedEvent, group: string): LedgerEntry => ({
  eventId: planned.key,
  consumerGroup: group,
  eventType: planned.event.eventType,
  streamId: planned.delivery.entry.id,
  result: planned.handler ? 'applied' : 'skipped',
});

/** Consecutive events sharing one handler object: each run is one `apply` call. */
export const runsOf = (events: readonly PlannedEvent[]): PlannedEvent[][] => {
  const runs: PlannedEvent[][] = [];
  let current: PlannedEvent[] = [];
  for (const planned of events) {
    if (current.length > 0 && current[0]?.handler !== planned.handler) {
      runs.push(current);
      current = [];
    }
    current.push(planned);
  }
  if (current.length > 0) runs.push(current);
  return runs;
};
