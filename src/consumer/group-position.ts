// The group's last processed entry as the bus records it, so `last_processed_event_id` survives a
// restart: every entry up to the last delivered one is acknowledged when nothing is pending;
// otherwise the newest entry before the oldest pending one is.
import type { Bus } from '../ports/bus.ts';
import type { GroupLag } from './lag-monitor.ts';

export const lastProcessedId = async (bus: Bus, lag: GroupLag): Promise<string | null> => {
  if (!lag.exists) return null;
  if (lag.pending === 0 || lag.oldestUnackedId === null) {
    const id = lag.lastDeliveredId;
    return id === null || id === '0-0' || id === '0' ? null : id;
  }
  const [before] = await bus.range(lag.topic, { end: `(${lag.oldestUnackedId}`, reverse: true, count: 1 });
  return before?.id ?? null;
};
