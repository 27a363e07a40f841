// Notices reprocessed events that fail again: new entries in the DLQ carrying an event id this run
// put back. Checked at most twice a second, reading only what was added since the last look.
import type { Bus } from '../../ports/bus.ts';
import { scanEntries } from './scan.ts';

export type ReturnWatch = {
  expect(eventId: string | undefined): void;
  /** How many came back so far; `now` skips the twice-a-second throttle. */
  returned(now?: boolean): Promise<number>;
};

export const createReturnWatch = async (
  bus: Bus,
  dlqStream: string,
  intervalMs = 500,
): Promise<ReturnWatch> => {
  const [newest] = await bus.range(dlqStream, { reverse: true, count: 1 });
  let cursor = newest?.id ?? '0-0';
  const expected = new Set<string>();
  let count = 0;
  let lastLook = 0;
  return {
    expect: (eventId) => {
      if (eventId) expected.add(eventId.toLowerCase());
    },
    returned: async (now = false) => {
      if (!now && Date.now() - lastLook < intervalMs) return count;
      lastLook = Date.now();
      for await (const entry of scanEntries(bus, dlqStream, { start: `(${cursor}`, pageSize: 1000 })) {
        cursor = entry.id;
        if (expected.has(entry.fields.event_id?.toLowerCase() ?? '')) count += 1;
      }
      return count;
    },
  };
};
