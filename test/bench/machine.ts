// What the benchmark ran on, recorded next to its results.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';

const version = (command: string, args: string[]): string => {
  try {
    return (
      execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .trim()
        .split('\n')[0] ?? ''
    );
  } catch {
    return 'unknown';
  }
};

export const machineInfo = () => ({
  cpus: cpus().length,
  cpu_model: cpus()[0]?.model ?? 'unknown',
  memory_gb: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  postgres: version('psql', ['--version']),
  redis: version('redis-server', ['--version']),
  load_average_at_start: loadavg().map((l) => Math.round(l * 100) / 100),
  date: new Date().toISOString(),
});
