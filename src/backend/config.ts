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
import { defaultsOf, defineSettings, type FlagsOf, type ValuesOf } from '../core/settings.ts';

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
});

export type BackendConfig = WithDeployment<ValuesOf<typeof backendSettings>>;
export type BackendFlags = FlagsOf<typeof backendSettings>;

export const backendDefaults = defaultsOf(backendSettings);

export const loadBackendConfig = (flags: BackendFlags, env: Env): BackendConfig =>
  loadWithDeployment(backendSettings, flags, env);

export const migrateSettings = defineSettings({ ...connectionSettings, ...loggingSettings() });

export type MigrateConfig = WithDeployment<ValuesOf<typeof migrateSettings>>;

export const loadMigrateConfig = (flags: FlagsOf<typeof migrateSettings>, env: Env): MigrateConfig =>
  loadWithDeployment(migrateSettings, flags, env);
