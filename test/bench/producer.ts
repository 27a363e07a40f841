// Writes outbox rows the way a producer does (events committed in batches), either as fast as
// possible or at a fixed rate, remembering when each event committed; or fills a stream directly.
import { setTimeout as delay } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { partitionCountKey, streamOfAggregate } from '../../src/core/partitions.ts';
import type { NewOutboxEvent } from '../../src/ports/outbox.ts';
import type { Store } from '../../src/ports/store.ts';
import { streamFieldsOf, userEvents } from './events.ts';

/** Commits one batch of outbox rows: through the store (the backend's way) or a raw statement. */
export type Insert = (events: NewOutboxEvent[]) => Promise<void>;

export const storeInsert =
  (store: Store): Insert =>
  (events) =>
    store.withTransaction((tx) => tx.outbox.insert(events));

const nowMs = (): number => performance.timeOrigin + performance.now();

/** As fast as one writer can: batches of `batch` events, one commit each. */
export const produceFlat = async (insert: Insert, count: number, batch = 500): Promise<void> => {
  for (let done = 0; done < count; done += batch) {
    await insert(userEvents(Math.min(batch, count - done), done));
  }
};

/** An outbox filled before the clock starts (large batches: the filling is not measured). */
export const fillOutbox = (store: Store, count: number): Promise<void> =>
  produceFlat(storeInsert(store), count, 2_000);

/**
 * `perSecond` events for `seconds`, committed every 5 ms; returns event_id -> commit time (ms). When a
 * commit takes longer than a tick, the events due meanwhile go in the next batch, so the offered rate
 * holds on a slow machine instead of sinking to what one writer committing 5 at a time can do.
 */
export const produceAtRate = async (
  insert: Insert,
  perSecond: number,
  seconds: number,
): Promise<Map<string, number>> => {
  const tickMs = 5;
  const total = Math.round(perSecond * seconds);
  const committed = new Map<string, number>();
  const started = nowMs();
  let sent = 0;
  for (let tick = 0; sent < total; ) {
    const wait = started + tick * tickMs - nowMs();
    if (wait > 0) await delay(wait);
    tick = Math.max(tick, Math.floor((nowMs() - started) / tickMs)) + 1;
    const events = userEvents(Math.min(total, Math.round((tick * tickMs * perSecond) / 1000)) - sent, sent);
    if (events.length === 0) continue;
    await insert(events);
    const at = nowMs();
    for (const event of events) committed.set(event.eventId, at);
    sent += events.length;
  }
  return committed;
};

/** A stream holding `count` entries, written as the relay writes them, before a consumer starts. */
export const preloadStream = async (redis: Redis, key: string, count: number): Promise<void> => {
  const rows = userEvents(count).map((event, i) => streamFieldsOf(event, i));
  for (let at = 0; at < rows.length; at += 1000) {
    const pipeline = redis.pipeline();
    for (const fields of rows.slice(at, at + 1000)) pipeline.xadd(key, '*', ...fields);
    await pipeline.exec();
  }
};

/** As the relay does when it starts: consumers wait for a topic's partition count. */
export const recordPartitionCount = async (redis: Redis, keyPrefix: string, partitions: number) => {
  await redis.set(`${keyPrefix}${partitionCountKey('identity')}`, String(partitions));
};

/** Fills topic `identity`'s partition streams as the relay would, and records their count. */
export const preloadPartitions = async (
  redis: Redis,
  keyPrefix: string,
  events: readonly NewOutboxEvent[],
  partitions: number,
): Promise<void> => {
  await recordPartitionCount(redis, keyPrefix, partitions);
  for (let at = 0; at < events.length; at += 1000) {
    const pipeline = redis.pipeline();
    events.slice(at, at + 1000).forEach((event, i) => {
      const stream = streamOfAggregate('identity', event.aggregateId, partitions);
      pipeline.xadd(`${keyPrefix}${stream}`, '*', ...streamFieldsOf(event, at + i + 1));
    });
    await pipeline.exec();
  }
};
