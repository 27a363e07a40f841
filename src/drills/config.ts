// `mm-backend drill <name> [--local FILE]` configuration: which drills, on which local file.
import { type Deployment, type Env, failOnProblems, type Problems, resolveCommon } from '../core/config.ts';
import { UsageError } from '../core/errors.ts';
import { type DrillName, DrillNames } from './drill.ts';

export type DrillFlags = { readonly local?: string | boolean; readonly logFile?: string };

export type DrillConfig = {
  readonly drills: readonly DrillName[];
  /** `all`, or the one drill's name. */
  readonly label: string;
  readonly deployment: Extract<Deployment, { kind: 'local' }>;
  readonly file: string;
  /** True when the file is a fresh temporary one, removed after the run. */
  readonly temporary: boolean;
  readonly logFile: string | undefined;
};

export const parseDrillNames = (raw: string): readonly DrillName[] => {
  if (raw === 'all') return DrillNames;
  if ((DrillNames as readonly string[]).includes(raw)) return [raw as DrillName];
  throw new UsageError(`unknown drill "${raw}": choose ${DrillNames.join(', ')} or all`);
};

/**
 * `freshFile` makes a new temporary file when no --local is given. MM_LOCAL is not read: a drill
 * injects faults, so it runs on the operator's own file only when named on the command line.
 */
export const loadDrillConfig = (
  name: string,
  flags: DrillFlags,
  env: Env,
  freshFile: () => string,
): DrillConfig => {
  const drills = parseDrillNames(name);
  const problems: Problems = [];
  const temporary = flags.local === undefined;
  const local = temporary ? freshFile() : flags.local;
  const { MM_LOCAL: _ignored, ...rest } = env;
  const common = resolveCommon({ local, logFile: flags.logFile }, rest, { port: 0 }, problems);
  if (common.deployment.kind !== 'local') problems.push('drills run in local mode only (--local FILE)');
  failOnProblems(problems);
  const deployment = common.deployment as Extract<Deployment, { kind: 'local' }>;
  return { drills, label: name, deployment, file: deployment.file, temporary, logFile: common.logFile };
};
