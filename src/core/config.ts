// The settings every binary shares (where the data lives, where to listen, how to log) and the
// deployment they select; each binary's own table adds to these.
import { isAbsolute, join } from 'node:path';
import { ConfigError } from './errors.ts';
import { type LogLevel, LogLevels } from './logger.ts';
import { hasRedisScheme, REDIS_URL_FORMS } from './redis-url.ts';
import { nonEmpty, oneOf, port, text, url } from './setting-parsers.ts';
import {
  defineSettings,
  type FlagsOf,
  isGiven,
  resolveSettings,
  type Setting,
  type Table,
  type ValuesOf,
} from './settings.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/** Where the process keeps its data: Postgres + Redis, or one SQLite file with the stream shim. */
export type Deployment =
  | {
      readonly kind: 'production';
      readonly databaseUrl: string | undefined;
      readonly redisUrl: string;
      readonly keyPrefix: string;
    }
  | {
      readonly kind: 'local';
      readonly file: string;
      /** Per-user cache directory (a single executable unpacks its SQLite addon there). */
      readonly cacheDir?: string;
    };

export type LocalDeployment = Extract<Deployment, { kind: 'local' }>;

/** Collects problems while values are read, then fails once with all of them. */
export type Problems = string[];

export const LOCAL_FILE = './mm-local.db';

const localFile = nonEmpty('a file path');

/** `--local [file]` in a binary that can also run in production. */
export const localSetting = {
  flag: '--local [file]',
  env: 'MM_LOCAL',
  preset: LOCAL_FILE,
  parse: localFile,
  help: 'local mode: one SQLite file, no Postgres or Redis',
} as const satisfies Setting<string>;

export const connectionSettings = defineSettings({
  databaseUrl: {
    flag: '--database-url <url>',
    env: 'DATABASE_URL',
    parse: url(['postgres:', 'postgresql:'], 'a postgres:// URL'),
    help: 'Postgres: outbox, ledger and tables',
  },
  redisUrl: {
    flag: '--redis-url <url>',
    env: 'REDIS_URL',
    default: 'redis://127.0.0.1:6379',
    parse: {
      parse: (raw) => (hasRedisScheme(raw) ? raw : undefined),
      accepts: `a redis:// URL (${REDIS_URL_FORMS})`,
    },
    help: 'Redis: the streams (one server, a cluster by its seed nodes, or a master through Sentinel)',
  },
  keyPrefix: {
    flag: '--key-prefix <prefix>',
    env: 'MM_KEY_PREFIX',
    default: '',
    parse: text,
    help: 'prefix for every Redis key this process touches',
  },
  local: localSetting,
});

export const loggingSettings = (level: LogLevel = 'info') =>
  defineSettings({
    logLevel: {
      flag: '--log-level <level>',
      env: 'MM_LOG_LEVEL',
      default: level,
      parse: oneOf(LogLevels),
      help: 'least severe log lines written',
    },
    logFile: {
      flag: '--log-file <path>',
      env: 'MM_LOG_FILE',
      parse: localFile,
      help: 'also append JSON log lines to this file',
    },
  });

export const hostSetting = {
  flag: '--host <host>',
  env: 'MM_HOST',
  default: '127.0.0.1',
  parse: text,
  help: 'address to listen on',
} as const satisfies Setting<string>;

export const listenerSettings = (defaultPort: number) =>
  defineSettings({
    host: hostSetting,
    port: {
      flag: '--port <port>',
      env: 'MM_PORT',
      default: defaultPort,
      parse: port,
      help: 'port to listen on',
    },
  });

/** What a service listening on a port takes besides its own settings. */
export const serviceSettings = (defaultPort: number) => ({
  ...connectionSettings,
  ...listenerSettings(defaultPort),
  ...loggingSettings(),
});

type ConnectionKey = keyof typeof connectionSettings;

/** A table's values with the connection settings replaced by the deployment they select. */
export type WithDeployment<V> = Omit<V, ConnectionKey> & { readonly deployment: Deployment };

export type CommonConfig = WithDeployment<ValuesOf<ReturnType<typeof serviceSettings>>>;

/** XDG_CACHE_HOME, else $HOME/.cache; undefined leaves the choice to the temp directory. */
export const userCacheDir = (env: Env): string | undefined => {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg !== undefined && isAbsolute(xdg)) return xdg; // the XDG spec ignores relative paths
  return env.HOME ? join(env.HOME, '.cache') : undefined;
};

export const localDeployment = (file: string, env: Env): LocalDeployment => {
  const cacheDir = userCacheDir(env);
  return { kind: 'local', file, ...(cacheDir === undefined ? {} : { cacheDir }) };
};

/**
 * Resolves a table that includes the connection settings and returns its values with the
 * deployment in their place. Local mode leaves the production settings unread (a DATABASE_URL
 * left in the environment is no problem there). `needsDatabase`: production needs a database URL.
 */
export const resolveWithDeployment = <T extends Table & typeof connectionSettings>(
  table: T,
  flags: FlagsOf<T>,
  env: Env,
  problems: Problems,
  needsDatabase = true,
): WithDeployment<ValuesOf<T>> => {
  const { databaseUrl: _d, redisUrl: _r, keyPrefix: _k, ...localTable } = table;
  const isLocal = isGiven(table.local, flags.local, env);
  const { databaseUrl, redisUrl, keyPrefix, local, ...rest } = resolveSettings(
    isLocal ? localTable : table,
    flags,
    env,
    problems,
  ) as ValuesOf<typeof connectionSettings>;
  if (needsDatabase && !isLocal && !isGiven(table.databaseUrl, flags.databaseUrl, env)) {
    problems.push('--database-url (DATABASE_URL) is required (or run in local mode with --local [file])');
  }
  const deployment: Deployment =
    // A bad --local value (reported) still selects local mode: no production problems on top.
    isLocal
      ? localDeployment(local ?? LOCAL_FILE, env)
      : { kind: 'production', databaseUrl, redisUrl, keyPrefix };
  return { ...rest, deployment } as unknown as WithDeployment<ValuesOf<T>>;
};

export const failOnProblems = (problems: Problems): void => {
  if (problems.length > 0) throw new ConfigError(problems);
};

export type LoadOptions<C> = {
  /** Production mode must have a database URL (default true). */
  readonly needsDatabase?: boolean;
  /** Checks across settings (one cap at least another), adding to the problems. */
  readonly check?: (config: C, problems: Problems) => void;
};

/** A binary's pure loader: the table resolved, the deployment selected, or a ConfigError naming every problem. */
export const loadWithDeployment = <T extends Table & typeof connectionSettings>(
  table: T,
  flags: FlagsOf<T>,
  env: Env,
  options: LoadOptions<WithDeployment<ValuesOf<T>>> = {},
): WithDeployment<ValuesOf<T>> => {
  const problems: Problems = [];
  const config = resolveWithDeployment(table, flags, env, problems, options.needsDatabase ?? true);
  options.check?.(config, problems);
  failOnProblems(problems);
  return config;
};
