// mm-dlq's settings tables, one per command: where the dead letters are (a bad value: exit 78) and
// the command's own options (a bad value: a usage error, exit 64).
import {
  connectionSettings,
  type Env,
  loadWithDeployment,
  loggingSettings,
  type WithDeployment,
} from '../core/config.ts';
import { duration, fromThrowing, integer, matching, nonEmpty, text } from '../core/setting-parsers.ts';
import { defineSettings, type FlagsOf, isGiven, toggle, type ValuesOf } from '../core/settings.ts';
import { dlqStream, parseIdArg } from './model/names.ts';

/** Connection and logging; logs go to stderr, errors only unless asked: stdout carries tables and JSON. */
export const dlqConnectionSettings = defineSettings({
  ...connectionSettings,
  // The services' default is not mm-dlq's: its help must not promise 127.0.0.1 (see below).
  redisUrl: { ...connectionSettings.redisUrl, defaultText: 'none, required unless --local' },
  ...loggingSettings('error'),
});

export type DlqConnection = WithDeployment<ValuesOf<typeof dlqConnectionSettings>>;

/**
 * Unlike the services, mm-dlq takes no default Redis: an operator who forgot REDIS_URL would
 * otherwise be told about 127.0.0.1:6379 as if it were production.
 */
export const loadDlqConnection = (flags: FlagsOf<typeof dlqConnectionSettings>, env: Env): DlqConnection =>
  loadWithDeployment(dlqConnectionSettings, flags, env, {
    needsDatabase: false,
    check: (config, problems) => {
      if (
        config.deployment.kind === 'production' &&
        !isGiven(connectionSettings.redisUrl, flags.redisUrl, env)
      )
        problems.push(
          'say where the dead letters are: --redis-url (REDIS_URL) for production, or --local FILE; mm-dlq does not assume redis://127.0.0.1:6379',
        );
    },
  });

const stream = {
  flag: '--stream <stream>',
  parse: fromThrowing(dlqStream, 'a dead-letter stream like identity.dlq'),
  help: 'dead-letter stream, e.g. identity.dlq',
};
const json = toggle('--json', 'machine-readable output');
const id = {
  flag: '--id <id>',
  parse: fromThrowing(parseIdArg, 'a stream id like 1700000000000-0 (or an event id, a UUID)'),
  help: 'one dead letter: its stream id, or the event id',
};
const all = toggle('--all', 'every open dead letter of the stream');
const limit = { flag: '--limit <n>', parse: integer(1), help: 'at most this many (bulk)' };
const eventType = { flag: '--event-type <type>', parse: text, help: 'only this event type' };

const filters = {
  eventType,
  error: { flag: '--error <text>', parse: text, help: 'only errors containing this text' },
  fingerprint: {
    flag: '--fingerprint <fp>',
    parse: matching(/^[0-9a-f]{4,64}$/i, 'hex like 3fa2c1d0b9e4', (raw) => raw.toLowerCase()),
    help: 'only this error fingerprint',
  },
  since: {
    flag: '--since <duration>',
    parse: duration,
    help: 'only dead letters from the last 2h, 30m, 7d ...',
  },
};

const closing = {
  note: { flag: '--note <text>', default: '', parse: text, help: 'note kept in the audit record' },
  actor: {
    flag: '--actor <name>',
    defaultText: 'the OS user',
    parse: nonEmpty('a name'),
    help: 'who is acting, kept in the audit record',
  },
};

export const dlqOptionSettings = {
  list: defineSettings({
    stream,
    json,
    ...filters,
    count: { flag: '--count <n>', default: 20, parse: integer(1, 100_000), help: 'how many to show' },
  }),
  inspect: defineSettings({
    stream,
    json,
    id,
    full: toggle('--full', 'the whole payload (otherwise the first 4 KiB and its size)'),
  }),
  reprocess: defineSettings({
    stream,
    json,
    ...filters,
    ...closing,
    id,
    all,
    force: toggle('--force', 'publish again even if already closed'),
    limit,
    rate: { flag: '--rate <n>', default: 50, parse: integer(1, 1_000_000), help: 'per second (bulk)' },
    dryRun: toggle(
      '--dry-run',
      'show what would be published and, per consumer group, what would be applied; change nothing',
    ),
    maxEventBytes: {
      flag: '--max-event-bytes <n>',
      default: 1_048_576,
      parse: integer(256, 512 * 1024 ** 2),
      help: "largest event republished, as the relay's --max-event-bytes",
    },
    maxFailures: {
      flag: '--max-failures <n>',
      default: 10,
      parse: integer(0),
      help: 'stop once this many reprocessed events came back to the DLQ; 0: never',
    },
  }),
  resolve: defineSettings({
    stream,
    json,
    ...filters,
    ...closing,
    id,
    all,
    limit,
    dryRun: toggle('--dry-run', 'count what would be resolved, change nothing'),
    yes: toggle('--yes', 'with --all: do not ask (required when not on a terminal)'),
  }),
  report: defineSettings({
    stream: { ...stream, defaultText: 'every dead-letter stream' },
    json,
    hours: { flag: '--hours <n>', default: 24, parse: integer(1, 24 * 366), help: 'window in hours' },
  }),
  purge: defineSettings({
    stream,
    json,
    ...closing,
    olderThan: {
      flag: '--older-than <duration>',
      parse: duration,
      help: 'entries older than this, e.g. 30d',
    },
    eventType,
    limit: { ...limit, help: 'at most this many' },
    dryRun: toggle('--dry-run', 'count what would be purged, change nothing'),
    yes: toggle('--yes', 'do not ask (required when not on a terminal)'),
  }),
  export: defineSettings({
    stream,
    json,
    id,
    to: { flag: '--to <file>', parse: nonEmpty('a file path'), help: 'the new local file (must not exist)' },
  }),
};

export type DlqCommandName = keyof typeof dlqOptionSettings;

type AllOptions = (typeof dlqOptionSettings)[DlqCommandName];
type KeysOfUnion<T> = T extends unknown ? keyof T : never;

/** Every mm-dlq setting as the command line gives it (camelCase, raw strings). */
export type DlqFlags = {
  readonly [K in KeysOfUnion<AllOptions> | keyof typeof dlqConnectionSettings]?: string | boolean;
};

/** A command's whole table: connection, logging and its own options, for commander and the docs. */
export const dlqSettings = (command: DlqCommandName) => ({
  ...dlqConnectionSettings,
  ...dlqOptionSettings[command],
});
