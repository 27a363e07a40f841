// Configuration shared by every binary: flag > environment > default, every problem reported at once.
import { isAbsolute, join } from 'node:path';
import { isTopicName } from './envelope.ts';
import { ConfigError } from './errors.ts';
import { type LogLevel, LogLevels } from './logger.ts';

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

/** The common flags as commander hands them over (all optional strings). */
export type CommonFlags = {
  readonly databaseUrl?: string;
  readonly redisUrl?: string;
  readonly keyPrefix?: string;
  readonly local?: string | boolean;
  readonly host?: string;
  readonly port?: string;
  readonly logLevel?: string;
  readonly logFile?: string;
};

export type CommonConfig = {
  readonly deployment: Deployment;
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  readonly logFile: string | undefined;
};

export const commonDefaults = {
  redisUrl: 'redis://127.0.0.1:6379',
  keyPrefix: '',
  localFile: './mm-local.db',
  host: '127.0.0.1',
  logLevel: 'info',
} as const;

/** Collects problems while values are read, then fails once with all of them. */
export type Problems = string[];

export const pick = (flag: string | undefined, env: string | undefined): string | undefined =>
  flag !== undefined ? flag : env !== undefined && env !== '' ? env : undefined;

export const parseInteger = (
  raw: string | number | undefined,
  name: string,
  fallback: number,
  problems: Problems,
  range: { min?: number; max?: number } = {},
): number => {
  if (raw === undefined) return fallback;
  const value = typeof raw === 'number' ? raw : /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  const min = range.min ?? Number.MIN_SAFE_INTEGER;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const bounds = range.max === undefined ? `>= ${min}` : `${min}..${max}`;
    problems.push(`${name} must be an integer ${bounds}, got "${raw}"`);
    return fallback;
  }
  return value;
};

export const parsePort = (
  raw: string | undefined,
  name: string,
  fallback: number,
  problems: Problems,
): number => parseInteger(raw, name, fallback, problems, { min: 0, max: 65_535 });

const unitsMs: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `90s`, `15m`, `2h`, `30d` (or plain milliseconds) to milliseconds; undefined when malformed. */
export const parseDurationMs = (raw: string): number | undefined => {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(raw.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * (unitsMs[match[2] ?? 'ms'] ?? 1));
};

const isUrlWithScheme = (value: string, schemes: readonly string[]): boolean => {
  try {
    return schemes.includes(new URL(value).protocol);
  } catch {
    return false;
  }
};

/** XDG_CACHE_HOME, else $HOME/.cache; undefined leaves the choice to the temp directory. */
export const userCacheDir = (env: Env): string | undefined => {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg !== undefined && isAbsolute(xdg)) return xdg; // the XDG spec ignores relative paths
  return env.HOME ? join(env.HOME, '.cache') : undefined;
};

const resolveDeployment = (flags: CommonFlags, env: Env, problems: Problems): Deployment => {
  const localFlag = flags.local === true ? commonDefaults.localFile : flags.local;
  const local = pick(localFlag || undefined, env.MM_LOCAL);
  if (local !== undefined) {
    const cacheDir = userCacheDir(env);
    return { kind: 'local', file: local, ...(cacheDir === undefined ? {} : { cacheDir }) };
  }
  const databaseUrl = pick(flags.databaseUrl, env.DATABASE_URL);
  if (databaseUrl !== undefined && !isUrlWithScheme(databaseUrl, ['postgres:', 'postgresql:'])) {
    problems.push('--database-url (DATABASE_URL) must be a postgres:// URL');
  }
  const redisUrl = pick(flags.redisUrl, env.REDIS_URL) ?? commonDefaults.redisUrl;
  if (!isUrlWithScheme(redisUrl, ['redis:', 'rediss:']))
    problems.push('--redis-url (REDIS_URL) must be a redis:// URL');
  const keyPrefix = pick(flags.keyPrefix, env.MM_KEY_PREFIX) ?? commonDefaults.keyPrefix;
  return { kind: 'production', databaseUrl, redisUrl, keyPrefix };
};

export const resolveCommon = (
  flags: CommonFlags,
  env: Env,
  defaults: { port: number },
  problems: Problems,
): CommonConfig => {
  const logLevel = pick(flags.logLevel, env.MM_LOG_LEVEL) ?? commonDefaults.logLevel;
  if (!(LogLevels as readonly string[]).includes(logLevel)) {
    problems.push(`--log-level must be one of ${LogLevels.join(', ')}, got "${logLevel}"`);
  }
  return {
    deployment: resolveDeployment(flags, env, problems),
    host: pick(flags.host, env.MM_HOST) ?? commonDefaults.host,
    port: parsePort(pick(flags.port, env.MM_PORT), '--port', defaults.port, problems),
    logLevel: (LogLevels as readonly string[]).includes(logLevel) ? (logLevel as LogLevel) : 'info',
    logFile: pick(flags.logFile, env.MM_LOG_FILE),
  };
};

/** A production deployment that needs the database must have its URL. */
export const requireDatabase = (deployment: Deployment, problems: Problems): void => {
  if (deployment.kind === 'production' && deployment.databaseUrl === undefined) {
    problems.push('--database-url (DATABASE_URL) is required (or run in local mode with --local [file])');
  }
};

export const failOnProblems = (problems: Problems): void => {
  if (problems.length > 0) throw new ConfigError(problems);
};

/** A comma-separated list of topic names (`--topics identity,billing`); every bad name is reported. */
export const parseTopicList = (raw: string, problems: Problems, flag = '--topics'): string[] => {
  const topics = [
    ...new Set(
      raw
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
  if (topics.length === 0) problems.push(`${flag} must name at least one topic`);
  for (const topic of topics)
    if (!isTopicName(topic)) problems.push(`${flag}: "${topic}" is not a valid topic name`);
  return topics;
};
