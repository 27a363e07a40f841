// "The stream store is down" for any bus: while the switch is on, every operation fails as an outage
// does (TransientError), so the Redis Failure drill stops Redis without stopping it. The stream shim
// opened with the same switch also fails a blocking read already waiting.
import { TransientError } from '../core/errors.ts';
import type { Bus } from '../ports/bus.ts';

export type BusFaultSwitch = { unavailable: boolean };

export const withBusFault = (bus: Bus, fault: BusFaultSwitch): Bus => {
  const guard =
    (operation: (...args: unknown[]) => Promise<unknown>) =>
    (...args: unknown[]): Promise<unknown> =>
      fault.unavailable
        ? Promise.reject(
            new TransientError('stream store unavailable (fault injected)', { dependency: 'bus' }),
          )
        : operation(...args);
  // Closing is the drill's own business, not the store's: it works during an outage too.
  const entries = Object.entries(bus).map(([name, value]) =>
    typeof value === 'function' && name !== 'close' ? [name, guard(value as never)] : [name, value],
  );
  return Object.fromEntries(entries) as Bus;
};
