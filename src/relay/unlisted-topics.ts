// Topics the relay published to that are not in its --topics: well-formed, so the events go out, but
// nobody may read them (no consumer was told, no metrics series, no trimming by name). Health turns
// degraded naming them until the relay restarts with them listed.
import type { CheckResult, HealthCheck } from '../core/health.ts';

// Enough to name the problem; a flood of distinct topics must not grow memory or the health body.
const MAX_NAMED = 20;

export type UnlistedTopics = {
  record(topics: readonly string[]): void;
  readonly check: HealthCheck;
};

export const createUnlistedTopics = (listed: readonly string[]): UnlistedTopics => {
  const known = new Set(listed);
  const seen = new Set<string>();
  let more = 0;
  return {
    record: (topics) => {
      for (const topic of topics) {
        if (known.has(topic) || seen.has(topic)) continue;
        if (seen.size < MAX_NAMED) seen.add(topic);
        else more += 1;
      }
    },
    check: {
      name: 'topics',
      run: async (): Promise<CheckResult> => {
        const details = { listed: [...known], unlisted: [...seen] };
        if (seen.size === 0) return { status: 'healthy', ...details };
        const names = [...seen].join(', ') + (more > 0 ? ` and ${more} more` : '');
        return {
          status: 'degraded',
          reason: `published to topics not in --topics (nobody may read them): ${names}`,
          ...details,
        };
      },
    },
  };
};
