// `mm-backend drill <name> [--local FILE]` settings: which drills, on which local file.
import {
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

// MM_LOCAL is not read: a drill injects faults, so it runs on the operator's own file only when
// named on the command line.
export const drillSettings = defineSettings({
  local: {
    flag: localSetting.flag,
    preset: LOCAL_FILE,
    defaultText: 'a fresh temporary file, removed after the run',
    parse: localSetting.parse,
    help: 'the SQLite file, kept for inspection',
  },
  logFile: loggingSettings().logFile,
});

export type DrillFlags = FlagsOf<typeof drillSettings>;

export type DrillConfig = {
  readonly drills: readonly DrillName[];
  /** `all`, or the one drill's name. */
  readonly label: string;
  readonly deployment: LocalDeployment;
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
  failOnProblems(problems);
  const temporary = values.local === undefined;
  const deployment = localDeployment(values.local ?? freshFile(), env);
  return { drills, label: name, deployment, file: deployment.file, temporary, logFile: values.logFile };
};
