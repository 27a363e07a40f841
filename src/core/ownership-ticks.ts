// When a member of a lease group ticks its ownership: a full tick (heartbeat, renewals) every third
// of the lease, and in between a cheap look at the member list, so a join, a leave or a death moves
// partitions within a fraction of a second instead of a lease. While a wanted partition is not held
// yet (its old owner is letting go) every look is a tick, to take it as soon as it is free.
import type { Ownership } from './partition-ownership.ts';

export type OwnershipTicks = { stop(): void };

export type OwnershipTicksOptions = {
  readonly ownership: Pick<Ownership, 'settled' | 'membersChanged'>;
  /** The member's full tick (ownership.tick plus what it does with the changes). */
  readonly tick: () => Promise<void>;
  readonly tickEveryMs: number;
  readonly now: () => number;
  /** How often to look between full ticks. */
  readonly lookEveryMs?: number;
};

const LOOK_EVERY_MS = 250;

export const startOwnershipTicks = (options: OwnershipTicksOptions): OwnershipTicks => {
  const { ownership, tickEveryMs, now } = options;
  const lookEveryMs = Math.min(options.lookEveryMs ?? LOOK_EVERY_MS, tickEveryMs);
  let lastTick = now();
  let looking = false;

  const due = async (): Promise<boolean> => {
    if (now() - lastTick >= tickEveryMs || !ownership.settled()) return true;
    // A store that does not answer is the full tick's business (it logs and retries).
    return ownership.membersChanged().catch(() => false);
  };

  const look = async (): Promise<void> => {
    if (looking) return;
    looking = true;
    try {
      if (await due()) {
        lastTick = now();
        await options.tick();
      }
    } finally {
      looking = false;
    }
  };

  const timer = setInterval(() => void look().catch(() => {}), lookEveryMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
};
