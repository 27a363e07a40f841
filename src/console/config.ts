// `mm-backend console` settings: where the dead letters and the registry are, where to listen, who
// may sign in, how long a session lasts.
import {
  connectionSettings,
  type Env,
  failOnProblems,
  hostSetting,
  loadWithDeployment,
  loggingSettings,
  type WithDeployment,
} from '../core/config.ts';
import { duration, integer, nonEmpty, oneOf, port, text, topicList } from '../core/setting-parsers.ts';
import {
  defaultsOf,
  defineSettings,
  type FlagsOf,
  resolveSettings,
  toggle,
  type ValuesOf,
} from '../core/settings.ts';

export const CONSOLE_PORT = 8090;

/** What both `console` and `stack` take for the console. */
export const consoleAccessSettings = defineSettings({
  users: {
    flag: '--users <entries|file>',
    env: 'MM_CONSOLE_USERS',
    parse: text,
    help: 'who may sign in: name:role:scrypt-hash entries (comma-separated), or a file of them; see console add-user',
  },
  sessionTtlMs: {
    flag: '--session-ttl <duration>',
    env: 'MM_CONSOLE_SESSION_TTL',
    default: 8 * 3_600_000,
    defaultText: '8h',
    parse: duration,
    help: 'how long a console sign-in lasts',
  },
  secureCookies: toggle(
    '--secure-cookies',
    'mark the session cookie Secure (the console is behind TLS); X-Forwarded-Proto: https does too',
    'MM_CONSOLE_SECURE_COOKIES',
  ),
  reprocessRate: {
    flag: '--reprocess-rate <n>',
    env: 'MM_CONSOLE_REPROCESS_RATE',
    default: 50,
    parse: integer(1, 10_000),
    help: 'dead letters per second a group reprocess from the console republishes',
  },
});

export const consoleSettings = defineSettings({
  ...connectionSettings,
  host: hostSetting,
  port: {
    flag: '--port <port>',
    env: 'MM_CONSOLE_PORT',
    default: CONSOLE_PORT,
    parse: port,
    help: 'port the console listens on',
  },
  topics: {
    flag: '--topics <list>',
    env: 'MM_TOPICS',
    default: ['identity'],
    parse: topicList,
    help: 'topics whose streams, groups and dead letters the console shows',
  },
  ...consoleAccessSettings,
  ...loggingSettings(),
});

export type ConsoleConfig = WithDeployment<ValuesOf<typeof consoleSettings>>;

export const consoleDefaults = defaultsOf(consoleSettings);

/** The console reads dead letters without a database too (ledger state is then not checked). */
export const loadConsoleConfig = (flags: FlagsOf<typeof consoleSettings>, env: Env): ConsoleConfig =>
  loadWithDeployment(consoleSettings, flags, env, { needsDatabase: false });

export const addUserSettings = defineSettings({
  role: {
    flag: '--role <role>',
    default: 'viewer',
    parse: oneOf(['viewer', 'operator'] as const),
    help: 'what the user may do: viewer reads, operator also acts',
  },
  file: {
    flag: '--file <path>',
    parse: nonEmpty('a file path'),
    help: 'append the entry to this users file (MM_CONSOLE_USERS may name it); without it the entry is printed',
  },
  token: {
    flag: '--token <token>',
    env: 'MM_CONSOLE_NEW_TOKEN',
    parse: nonEmpty('a token that is not empty'),
    help: 'the sign-in token to hash (default: a new random one, printed once)',
  },
});

export type AddUserConfig = ValuesOf<typeof addUserSettings>;

export const resolveAddUser = (flags: FlagsOf<typeof addUserSettings>, env: Env): AddUserConfig => {
  const problems: string[] = [];
  const values = resolveSettings(addUserSettings, flags, env, problems);
  failOnProblems(problems);
  return values;
};
