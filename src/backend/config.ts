// mm-backend's settings tables (`serve`, `migrate`) and their pure loaders.
import {
  connectionSettings,
  type Env,
  loadWithDeployment,
  loggingSettings,
  serviceSettings,
  type WithDeployment,
} from '../core/config.ts';
import { integer, topicList } from '../core/setting-parsers.ts';
import { defaultsOf, defineSettings, type FlagsOf, toggle, type ValuesOf } from '../core/settings.ts';
import { apiTokenList, isLoopbackHost } from './api-tokens.ts';

export const backendSettings = defineSettings({
  ...serviceSettings(8000),
  topics: {
    flag: '--topics <list>',
    env: 'MM_TOPICS',
    default: ['identity'],
    parse: topicList,
    help: 'topics whose streams health reports on',
  },
  requestTimeoutMs: {
    flag: '--request-timeout-ms <ms>',
    env: 'MM_REQUEST_TIMEOUT_MS',
    default: 5_000,
    parse: integer(100, 600_000),
    help: 'a request waiting this long for the database answers 503 (its transaction rolls back)',
  },
  apiTokens: {
    flag: '--api-tokens <list>',
    env: 'MM_API_TOKENS',
    default: [],
    defaultText: 'none',
    parse: apiTokenList,
    help: 'bearer tokens the mutating users API routes accept, comma-separated (prefer the variable: flags show in ps)',
  },
  insecureNoAuth: toggle(
    '--insecure-no-auth',
    'serve the users API without tokens on a public address (health then warns)',
    'MM_INSECURE_NO_AUTH',
  ),
});

export type BackendConfig = WithDeployment<ValuesOf<typeof backendSettings>>;
export type BackendFlags = FlagsOf<typeof backendSettings>;

export const backendDefaults = defaultsOf(backendSettings);

/** A public address without tokens would let anyone who reaches the host change users: refused. */
export const checkPublicBind = (
  config: Pick<BackendConfig, 'host' | 'apiTokens' | 'insecureNoAuth'>,
  problems: string[],
): void => {
  if (isLoopbackHost(config.host) || config.apiTokens.length > 0 || config.insecureNoAuth) return;
  problems.push(
    `--host ${config.host} is reachable from other machines but MM_API_TOKENS is empty: set tokens (the users API then wants Authorization: Bearer), or pass --insecure-no-auth`,
  );
};

export const loadBackendConfig = (flags: BackendFlags, env: Env): BackendConfig =>
  loadWithDeployment(backendSettings, flags, env, { check: checkPublicBind });

export const migrateSettings = defineSettings({ ...connectionSettings, ...loggingSettings() });

export type MigrateConfig = WithDeployment<ValuesOf<typeof migrateSettings>>;

export const loadMigrateConfig = (flags: FlagsOf<typeof migrateSettings>, env: Env): MigrateConfig =>
  loadWithDeployment(migrateSettings, flags, env);
