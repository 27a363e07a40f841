// mm-consumer configuration: flag > environment > default, every problem reported at once (exit 78).
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
import { isStreamId } from '../core/ids.ts';

export type ConsumerSettings = {
  readonly group: string;
  readonly topics: readonly string[];
  /** This process's consumer name inside the group (pending entries are owned by it). */
  readonly name: string;
  readonly batchSize: number;
  readonly blockMs: number;
  readonly claimIdleMs: number;
  readonly maxDeliveries: number;
  /** Where a new group starts: `0` (the whole stream), `$` (only new entries) or a stream id. */
  readonly startId: string;
  readonly lagWarnS: number;
  /** Events without a handler go to the DLQ instead of being recorded as skipped. */
  readonly strict: boolean;
  /** A module exporting handlers by event type; absent: the built-in handlers of the group. */
  readonly handlerModule: string | undefined;
};

export type ConsumerConfig = CommonConfig & ConsumerSettings;

export type ConsumerFlags = CommonFlags & {
  readonly group?: string;
  readonly topics?: string;
  readonly name?: string;
  readonly batchSize?: string;
  readonly blockMs?: string;
  readonly claimIdleMs?: string;
  readonly maxDeliveries?: string;
  readonly startId?: string;
  readonly lagWarnS?: string;
  readonly strict?: boolean;
  readonly handler?: string;
};

export const consumerDefaults = {
  port: 8081,
  group: 'markdown-lint-consumer',
  topics: 'identity',
  batchSize: 500,
  blockMs: 2_000,
  claimIdleMs: 30_000,
  maxDeliveries: 5,
  startId: '0',
  lagWarnS: 60,
} as const;

/** Where the process runs, for the default consumer name (kept out of the pure loader). */
export type ProcessIdentity = { readonly hostname: string; readonly pid: number };

// Redis accepts any bytes; these names end up in logs, metrics labels and the ledger, so keep them plain.
const namePattern = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/;

export const checkName = (value: string, flag: string, problems: Problems): string => {
  if (!namePattern.test(value))
    problems.push(`${flag} "${value.slice(0, 80)}" must match ${namePattern.source}`);
  return value;
};

const parseStartId = (raw: string, problems: Problems): string => {
  if (raw === '0' || raw === '$' || isStreamId(raw)) return raw;
  problems.push(`--start-id must be 0, $ or a stream id like 1700000000000-0, got "${raw}"`);
  return consumerDefaults.startId;
};

const parseSeconds = (
  raw: string | undefined,
  flag: string,
  fallback: number,
  problems: Problems,
): number => {
  if (raw === undefined) return fallback;
  const value = /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value)) {
    problems.push(`${flag} must be a number of seconds >= 0, got "${raw}"`);
    return fallback;
  }
  return value;
};

const truthy = (raw: string | undefined): boolean => raw !== undefined && /^(1|true|yes|on)$/i.test(raw);

export const loadConsumerConfig = (
  flags: ConsumerFlags,
  env: Env,
  identity: ProcessIdentity = { hostname: 'localhost', pid: 0 },
): ConsumerConfig => {
  const problems: Problems = [];
  const common = resolveCommon(flags, env, { port: consumerDefaults.port }, problems);
  requireDatabase(common.deployment, problems);
  const integer = (raw: string | undefined, flag: string, fallback: number, min: number, max: number) =>
    parseInteger(raw, flag, fallback, problems, { min, max });
  const settings: ConsumerSettings = {
    group: checkName(pick(flags.group, env.MM_CONSUMER_GROUP) ?? consumerDefaults.group, '--group', problems),
    topics: parseTopicList(pick(flags.topics, env.MM_TOPICS) ?? consumerDefaults.topics, problems),
    name: checkName(
      pick(flags.name, env.MM_CONSUMER_NAME) ?? `${identity.hostname}-${identity.pid}`,
      '--name',
      problems,
    ),
    batchSize: integer(
      pick(flags.batchSize, env.MM_BATCH_SIZE),
      '--batch-size',
      consumerDefaults.batchSize,
      1,
      10_000,
    ),
    blockMs: integer(
      pick(flags.blockMs, env.MM_BLOCK_MS),
      '--block-ms',
      consumerDefaults.blockMs,
      1,
      600_000,
    ),
    claimIdleMs: integer(
      pick(flags.claimIdleMs, env.MM_CLAIM_IDLE_MS),
      '--claim-idle-ms',
      consumerDefaults.claimIdleMs,
      1,
      86_400_000,
    ),
    maxDeliveries: integer(
      pick(flags.maxDeliveries, env.MM_MAX_DELIVERIES),
      '--max-deliveries',
      consumerDefaults.maxDeliveries,
      1,
      1_000,
    ),
    startId: parseStartId(pick(flags.startId, env.MM_START_ID) ?? consumerDefaults.startId, problems),
    lagWarnS: parseSeconds(
      pick(flags.lagWarnS, env.MM_LAG_WARN_S),
      '--lag-warn-s',
      consumerDefaults.lagWarnS,
      problems,
    ),
    strict: flags.strict === true || truthy(env.MM_STRICT),
    handlerModule: pick(flags.handler, env.MM_CONSUMER_HANDLER),
  };
  failOnProblems(problems);
  return { ...common, ...settings };
};

export type ReplayFlags = CommonFlags & {
  readonly group?: string;
  readonly topic?: string;
  readonly from?: string;
  readonly dryRun?: boolean;
};

export type ReplayConfig = Omit<CommonConfig, 'host' | 'port'> & {
  readonly group: string;
  readonly topic: string;
  /** Raw `--from`; parsed by the replay itself (a bad value is a usage error, exit 64). */
  readonly from: string;
  readonly dryRun: boolean;
};

export const loadReplayConfig = (flags: ReplayFlags, env: Env): ReplayConfig => {
  const problems: Problems = [];
  const { host: _host, port: _port, ...common } = resolveCommon(flags, env, { port: 0 }, problems);
  const group = checkName(
    pick(flags.group, env.MM_CONSUMER_GROUP) ?? consumerDefaults.group,
    '--group',
    problems,
  );
  const [topic = consumerDefaults.topics] = parseTopicList(
    flags.topic ?? consumerDefaults.topics,
    problems,
    '--topic',
  );
  if (flags.topic?.includes(',')) problems.push('--topic takes one topic');
  if (flags.from === undefined || flags.from.trim() === '') {
    problems.push('--from is required: a stream id, an ISO time, start or end');
  }
  failOnProblems(problems);
  return { ...common, group, topic, from: flags.from ?? '', dryRun: flags.dryRun === true };
};
