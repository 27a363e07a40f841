// `mm-backend stack` configuration: always local mode (one SQLite file), three listeners, the demo switch.
import {
  type CommonFlags,
  type Deployment,
  type Env,
  failOnProblems,
  type Problems,
  parsePort,
  pick,
  resolveCommon,
} from '../core/config.ts';
import type { LogLevel } from '../core/logger.ts';

export type StackPorts = { readonly backend: number; readonly relay: number; readonly consumer: number };

export type StackConfig = {
  /** The local file every service shares. */
  readonly file: string;
  /** As resolved by the common loader, so runtime extras (addon cache) travel with it. */
  readonly deployment: Extract<Deployment, { kind: 'local' }>;
  readonly host: string;
  readonly ports: StackPorts;
  readonly demo: boolean;
  readonly logLevel: LogLevel;
  readonly logFile: string | undefined;
};

export type StackFlags = Pick<CommonFlags, 'local' | 'host' | 'logLevel' | 'logFile'> & {
  readonly backendPort?: string;
  readonly relayPort?: string;
  readonly consumerPort?: string;
  readonly demo?: boolean;
};

export const stackDefaults = { backendPort: 8000, relayPort: 8080, consumerPort: 8081 } as const;

export const loadStackConfig = (flags: StackFlags, env: Env): StackConfig => {
  const problems: Problems = [];
  // Local whatever DATABASE_URL or REDIS_URL say: the stack is the no-services way to run mm.
  const local = flags.local ?? (env.MM_LOCAL ? undefined : true);
  const { local: _ignored, ...rest } = flags;
  const common = resolveCommon({ ...rest, local }, env, { port: 0 }, problems);
  const ports: StackPorts = {
    backend: parsePort(
      pick(flags.backendPort, env.MM_BACKEND_PORT),
      '--backend-port',
      stackDefaults.backendPort,
      problems,
    ),
    relay: parsePort(
      pick(flags.relayPort, env.MM_RELAY_PORT),
      '--relay-port',
      stackDefaults.relayPort,
      problems,
    ),
    consumer: parsePort(
      pick(flags.consumerPort, env.MM_CONSUMER_PORT),
      '--consumer-port',
      stackDefaults.consumerPort,
      problems,
    ),
  };
  const fixed = [ports.backend, ports.relay, ports.consumer].filter((port) => port !== 0);
  if (new Set(fixed).size !== fixed.length) {
    problems.push(
      `--backend-port, --relay-port and --consumer-port must differ (got ${ports.backend}, ${ports.relay}, ${ports.consumer})`,
    );
  }
  if (common.deployment.kind !== 'local') problems.push('the stack runs in local mode only (--local [file])');
  failOnProblems(problems);
  const deployment = common.deployment as Extract<Deployment, { kind: 'local' }>;
  return {
    file: deployment.file,
    deployment,
    host: common.host,
    ports,
    demo: flags.demo === true,
    logLevel: common.logLevel,
    logFile: common.logFile,
  };
};
