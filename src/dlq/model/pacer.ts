// Spreads work over time at a fixed rate: entry i may start at `i / rate` seconds after the first.
import type { Clock } from '../../core/clock.ts';

export type Pacer = {
  /** How many more items may start now (at least 1), waiting first if none may yet. */
  next(done: number, remaining: number): Promise<number>;
};

/** `rate` per second, or undefined for as fast as batches of `maxBatch` go. */
export const createPacer = (clock: Clock, rate: number | undefined, maxBatch: number): Pacer => {
  const start = clock.now();
  return {
    next: async (done, remaining) => {
      if (rate === undefined) return Math.min(remaining, maxBatch);
      for (;;) {
        const elapsed = clock.now() - start;
        const allowed = Math.floor((elapsed * rate) / 1000) + 1 - done;
        if (allowed > 0) return Math.min(allowed, remaining, maxBatch);
        await clock.sleep(Math.max(1, Math.ceil((done * 1000) / rate - elapsed)));
      }
    },
  };
};
