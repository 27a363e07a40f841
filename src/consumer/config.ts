// mm-consumer's settings tables (`run` and `replay`) and their pure loaders: flag > environment >
// default, every problem reported at once (exit 78).
import {
  connectionSettings,
  type Env,
  loadWithDeployment,
  loggingSettings,
  serviceSettings,
  type WithDeployment,
} from '../core/config.ts';
import {
  integer,
  matching,
  nonEmpty,
  oneOf,
  seconds,
  startId,
  topic,
  topicList,
} from '../core/setting-parsers.ts';
import { defaultsOf, defineSettings, type FlagsOf, toggle, type ValuesOf } from '../core/settings.ts';

// Redis accepts any bytes; these names end up in logs, metrics labels and the ledger, so keep them plain.
const name = matching(
  /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/,
  'a name of up to 200 letters, digits and ._:@-, starting with a letter or digit',
);

const group = {
  flag: '--group <name>',
  env: 'MM_CONSUMER_GROUP',
  default: 'markdown-lint-consumer',
  parse: name,
  help: 'consumer group',
} as const;

export const consumerSettings = defineSettings({
  ...serviceSettings(8081),
  group,
  topics: {
    flag: '--topics <list>',
    env: 'MM_TOPICS',
    default: ['identity'],
    parse: topicList,
    help: 'topics to consume',
  },
  name: {
    flag: '--name <name>',
    env: 'MM_CONSUMER_NAME',
    defaultText: '<host>-<pid>',
    parse: name,
    help: 'consumer name within the group (pending entries are owned by it)',
  },
  batchSize: {
    flag: '--batch-size <n>',
    env: 'MM_BATCH_SIZE',
    default: 1_000,
    parse: integer(1, 10_000),
    help: 'entries per read and per transaction, shared by the partitions read together',
  },
  blockMs: {
    flag: '--block-ms <ms>',
    env: 'MM_BLOCK_MS',
    default: 2_000,
    parse: integer(1, 600_000),
    help: 'how long a read waits for new entries',
  },
  claimIdleMs: {
    flag: '--claim-idle-ms <ms>',
    env: 'MM_CLAIM_IDLE_MS',
    default: 30_000,
    parse: integer(1, 86_400_000),
    help: 'reclaim entries pending this long, e.g. from dead consumers',
  },
  maxDeliveries: {
    flag: '--max-deliveries <n>',
    env: 'MM_MAX_DELIVERIES',
    default: 5,
    parse: integer(1, 1_000),
    help: 'deliveries before a failing event moves to <topic>.dlq',
  },
  leaseMs: {
    flag: '--lease-ms <ms>',
    env: 'MM_LEASE_MS',
    default: 10_000,
    parse: integer(300, 600_000),
    help: "partition lease time: a dead consumer's partitions move to others within it",
  },
  onDeadLetter: {
    flag: '--on-dead-letter <mode>',
    env: 'MM_ON_DEAD_LETTER',
    default: 'halt',
    parse: oneOf(['halt', 'continue'] as const),
    help: 'halt: later events of a dead-lettered aggregate wait until it is resolved; continue: they go on',
  },
  startId: {
    flag: '--start-id <id>',
    env: 'MM_START_ID',
    default: '0',
    parse: startId,
    help: 'where a new group starts: 0 the whole stream, $ only new entries, or a stream id',
  },
  lagWarnS: {
    flag: '--lag-warn-s <s>',
    env: 'MM_LAG_WARN_S',
    default: 60,
    parse: seconds,
    help: 'warn and report degraded above this lag, in seconds',
  },
  staleConsumerMs: {
    flag: '--stale-consumer-ms <ms>',
    env: 'MM_STALE_CONSUMER_MS',
    default: 300_000,
    parse: integer(100, 86_400_000),
    help: 'remove a consumer name from the group after this long with nothing pending and no heartbeat',
  },
  strict: toggle(
    '--strict',
    'dead-letter events no handler takes instead of recording them as skipped',
    'MM_STRICT',
  ),
  handlerModule: {
    flag: '--handler <module>',
    env: 'MM_CONSUMER_HANDLER',
    parse: nonEmpty('a module path'),
    help: 'JS module exporting handlers by event type; absent: the built-in handlers of the group',
  },
});

type ConsumerValues = WithDeployment<ValuesOf<typeof consumerSettings>>;

/** The consumer's own settings, as the service takes them (the name always known). */
export type ConsumerSettings = Omit<
  ConsumerValues,
  'name' | 'deployment' | 'host' | 'port' | 'logLevel' | 'logFile'
> & { readonly name: string };
export type ConsumerConfig = ConsumerValues & ConsumerSettings;
export type ConsumerFlags = FlagsOf<typeof consumerSettings>;

export const consumerDefaults = defaultsOf(consumerSettings);

/** Where the process runs, for the default consumer name (kept out of the pure loader). */
export type ProcessIdentity = { readonly hostname: string; readonly pid: number };

export const loadConsumerConfig = (
  flags: ConsumerFlags,
  env: Env,
  identity: ProcessIdentity = { hostname: 'localhost', pid: 0 },
): ConsumerConfig => {
  const values = loadWithDeployment(consumerSettings, flags, env);
  return { ...values, name: values.name ?? `${identity.hostname}-${identity.pid}` };
};

export const replaySettings = defineSettings({
  ...connectionSettings,
  // Replay prints its report on stdout: only warnings and errors are logged unless asked.
  ...loggingSettings('warn'),
  group,
  topic: { flag: '--topic <topic>', default: 'identity', parse: topic, help: 'stream to replay' },
  from: {
    flag: '--from <position>',
    required: true,
    parse: nonEmpty('a stream id, an ISO time, start or end'),
    help: 'stream id (inclusive), ISO time, start or end',
  },
  dryRun: toggle('--dry-run', 'only print how many entries would be re-delivered, skipped and held back'),
  includeDeadLetters: toggle(
    '--include-dead-letters',
    'also deliver entries dead-lettered for the group (open or closed); by default they are held back',
  ),
});

/** `from` stays raw: the replay parses it itself (a bad value is a usage error, exit 64). */
export type ReplayConfig = WithDeployment<ValuesOf<typeof replaySettings>>;
export type ReplayFlags = FlagsOf<typeof replaySettings>;

export const loadReplayConfig = (flags: ReplayFlags, env: Env): ReplayConfig =>
  loadWithDeployment(replaySettings, flags, env, { needsDatabase: false });
