// Start-up time of each bundle: `node dist/<binary>.mjs --help`, median of several runs.
import { spawnSync } from 'node:child_process';
import { bundlePath } from '../helpers/binaries.ts';
import { median } from './stats.ts';

export const BINARIES = ['mm-backend', 'mm-relay', 'mm-consumer', 'mm-dlq'] as const;

export const helpStartupMs = (binary: (typeof BINARIES)[number], runs = 5): number => {
  const path = bundlePath(binary);
  const samples: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    const run = spawnSync(process.execPath, [path, '--help'], { stdio: 'ignore' });
    if (run.status !== 0) throw new Error(`${binary} --help exited ${run.status}`);
    samples.push(performance.now() - started);
  }
  return median(samples);
};
