// mm-relay configuration: the common flags plus batching, retries, size limit, trimming and health
// thresholds; flag > environment > default, every problem reported at once.
import {
  type CommonConfig,
  type CommonFlags,
  type Env,
  failOnProblems,
  type Problems,
  parseInteger,
  parseTopicList,
  pick,
  requireDatabase,
  resolveCommon,
} from '../core/config.ts';

export type RelayConfig = CommonConfig & {
  readonly topics: readonly string[];
  readonly batchSize: number;
  /** Batches per drain transaction: the next is claimed while one is published. */
  readonly batchesPerCommit: number;
  readonly pollIntervalMs: number;
  readonly maxAttempts: number;
  readonly maxEventBytes: number;
  /** Per-event backoff after a failure of its own (first delay, then doubling up to the max). */
  readonly retryBackoffMs: number;
  readonly retryBackoffMaxMs: number;
  /** 0 = never trim. */
  readonly streamMaxLen: number;
  /** 0 = no hard cap. */
  readonly streamHardMax: number;
  readonly trimIntervalMs: number;
  readonly backlogWarn: number;
  readonly backlogAgeWarnS: number;
  readonly shutdownTimeoutMs: number;
};

export type RelayFlags = CommonFlags & {
  readonly topics?: string;
  readonly batchSize?: string;
  readonly batchesPerCommit?: string;
  readonly pollIntervalMs?: string;
  readonly maxAttempts?: string;
  readonly maxEventBytes?: string;
  readonly retryBackoffMs?: string;
  readonly retryBackoffMaxMs?: string;
  readonly streamMaxlen?: string;
  readonly streamHardMax?: string;
  readonly trimIntervalMs?: string;
  readonly backlogWarn?: string;
  readonly backlogAgeWarnS?: string;
  readonly shutdownTimeoutMs?: string;
};

export const relayDefaults = {
  port: 8080,
  topics: 'identity',
  batchSize: 500,
  batchesPerCommit: 8,
  pollIntervalMs: 1_000,
  maxAttempts: 5,
  maxEventBytes: 1_048_576,
  retryBackoffMs: 500,
  retryBackoffMaxMs: 60_000,
  streamMaxLen: 10_000,
  streamHardMax: 100_000,
  trimIntervalMs: 1_000,
  backlogWarn: 1_000,
  backlogAgeWarnS: 60,
  shutdownTimeoutMs: 10_000,
} as const;

type NumberSetting = Exclude<keyof typeof relayDefaults, 'port' | 'topics'>;

// Flag name, environment variable and accepted range of each numeric setting.
const numberSettings: Record<NumberSetting, { flag: string; env: string; min: number; max?: number }> = {
  batchSize: { flag: '--batch-size', env: 'MM_RELAY_BATCH_SIZE', min: 1, max: 100_000 },
  batchesPerCommit: { flag: '--batches-per-commit', env: 'MM_RELAY_BATCHES_PER_COMMIT', min: 1, max: 1_000 },
  pollIntervalMs: { flag: '--poll-interval-ms', env: 'MM_RELAY_POLL_INTERVAL_MS', min: 10, max: 3_600_000 },
  maxAttempts: { flag: '--max-attempts', env: 'MM_RELAY_MAX_ATTEMPTS', min: 1, max: 1_000 },
  maxEventBytes: {
    flag: '--max-event-bytes',
    env: 'MM_RELAY_MAX_EVENT_BYTES',
    min: 256,
    max: 512 * 1024 ** 2,
  },
  retryBackoffMs: { flag: '--retry-backoff-ms', env: 'MM_RELAY_RETRY_BACKOFF_MS', min: 1, max: 3_600_000 },
  retryBackoffMaxMs: {
    flag: '--retry-backoff-max-ms',
    env: 'MM_RELAY_RETRY_BACKOFF_MAX_MS',
    min: 1,
    max: 86_400_000,
  },
  streamMaxLen: { flag: '--stream-maxlen', env: 'MM_RELAY_STREAM_MAXLEN', min: 0 },
  streamHardMax: { flag: '--stream-hard-max', env: 'MM_RELAY_STREAM_HARD_MAX', min: 0 },
  trimIntervalMs: { flag: '--trim-interval-ms', env: 'MM_RELAY_TRIM_INTERVAL_MS', min: 0, max: 3_600_000 },
  backlogWarn: { flag: '--backlog-warn', env: 'MM_RELAY_BACKLOG_WARN', min: 0 },
  backlogAgeWarnS: { flag: '--backlog-age-warn-s', env: 'MM_RELAY_BACKLOG_AGE_WARN_S', min: 0 },
  shutdownTimeoutMs: {
    flag: '--shutdown-timeout-ms',
    env: 'MM_RELAY_SHUTDOWN_TIMEOUT_MS',
    min: 100,
    max: 3_600_000,
  },
};

const flagValue: Record<NumberSetting, (flags: RelayFlags) => string | undefined> = {
  batchSize: (f) => f.batchSize,
  batchesPerCommit: (f) => f.batchesPerCommit,
  pollIntervalMs: (f) => f.pollIntervalMs,
  maxAttempts: (f) => f.maxAttempts,
  maxEventBytes: (f) => f.maxEventBytes,
  retryBackoffMs: (f) => f.retryBackoffMs,
  retryBackoffMaxMs: (f) => f.retryBackoffMaxMs,
  streamMaxLen: (f) => f.streamMaxlen,
  streamHardMax: (f) => f.streamHardMax,
  trimIntervalMs: (f) => f.trimIntervalMs,
  backlogWarn: (f) => f.backlogWarn,
  backlogAgeWarnS: (f) => f.backlogAgeWarnS,
  shutdownTimeoutMs: (f) => f.shutdownTimeoutMs,
};

const checkCombinations = (config: Omit<RelayConfig, keyof CommonConfig>, problems: Problems): void => {
  if (config.streamMaxLen > 0 && config.streamHardMax > 0 && config.streamHardMax < config.streamMaxLen) {
    problems.push(
      `--stream-hard-max (${config.streamHardMax}) must be at least --stream-maxlen (${config.streamMaxLen}), or 0 for no hard cap`,
    );
  }
  if (config.retryBackoffMaxMs < config.retryBackoffMs) {
    problems.push(
      `--retry-backoff-max-ms (${config.retryBackoffMaxMs}) must be at least --retry-backoff-ms (${config.retryBackoffMs})`,
    );
  }
};

export const loadRelayConfig = (flags: RelayFlags, env: Env): RelayConfig => {
  const problems: Problems = [];
  const common = resolveCommon(flags, env, { port: relayDefaults.port }, problems);
  requireDatabase(common.deployment, problems);
  const topics = parseTopicList(pick(flags.topics, env.MM_TOPICS) ?? relayDefaults.topics, problems);
  const numbers = {} as Record<NumberSetting, number>;
  type Setting = (typeof numberSettings)[NumberSetting];
  for (const [name, setting] of Object.entries(numberSettings) as [NumberSetting, Setting][]) {
    const raw = pick(flagValue[name](flags), env[setting.env]);
    const range = setting.max === undefined ? { min: setting.min } : { min: setting.min, max: setting.max };
    numbers[name] = parseInteger(raw, setting.flag, relayDefaults[name], problems, range);
  }
  const relay = { topics, ...numbers };
  checkCombinations(relay, problems);
  failOnProblems(problems);
  return { ...common, ...relay };
};
