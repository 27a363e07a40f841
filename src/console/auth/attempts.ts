// Sign-in attempts, limited per client address: after `max` failures within the window every further
// attempt (right or wrong) is refused until the window has passed, so tokens cannot be guessed.
export type AttemptLimiter = {
  /** Milliseconds until this client may try again; 0 when it may now. */
  blockedFor(client: string): number;
  failed(client: string): void;
  succeeded(client: string): void;
};

const MAX_CLIENTS = 10_000;

export const createAttemptLimiter = (options: {
  readonly max: number;
  readonly windowMs: number;
  readonly now?: () => number;
}): AttemptLimiter => {
  const now = options.now ?? Date.now;
  const failures = new Map<string, number[]>();
  const recent = (client: string): number[] => {
    const since = now() - options.windowMs;
    const kept = (failures.get(client) ?? []).filter((at) => at > since);
    if (kept.length === 0) failures.delete(client);
    else failures.set(client, kept);
    return kept;
  };
  return {
    blockedFor: (client) => {
      const kept = recent(client);
      if (kept.length < options.max) return 0;
      return Math.max(1, (kept[kept.length - options.max] ?? now()) + options.windowMs - now());
    },
    failed: (client) => {
      if (failures.size >= MAX_CLIENTS && !failures.has(client))
        failures.delete(failures.keys().next().value as string);
      failures.set(client, [...recent(client), now()]);
    },
    succeeded: (client) => {
      failures.delete(client);
    },
  };
};
