// After the commit: what to acknowledge, what to park (then acknowledge), what to dead-letter (with
// its ack, atomically) and what to leave pending for a retry. Computed without I/O, then written in
// one Redis round trip. Events released from the parking store have no pending entry: they leave
// the parking store when done instead of being acknowledged.

import { deadLetterFields } from '../core/dead-letter.ts';
import { dlqStreamOf } from '../core/envelope.ts';
import { isPermanent } from '../core/errors.ts';
import { topicOfStream } from '../core/partitions.ts';
import type { Bus, BusWrite } from '../ports/bus.ts';
import type { ApplyResult } from './apply-exactly-once.ts';
import type { BatchPlan, Delivery, PlannedEvent, Rejected } from './batch-plan.ts';
import type { FailureMemory } from './failure-memory.ts';
import { deadLetterOnce } from './written-dead-letters.ts';

export type DeadLettered = Rejected & {
  readonly reason: string;
  readonly dlqStream: string;
  readonly fields: Record<string, string>;
};

export type Settlement = {
  /** Stream -> entry ids to acknowledge that are not dead-lettered. */
  readonly acks: ReadonlyMap<string, string[]>;
  readonly deadLettered: readonly DeadLettered[];
  /** Failed this delivery but have deliveries left: they stay pending (or parked). */
  readonly retrying: readonly Rejected[];
  readonly applied: readonly PlannedEvent[];
  /** Done in any way (applied, duplicate, skipped): their aggregates' holds end. */
  readonly done: readonly PlannedEvent[];
  /** Stream entries behind an earlier event of their aggregate: stored in parking, then acknowledged. */
  readonly parked: readonly PlannedEvent[];
  /** Event keys released from parking and now done: removed from parking with the effects. */
  readonly unparked: readonly string[];
  /** Released events dead-lettered: removed from parking once the dead letter is written. */
  readonly deadUnparked: readonly string[];
  /** Stream -> events already recorded by this group (an earlier delivery) or repeated in the batch. */
  readonly duplicatesBy: ReadonlyMap<string, number>;
  /** Stream -> events recorded as `skipped`: no handler for the type. */
  readonly skippedBy: ReadonlyMap<string, number>;
  readonly writes: readonly BusWrite[];
};

export type SettleOptions = {
  readonly group: string;
  readonly maxDeliveries: number;
  readonly failures: FailureMemory;
  readonly now: Date;
};

const pushTo = (map: Map<string, string[]>, stream: string, id: string): void => {
  const ids = map.get(stream);
  if (ids) ids.push(id);
  else map.set(stream, [id]);
};

const bump = (map: Map<string, number>, stream: string): void => {
  map.set(stream, (map.get(stream) ?? 0) + 1);
};

const describe = (rejected: Rejected, attempts: number, unparseable: boolean): string =>
  unparseable
    ? `${rejected.error.message} (after ${attempts} deliveries)`
    : `${rejected.error.name}: ${rejected.error.message} (after ${attempts} deliveries)`;

/** Partition streams share their topic's one dead-letter stream (`identity:3` -> `identity.dlq`). */
export const dlqStreamOfPartition = (stream: string): string => dlqStreamOf(topicOfStream(stream).topic);

export const settleBatch = (plan: BatchPlan, result: ApplyResult, options: SettleOptions): Settlement => {
  const acks = new Map<string, string[]>();
  const deadLettered: DeadLettered[] = [];
  const retrying: Rejected[] = [];
  const applied: PlannedEvent[] = [];
  const done: PlannedEvent[] = [];
  const parked: PlannedEvent[] = [];
  const unparked: string[] = [];
  const deadUnparked: string[] = [];
  const duplicatesBy = new Map<string, number>();
  const skippedBy = new Map<string, number>();
  const at = options.now.toISOString();

  const deadLetter = (rejected: Rejected, unparseable: boolean): void => {
    const { stream, entry, deliveries } = rejected.delivery;
    const fields = deadLetterFields(entry.fields, {
      stage: 'consumer',
      originStream: stream,
      originId: entry.id,
      consumerGroup: options.group,
      error: rejected.error,
      attempts: deliveries,
      firstFailedAt: options.failures.firstFailedAt(stream, entry.id) ?? at,
      failedAt: at,
    });
    const reason = describe(rejected, deliveries, unparseable);
    deadLettered.push({ ...rejected, dlqStream: dlqStreamOfPartition(stream), reason, fields });
    options.failures.forget(stream, entry.id);
    if (rejected.delivery.parked && rejected.eventId) deadUnparked.push(rejected.eventId.toLowerCase());
  };
  // A permanent failure (PermanentError, ValidationError) would fail every retry the same way.
  const fail = (rejected: Rejected): void => {
    if (isPermanent(rejected.error) || rejected.delivery.deliveries >= options.maxDeliveries)
      deadLetter(rejected, false);
    else retrying.push(rejected);
  };
  const settled = (delivery: Delivery, key?: string): void => {
    if (delivery.parked) {
      if (key !== undefined) unparked.push(key);
    } else pushTo(acks, delivery.stream, delivery.entry.id);
    options.failures.forget(delivery.stream, delivery.entry.id);
  };
  const park = (planned: PlannedEvent): void => {
    // A released event that stays parked needs nothing: it is still in the parking store.
    if (!planned.delivery.parked) parked.push(planned);
  };

  for (const rejected of plan.deadLetters) deadLetter(rejected, true);
  for (const rejected of plan.failed) fail(rejected);
  for (const planned of plan.parked) park(planned);
  for (const delivery of plan.repeats) {
    bump(duplicatesBy, delivery.stream);
    settled(delivery);
  }
  for (const planned of plan.unhandled) {
    if (result.deferred.has(planned.key)) {
      park(planned);
      continue;
    }
    bump(result.recorded.has(planned.key) ? skippedBy : duplicatesBy, planned.delivery.stream);
    settled(planned.delivery, planned.key);
    done.push(planned);
  }
  for (const planned of plan.work) {
    if (result.deferred.has(planned.key)) {
      park(planned);
      continue;
    }
    const error = result.failures.get(planned.key);
    if (error) {
      fail({
        delivery: planned.delivery,
        eventId: planned.event.eventId,
        error,
        aggregateKey: planned.aggregateKey,
      });
      continue;
    }
    if (result.recorded.has(planned.key)) applied.push(planned);
    else bump(duplicatesBy, planned.delivery.stream);
    settled(planned.delivery, planned.key);
    done.push(planned);
  }

  const writes: BusWrite[] = [];
  for (const dead of deadLettered) {
    // `once`: re-run after a crash between the dead letter and its ack (a Redis Cluster writes them
    // in two steps), the entry still pending is dead-lettered into the same one, not a second. It
    // lasts only while the exec runs; a released event that had not left parking yet when the
    // process died is found by `findWrittenDeadLetters` instead.
    const { stream, entry } = dead.delivery;
    writes.push({
      op: 'add',
      stream: dead.dlqStream,
      fields: dead.fields,
      once: deadLetterOnce(options.group, stream, entry.id),
    });
    if (dead.delivery.parked) continue;
    writes.push({
      op: 'ack',
      stream: dead.delivery.stream,
      group: options.group,
      ids: [dead.delivery.entry.id],
    });
  }
  for (const planned of parked) pushTo(acks, planned.delivery.stream, planned.delivery.entry.id);
  for (const rejected of retrying)
    options.failures.remember(rejected.delivery.stream, rejected.delivery.entry.id, at);
  return {
    acks,
    deadLettered,
    retrying,
    applied,
    done,
    parked,
    unparked,
    deadUnparked,
    duplicatesBy,
    skippedBy,
    writes,
  };
};

/**
 * One round trip: plain acks on the happy path, one atomic script when dead letters are involved.
 * Dead letters in `written` (by their `once` key) are not written again. Returns the dead letters'
 * ids, in the order of `settlement.deadLettered`.
 */
export const writeSettlement = async (
  bus: Bus,
  group: string,
  settlement: Settlement,
  written: ReadonlyMap<string, string> = new Map(),
): Promise<string[]> => {
  const writes = settlement.writes.filter(
    (w) => w.op !== 'add' || w.once === undefined || !written.has(w.once),
  );
  let added: readonly string[] = [];
  if (writes.length === 0) {
    await Promise.all([...settlement.acks].map(([stream, ids]) => bus.ack(stream, group, ids)));
  } else {
    const acks: BusWrite[] = [...settlement.acks].map(([stream, ids]) => ({ op: 'ack', stream, group, ids }));
    added = (await bus.exec([...writes, ...acks])).addedIds;
  }
  let next = 0;
  return settlement.deadLettered.map((dead) => {
    const earlier = written.get(deadLetterOnce(group, dead.delivery.stream, dead.delivery.entry.id));
    if (earlier !== undefined) return earlier;
    next += 1;
    return added[next - 1] ?? '';
  });
};
