// mm-relay's settings table (partitions and their leases, batching, retries, size limit, trimming,
// health thresholds) and its pure loader: flag > environment > default, every problem reported at once.
import {
  type Env,
  loadWithDeployment,
  type Problems,
  serviceSettings,
  type WithDeployment,
} from '../core/config.ts';
import { MAX_PARTITIONS } from '../core/partitions.ts';
import { duration, integer, topicList } from '../core/setting-parsers.ts';
import type { Parser } from '../core/settings.ts';
import { defaultsOf, defineSettings, type FlagsOf, type ValuesOf } from '../core/settings.ts';

const ms = (max: number) => integer(1, max);

/** A duration (`7d`, `12h`) in milliseconds, or `0` for none. */
const durationOrOff: Parser<number> = {
  parse: (raw) => (raw.trim() === '0' ? 0 : duration.parse(raw)),
  accepts: 'a duration like 12h or 7d, or 0 for none',
};

export const relaySettings = defineSettings({
  ...serviceSettings(8080),
  topics: {
    flag: '--topics <list>',
    env: 'MM_TOPICS',
    default: ['identity'],
    parse: topicList,
    help: 'topics whose metrics and streams are reported',
  },
  partitions: {
    flag: '--partitions <n>',
    env: 'MM_PARTITIONS',
    default: 1,
    parse: integer(1, MAX_PARTITIONS),
    help: 'partitions per topic: an event goes to hash(aggregate_id) mod n; changed only once drained',
  },
  leaseMs: {
    flag: '--lease-ms <ms>',
    env: 'MM_RELAY_LEASE_MS',
    default: 10_000,
    parse: integer(300, 600_000),
    help: "outbox partition lease time: relays split the partitions, a dead relay's move to the others within it",
  },
  batchSize: {
    flag: '--batch-size <n>',
    env: 'MM_RELAY_BATCH_SIZE',
    default: 500,
    parse: integer(1, 100_000),
    help: 'rows claimed per batch',
  },
  batchesPerCommit: {
    flag: '--batches-per-commit <n>',
    env: 'MM_RELAY_BATCHES_PER_COMMIT',
    default: 8,
    parse: integer(1, 1_000),
    help: 'batches per drain transaction, the next claimed while one publishes',
  },
  pollIntervalMs: {
    flag: '--poll-interval-ms <ms>',
    env: 'MM_RELAY_POLL_INTERVAL_MS',
    default: 1_000,
    parse: integer(10, 3_600_000),
    help: 'poll the outbox this often besides notifications',
  },
  maxAttempts: {
    flag: '--max-attempts <n>',
    env: 'MM_RELAY_MAX_ATTEMPTS',
    default: 5,
    parse: integer(1, 1_000),
    help: 'failures of its own before an event goes to <topic>.dlq',
  },
  maxEventBytes: {
    flag: '--max-event-bytes <n>',
    env: 'MM_RELAY_MAX_EVENT_BYTES',
    default: 1_048_576,
    parse: integer(256, 512 * 1024 ** 2),
    help: 'largest stream entry published, field names and values',
  },
  retryBackoffMs: {
    flag: '--retry-backoff-ms <ms>',
    env: 'MM_RELAY_RETRY_BACKOFF_MS',
    default: 500,
    parse: ms(3_600_000),
    help: 'first delay before retrying a failed event, doubling up to --retry-backoff-max-ms',
  },
  retryBackoffMaxMs: {
    flag: '--retry-backoff-max-ms <ms>',
    env: 'MM_RELAY_RETRY_BACKOFF_MAX_MS',
    default: 60_000,
    parse: ms(86_400_000),
    help: 'longest delay between retries of an event',
  },
  streamMaxLen: {
    flag: '--stream-maxlen <n>',
    env: 'MM_RELAY_STREAM_MAXLEN',
    default: 10_000,
    parse: integer(0),
    help: 'keep streams near this many entries, never trimming unacknowledged ones; 0 = no cap',
  },
  streamHardMax: {
    flag: '--stream-hard-max <n>',
    env: 'MM_RELAY_STREAM_HARD_MAX',
    default: 100_000,
    parse: integer(0),
    help: 'hard cap that trims even unacknowledged entries (counted, logged); 0 = none',
  },
  streamMaxAge: {
    flag: '--stream-max-age <duration>',
    env: 'MM_RELAY_STREAM_MAX_AGE',
    default: 0,
    parse: durationOrOff,
    help: 'trim entries older than this (by id time), never unacknowledged ones (soft); 0 = none',
  },
  streamMaxBytes: {
    flag: '--stream-max-bytes <n>',
    env: 'MM_RELAY_STREAM_MAX_BYTES',
    default: 0,
    parse: integer(0),
    help: 'keep each stream near this memory (approximate), never trimming unacknowledged entries; 0 = none',
  },
  streamHardMaxBytes: {
    flag: '--stream-hard-max-bytes <n>',
    env: 'MM_RELAY_STREAM_HARD_MAX_BYTES',
    default: 0,
    parse: integer(0),
    help: 'hard memory cap that trims even unacknowledged entries (counted, logged); 0 = none',
  },
  deadGroupAfterMs: {
    flag: '--dead-group-after <duration>',
    env: 'MM_RELAY_DEAD_GROUP_AFTER',
    default: 600_000,
    defaultText: '10m',
    parse: duration,
    help: 'a group with a backlog and no live consumer this long is reported dead (health, alert)',
  },
  trimIntervalMs: {
    flag: '--trim-interval-ms <ms>',
    env: 'MM_RELAY_TRIM_INTERVAL_MS',
    default: 1_000,
    parse: integer(0, 3_600_000),
    help: 'sweep every stream this often (trims without new events, measures hard-limit fill and dead groups); 0 = also after every batch, the timer every 1 s',
  },
  backlogWarn: {
    flag: '--backlog-warn <n>',
    env: 'MM_RELAY_BACKLOG_WARN',
    default: 1_000,
    parse: integer(0),
    help: 'health is degraded above this many waiting rows',
  },
  backlogAgeWarnS: {
    flag: '--backlog-age-warn-s <s>',
    env: 'MM_RELAY_BACKLOG_AGE_WARN_S',
    default: 60,
    parse: integer(0),
    help: 'health is degraded when the oldest row waits longer',
  },
  shutdownTimeoutMs: {
    flag: '--shutdown-timeout-ms <ms>',
    env: 'MM_RELAY_SHUTDOWN_TIMEOUT_MS',
    default: 10_000,
    parse: integer(100, 3_600_000),
    help: 'on SIGTERM/SIGINT, finish and exit within this time',
  },
});

export type RelayConfig = WithDeployment<ValuesOf<typeof relaySettings>>;
export type RelayFlags = FlagsOf<typeof relaySettings>;

export const relayDefaults = defaultsOf(relaySettings);

const checkCombinations = (config: RelayConfig, problems: Problems): void => {
  if (config.streamMaxLen > 0 && config.streamHardMax > 0 && config.streamHardMax < config.streamMaxLen) {
    problems.push(
      `--stream-hard-max (${config.streamHardMax}) must be at least --stream-maxlen (${config.streamMaxLen}), or 0 for no hard cap`,
    );
  }
  if (
    config.streamMaxBytes > 0 &&
    config.streamHardMaxBytes > 0 &&
    config.streamHardMaxBytes < config.streamMaxBytes
  ) {
    problems.push(
      `--stream-hard-max-bytes (${config.streamHardMaxBytes}) must be at least --stream-max-bytes (${config.streamMaxBytes}), or 0 for no hard cap`,
    );
  }
  if (config.retryBackoffMaxMs < config.retryBackoffMs) {
    problems.push(
      `--retry-backoff-max-ms (${config.retryBackoffMaxMs}) must be at least --retry-backoff-ms (${config.retryBackoffMs})`,
    );
  }
};

export const loadRelayConfig = (flags: RelayFlags, env: Env): RelayConfig =>
  loadWithDeployment(relaySettings, flags, env, { check: checkCombinations });
