// What the owner of partitions does besides reading new entries: take a partition over (its parked
// aggregates into the gate, then the previous owner's pending entries, in order), retry failed
// entries after --claim-idle-ms, release parked events whose aggregate may go on, and notice blocks
// lifted by mm-dlq. Every batch goes through the same `handle` as new entries.
import { compareStreamIds } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import type { OwnedPartition, Ownership } from '../core/partition-ownership.ts';
import { streamOfAggregate } from '../core/partitions.ts';
import type { Bus } from '../ports/bus.ts';
import type { ParkedEvent, ParkingStore } from '../ports/parking.ts';
import type { Delivery } from './batch-plan.ts';
import { type DeliverySource, releasedDelivery } from './deliveries.ts';
import type { OrderGate } from './order-gate.ts';
import type { CommitOutcome } from './process-batch.ts';
import type { Retrier } from './retrier.ts';

export type PartitionWorkDeps = {
  readonly bus: Bus;
  readonly parking: ParkingStore;
  readonly source: DeliverySource;
  readonly ownership: Ownership;
  readonly gate: OrderGate;
  readonly retrier: Retrier;
  readonly logger: Logger;
  readonly now: () => number;
  /** Commits and acknowledges one batch, waiting for both. */
  readonly handle: (deliveries: Delivery[]) => Promise<CommitOutcome>;
  readonly stopping: () => boolean;
  /** Partition counts by topic, as last read. */
  readonly counts: () => ReadonlyMap<string, number>;
};

export type PartitionWorkSettings = {
  readonly group: string;
  readonly topics: readonly string[];
  readonly batchSize: number;
  readonly claimIdleMs: number;
};

export type PartitionWork = {
  takeOver(partition: OwnedPartition): Promise<void>;
  /** Pending entries idle longer than --claim-idle-ms in the partitions this consumer reads. */
  reclaim(): Promise<void>;
  /** Parked events whose aggregate may go on, oldest first, a batch at a time. */
  release(): Promise<void>;
  /** Blocks lifted elsewhere (mm-dlq), aggregates ready in the store, holds whose entry is gone. */
  poll(): Promise<void>;
  /** Before a fresh read is applied: older pending entries of its streams nobody handled yet, first. */
  handleOlderPending(deliveries: readonly Delivery[]): Promise<void>;
};

// Aggregates with parked events looked at per poll or takeover; more are found on later polls.
const RELEASABLE_LIMIT = 10_000;
// Older pending entries looked at per fresh read; the rest are found before the next one.
const OLDER_PENDING_LIMIT = 1_000;

const aggregateIdOf = (aggregateKey: string): string => aggregateKey.slice(aggregateKey.indexOf('/') + 1);

/** Per stream, the first parked event's id. */
export const frontsOf = (events: readonly ParkedEvent[]): Map<string, string> => {
  const fronts = new Map<string, string>();
  for (const event of events) {
    const front = fronts.get(event.stream);
    if (front === undefined || compareStreamIds(event.streamId, front) < 0)
      fronts.set(event.stream, event.streamId);
  }
  return fronts;
};

export const createPartitionWork = (
  deps: PartitionWorkDeps,
  settings: PartitionWorkSettings,
): PartitionWork => {
  const { gate, ownership, retrier, parking, logger } = deps;
  const { group } = settings;
  const cursors = new Map<string, string>();

  /** The streams of this consumer's topics the aggregate's events go to. */
  const streamsOf = (aggregateKey: string): string[] => {
    const id = aggregateIdOf(aggregateKey);
    const counts = deps.counts();
    return settings.topics.flatMap((topic) => {
      const n = counts.get(topic);
      return n === undefined ? [] : [streamOfAggregate(topic, id, n)];
    });
  };
  const ownsAggregate = (aggregateKey: string, readable: ReadonlySet<string>): boolean =>
    streamsOf(aggregateKey).some((stream) => readable.has(stream));

  const loadBlocks = async (): Promise<void> => {
    const blocks = await retrier.run('read blocked aggregates', () => parking.blocks(group), {
      dependency: 'store',
    });
    for (const block of blocks) gate.block(block.aggregateKey, block.eventId);
  };

  /** Aggregates of the stream with parked events and no block: the gate learns where they wait. */
  const loadParked = async (stream: string): Promise<string[]> => {
    const keys = await retrier.run(
      'read parked aggregates',
      () => parking.releasable(group, RELEASABLE_LIMIT),
      {
        dependency: 'store',
      },
    );
    const mine = keys.filter((key) => streamsOf(key).includes(stream));
    for (const key of mine) {
      const events = await retrier.run('read parked events', () => parking.parked(group, key), {
        dependency: 'store',
      });
      gate.setFronts(key, frontsOf(events));
    }
    return mine;
  };

  const takeOver = async (partition: OwnedPartition): Promise<void> => {
    const { stream } = partition;
    await retrier.run('create consumer group', () => deps.source.ensureGroup(stream), { dependency: 'bus' });
    await loadBlocks();
    const parked = await loadParked(stream);
    // The previous owner's pending entries first, in id order: they are older than anything unread.
    let cursor = '0-0';
    let taken = 0;
    do {
      const page = await retrier.run(
        'take over pending entries',
        () => deps.source.claim(stream, cursor, 0),
        {
          dependency: 'bus',
        },
      );
      cursor = page.next;
      if (page.deliveries.length === 0) continue;
      taken += page.deliveries.length;
      const outcome = await deps.handle(page.deliveries);
      if (outcome === 'fenced') return;
    } while (cursor !== '0-0' && !deps.stopping());
    if (!ownership.fence(stream)) return;
    ownership.activate(stream);
    for (const key of parked) gate.queueRelease(key);
    logger.info(
      `working on ${stream}: ${taken} pending entries taken over, ${parked.length} aggregates with parked events`,
      { stream, token: partition.fence.token },
    );
  };

  /**
   * Pending entries of the read's streams older than the read that no hold here explains (a failed
   * entry waiting for its retry): delivered to a read whose reply was never handled, because its
   * owner lost the partition before it could (a late read under load, a handover). Claimed and
   * handled before the read, which would otherwise overtake them.
   */
  const handleOlderPending = async (deliveries: readonly Delivery[]): Promise<void> => {
    const firsts = new Map<string, string>();
    for (const { stream, entry, parked } of deliveries) {
      if (parked || !ownership.fence(stream)) continue;
      const first = firsts.get(stream);
      if (first === undefined || compareStreamIds(entry.id, first) < 0) firsts.set(stream, entry.id);
    }
    // Every partition of the read at once: one round trip per read, however many it spans.
    const olderByStream = await Promise.all(
      [...firsts].map(async ([stream, first]) => ({
        stream,
        older: await retrier.run(
          'look for older pending entries',
          () =>
            deps.bus.pendingRange(stream, group, {
              start: '-',
              end: `(${first}`,
              count: OLDER_PENDING_LIMIT,
            }),
          { dependency: 'bus' },
        ),
      })),
    );
    for (const { stream, older } of olderByStream) {
      if (older.length === 0) continue;
      const held = gate.heldEntries(stream);
      const unhandled = older.filter((p) => !held.has(p.id));
      if (unhandled.length === 0) continue;
      logger.warn(
        `${unhandled.length} pending entries of ${stream} older than the last read were never handled (read by an owner that lost the partition first); handling them before it`,
        { stream, ids: unhandled.slice(0, 20).map((p) => p.id) },
      );
      const claimed: Delivery[] = [];
      for (const { id } of unhandled) {
        const page = await retrier.run(
          'claim older pending entries',
          () => deps.source.claim(stream, id, 0, 1),
          {
            dependency: 'bus',
          },
        );
        claimed.push(...page.deliveries);
      }
      if (claimed.length > 0 && (await deps.handle(claimed)) === 'fenced') return;
    }
  };

  const reclaim = async (): Promise<void> => {
    for (const stream of ownership.readable(deps.now())) {
      for (let page = 0; page < 10 && !deps.stopping(); page += 1) {
        const cursor = cursors.get(stream) ?? '0-0';
        const claimed = await retrier.run(
          'reclaim idle entries',
          () => deps.source.claim(stream, cursor, settings.claimIdleMs),
          { dependency: 'bus' },
        );
        cursors.set(stream, claimed.next);
        for (const id of claimed.deleted) gate.dropHold(stream, id);
        if (claimed.deliveries.length > 0) await deps.handle(claimed.deliveries);
        if (claimed.next === '0-0') break;
      }
    }
  };

  const releaseRound = async (keys: readonly string[]): Promise<void> => {
    const readable = new Set(ownership.readable(deps.now()));
    const deliveries: Delivery[] = [];
    const fetched = new Map<string, ParkedEvent[]>();
    for (const key of keys) {
      if (!ownsAggregate(key, readable)) continue;
      const events = (
        await retrier.run('read parked events', () => parking.parked(group, key), { dependency: 'store' })
      ).filter((event) => readable.has(event.stream));
      fetched.set(key, events);
      const hold = gate.hold(key);
      for (const event of events) {
        const attempts = hold?.kind === 'parked' && hold.eventId === event.eventId ? hold.attempts : 0;
        deliveries.push(releasedDelivery(event, attempts));
      }
    }
    const outcome = deliveries.length > 0 ? await deps.handle(deliveries) : undefined;
    if (deliveries.length > 0 && (outcome === undefined || outcome === 'fenced')) {
      for (const key of fetched.keys()) gate.queueRelease(key);
      return;
    }
    const released = new Set(outcome && outcome !== 'fenced' ? outcome.settlement.unparked : []);
    for (const dead of outcome && outcome !== 'fenced' ? outcome.settlement.deadUnparked : [])
      released.add(dead);
    // The loop is serial: nothing was parked since the fetch, so what is left is exactly what waits.
    for (const [key, events] of fetched)
      gate.setFronts(key, frontsOf(events.filter((e) => !released.has(e.eventId))));
  };

  const release = async (): Promise<void> => {
    for (let round = 0; round < 10 && !deps.stopping(); round += 1) {
      const keys = gate.takeReleases(deps.now());
      if (keys.length === 0) return;
      // A batch's worth of aggregates at a time; the rest wait for the next round.
      const now = keys.slice(0, Math.max(1, Math.floor(settings.batchSize / 10)));
      for (const key of keys.slice(now.length)) gate.queueRelease(key);
      await releaseRound(now);
    }
  };

  const poll = async (): Promise<void> => {
    const blocked = gate.blockedKeys();
    if (blocked.length > 0) {
      const still = new Set((await parking.blocks(group, blocked)).map((b) => b.aggregateKey));
      for (const key of blocked) {
        if (still.has(key)) continue;
        logger.info(`aggregate ${key} is no longer blocked: its parked events follow in order`, {
          aggregate_key: key,
        });
        gate.unblocked(key);
      }
    }
    const readable = new Set(ownership.readable(deps.now()));
    for (const key of await parking.releasable(group, RELEASABLE_LIMIT)) {
      if (!ownsAggregate(key, readable)) continue;
      if (gate.isBlocked(key)) gate.unblocked(key);
      else if (gate.hold(key) === undefined) gate.queueRelease(key);
    }
    // A hold whose entry left the pending list (acknowledged elsewhere, trimmed) would hold for ever.
    for (const stale of gate.staleHolds(deps.now() - 3 * settings.claimIdleMs)) {
      const pending = await deps.bus.pendingRange(stale.stream, group, {
        start: stale.id,
        end: stale.id,
        count: 1,
      });
      if (pending.length === 0) gate.dropHold(stale.stream, stale.id);
    }
  };

  return { takeOver, reclaim, release, poll, handleOlderPending };
};
