// `mm-backend drill <name> [--local FILE | --database-url URL --redis-url URL]` settings: which drills,
// on a local file or on a Postgres database and Redis.
import {
  connectionSettings,
  type Deployment,
  type Env,
  failOnProblems,
  LOCAL_FILE,
  type LocalDeployment,
  localDeployment,
  localSetting,
  loggingSettings,
  type Problems,
} from '../core/config.ts';
import { UsageError } from '../core/errors.ts';
import { defineSettings, type FlagsOf, resolveSettings } from '../core/settings.ts';
import { type DrillName, DrillNames } from './drill.ts';

// MM_LOCAL, DATABASE_URL and REDIS_URL are not read: a drill injects faults and writes users, so it
// runs on the operator's own file, or database and Redis, only when named on the command line.
export const drillSettings = defineSettings({
  local: {
    flag: localSetting.flag,
    preset: LOCAL_FILE,
    defaultText: 'a fresh temporary file, removed after the run',
    parse: localSetting.parse,
    help: 'the SQLite file, kept for inspection',
  },
  databaseUrl: {
    flag: connectionSettings.databaseUrl.flag,
    parse: connectionSettings.databaseUrl.parse,
    help: "production mode: a Postgres database no other mm process uses (the drills' users and tables stay there)",
  },
  redisUrl: {
    flag: connectionSettings.redisUrl.flag,
    parse: connectionSettings.redisUrl.parse,
    help: 'production mode, with --database-url: the Redis for the streams',
  },
  keyPrefix: {
    flag: connectionSettings.keyPrefix.flag,
    default: '',
    parse: connectionSettings.keyPrefix.parse,
    help: 'production mode: prefix for every Redis key the drills touch, one no other mm process uses',
  },
  logFile: loggingSettings().logFile,
});

export type DrillFlags = FlagsOf<typeof drillSettings>;

/** Where a drill runs: a local file, or Postgres and Redis (then a database URL is always given). */
export type DrillDeployment =
  | LocalDeployment
  | (Extract<Deployment, { kind: 'production' }> & { readonly databaseUrl: string });

export type DrillConfig = {
  readonly drills: readonly DrillName[];
  /** `all`, or the one drill's name. */
  readonly label: string;
  readonly deployment: DrillDeployment;
  /** True when the deployment is a fresh temporary file, removed after the run. */
  readonly temporary: boolean;
  readonly logFile: string | undefined;
};

export const parseDrillNames = (raw: string): readonly DrillName[] => {
  if (raw === 'all') return DrillNames;
  if ((DrillNames as readonly string[]).includes(raw)) return [raw as DrillName];
  throw new UsageError(`unknown drill "${raw}": choose ${DrillNames.join(', ')} or all`);
};

/** `freshFile` makes a new temporary file when no --local is given. */
export const loadDrillConfig = (
  name: string,
  flags: DrillFlags,
  env: Env,
  freshFile: () => string,
): DrillConfig => {
  const drills = parseDrillNames(name);
  const problems: Problems = [];
  const values = resolveSettings(drillSettings, flags, env, problems);
  const production = values.databaseUrl !== undefined || values.redisUrl !== undefined;
  if (production && values.local !== undefined)
    problems.push('--local and --database-url/--redis-url select different deployments: give one');
  else if (production && (values.databaseUrl === undefined || values.redisUrl === undefined))
    problems.push('production mode needs both --database-url and --redis-url');
  else if (!production && flags.keyPrefix !== undefined)
    problems.push('--key-prefix needs --database-url and --redis-url');
  failOnProblems(problems);
  const base = { drills, label: name, logFile: values.logFile };
  if (production) {
    const { databaseUrl, redisUrl, keyPrefix } = values as {
      databaseUrl: string;
      redisUrl: string;
      keyPrefix: string;
    };
    return {
      ...base,
      deployment: { kind: 'production', databaseUrl, redisUrl, keyPrefix },
      temporary: false,
    };
  }
  const deployment: LocalDeployment = localDeployment(values.local ?? freshFile(), env);
  return { ...base, deployment, temporary: values.local === undefined };
};
