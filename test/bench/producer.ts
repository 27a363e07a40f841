// Writes outbox rows the way the backend does (events committed in transactions), either as fast
// as possible or at a fixed rate, remembering when each event committed.
import { setTimeout as delay } from 'node:timers/promises';
import type { Store } from '../../src/ports/store.ts';
import { userEvents } from './events.ts';

const nowMs = (): number => performance.timeOrigin + performance.now();

/** As fast as one writer can: batches of `batch` events per transaction. */
export const produceFlat = async (store: Store, count: number, batch = 500): Promise<void> => {
  for (let done = 0; done < count; done += batch) {
    const events = userEvents(Math.min(batch, count - done), done);
    await store.withTransaction((tx) => tx.outbox.insert(events));
  }
};

/** `perSecond` events for `seconds`, committed every 5 ms; returns event_id -> commit time (ms). */
export const produceAtRate = async (
  store: Store,
  perSecond: number,
  seconds: number,
): Promise<Map<string, number>> => {
  const tickMs = 5;
  const perTick = Math.max(1, Math.round((perSecond * tickMs) / 1000));
  const ticks = Math.round((seconds * 1000) / tickMs);
  const committed = new Map<string, number>();
  const started = nowMs();
  for (let tick = 0; tick < ticks; tick += 1) {
    const due = started + tick * tickMs;
    const wait = due - nowMs();
    if (wait > 0) await delay(wait);
    const events = userEvents(perTick, tick * perTick);
    await store.withTransaction((tx) => tx.outbox.insert(events));
    const at = nowMs();
    for (const event of events) committed.set(event.eventId, at);
  }
  return committed;
};
