// The grep commands of ops/RUNBOOK.md's "Log-Based Monitoring" block, run with the real grep on a
// log directory, as an operator would.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fencedBlocks, readOps } from './ops-files.ts';

export type LogLine = Record<string, unknown> & { time: string; level: string; msg: string };

/** The grep lines of the runbook's log patterns block. */
export const runbookGreps = (): string[] => {
  const block = fencedBlocks(readOps('RUNBOOK.md')).find(
    (b) => b.heading === 'Log-Based Monitoring' && b.body.includes('grep "unhealthy'),
  );
  assert.ok(block, 'the runbook has its log patterns block');
  return block.body.split('\n').filter((line) => line.startsWith('grep '));
};

/** Runs one runbook grep line with the real grep, the log directory in MM_LOG_DIR; parsed matches. */
export const runGrep = (command: string, logDir: string): LogLine[] => {
  const result = spawnSync('bash', ['-c', command], {
    env: { ...process.env, MM_LOG_DIR: logDir },
    encoding: 'utf8',
  });
  assert.ok(result.status === 0 || result.status === 1, `${command}: ${result.stderr}`);
  return result.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line.slice(line.indexOf('{'))) as LogLine);
};

/** The runbook's grep for `needle` over `files` (e.g. `/relay.log`, `/*.log`). */
export const grepFor = (greps: string[], needle: string, files: string): string => {
  const found = greps.find((g) => g.includes(needle) && g.endsWith(files));
  assert.ok(found, `the runbook greps ${needle} in ${files}`);
  return found;
};
