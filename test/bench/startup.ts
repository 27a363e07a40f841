// Start-up time of each bundle (`node dist/<binary>.mjs --help`) beside that of `node -e 0`, the
// runtime alone. The spawns take turns, and each command keeps its fastest: on a shared machine the
// slower spawns measure the neighbours' load, which only ever adds time.
import { spawnSync } from 'node:child_process';
import { bundlePath } from '../helpers/binaries.ts';

export const BINARIES = ['mm-backend', 'mm-relay', 'mm-consumer', 'mm-dlq'] as const;

export const NODE_ALONE = 'node -e 0';

const timedMs = (args: readonly string[]): number => {
  const started = performance.now();
  const run = spawnSync(process.execPath, args, { stdio: 'ignore' });
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} exited ${run.status}`);
  return performance.now() - started;
};

/** The fastest of `runs` spawns, in milliseconds, by command: `node -e 0` and each binary's name. */
export const startupMs = (runs: number): Record<string, number> => {
  const commands: Record<string, string[]> = { [NODE_ALONE]: ['-e', '0'] };
  for (const binary of BINARIES) commands[binary] = [bundlePath(binary), '--help'];
  const samples = Object.entries(commands).map(([name, args]) => ({ name, args, ms: [] as number[] }));
  for (let i = 0; i < runs; i += 1) {
    for (const command of samples) command.ms.push(timedMs(command.args));
  }
  return Object.fromEntries(samples.map((command) => [command.name, Math.min(...command.ms)]));
};
