// `mm-backend stack` settings: always local mode (one SQLite file), three listeners, the demo switch.

import { CONSOLE_PORT, consoleAccessSettings } from '../console/config.ts';
import {
  type Env,
  failOnProblems,
  hostSetting,
  LOCAL_FILE,
  type LocalDeployment,
  localDeployment,
  localSetting,
  loggingSettings,
  type Problems,
} from '../core/config.ts';
import type { LogLevel } from '../core/logger.ts';
import { port } from '../core/setting-parsers.ts';
import { defineSettings, type FlagsOf, resolveSettings, toggle, type ValuesOf } from '../core/settings.ts';

export type StackPorts = { readonly backend: number; readonly relay: number; readonly consumer: number };

export type StackConfig = {
  /** The local file every service shares. */
  readonly file: string;
  /** With runtime extras (addon cache) resolved, as the wiring takes it. */
  readonly deployment: LocalDeployment;
  readonly host: string;
  readonly ports: StackPorts;
  readonly demo: boolean;
  /** The console's port, its sign-in settings (its users, sessions, reprocess rate). */
  readonly console: { readonly port: number } & ValuesOf<typeof consoleAccessSettings>;
  readonly logLevel: LogLevel;
  readonly logFile: string | undefined;
};

// No DATABASE_URL or REDIS_URL here: the stack is the no-services way to run mm, always local.
export const stackSettings = defineSettings({
  local: { ...localSetting, default: LOCAL_FILE, help: 'the SQLite file' },
  demo: toggle('--demo', 'also write sample users, one poison event and one failing-handler event'),
  host: hostSetting,
  backendPort: {
    flag: '--backend-port <port>',
    env: 'MM_BACKEND_PORT',
    default: 8000,
    parse: port,
    help: 'backend port',
  },
  relayPort: {
    flag: '--relay-port <port>',
    env: 'MM_RELAY_PORT',
    default: 8080,
    parse: port,
    help: 'relay port',
  },
  consumerPort: {
    flag: '--consumer-port <port>',
    env: 'MM_CONSUMER_PORT',
    default: 8081,
    parse: port,
    help: 'consumer port',
  },
  consolePort: {
    flag: '--console-port <port>',
    env: 'MM_CONSOLE_PORT',
    default: CONSOLE_PORT,
    parse: port,
    help: 'operations console port',
  },
  ...consoleAccessSettings,
  ...loggingSettings(),
});

export type StackFlags = FlagsOf<typeof stackSettings>;

export const loadStackConfig = (flags: StackFlags, env: Env): StackConfig => {
  const problems: Problems = [];
  const values = resolveSettings(stackSettings, flags, env, problems);
  const ports: StackPorts = {
    backend: values.backendPort,
    relay: values.relayPort,
    consumer: values.consumerPort,
  };
  const fixed = [ports.backend, ports.relay, ports.consumer].filter((p) => p !== 0);
  if (new Set(fixed).size !== fixed.length) {
    problems.push(
      `--backend-port, --relay-port and --consumer-port must differ (got ${ports.backend}, ${ports.relay}, ${ports.consumer})`,
    );
  }
  if (values.consolePort !== 0 && fixed.includes(values.consolePort))
    problems.push(`--console-port ${values.consolePort} is already taken by another service of the stack`);
  failOnProblems(problems);
  const deployment = localDeployment(values.local, env);
  const { host, demo, logLevel, logFile, users, sessionTtlMs, secureCookies, reprocessRate } = values;
  const consoleSettings = { port: values.consolePort, users, sessionTtlMs, secureCookies, reprocessRate };
  return {
    file: deployment.file,
    deployment,
    host,
    ports,
    demo,
    console: consoleSettings,
    logLevel,
    logFile,
  };
};
