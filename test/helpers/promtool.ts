// promtool from the Debian prometheus package: lints exposition text and runs rule tests.
import { spawnSync } from 'node:child_process';

export const promtoolPath = (): string | undefined => {
  const found = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
};

/** Skip reason outside CI when promtool is missing; in CI a missing promtool fails the suite. */
export const skipUnlessPromtool = (): false | string => {
  if (promtoolPath()) return false;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error('CI: promtool is not installed');
  return 'needs promtool (apt-get install prometheus)';
};

export type MetricsLint = { readonly parses: boolean; readonly lintNotes: string[] };

/** `promtool check metrics`: exit 1 means the text does not parse; 3 means lint notes only. */
export const checkMetrics = (text: string): MetricsLint => {
  const result = spawnSync(promtoolPath() ?? 'promtool', ['check', 'metrics'], {
    input: text,
    encoding: 'utf8',
  });
  const notes = `${result.stdout}${result.stderr}`
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return { parses: result.status === 0 || result.status === 3, lintNotes: result.status === 0 ? [] : notes };
};

/** Names the runbook fixes without the `_total` promtool's lint wants on counters. */
export const RUNBOOK_FIXED_NAMES = ['events_processed_success', 'events_processed_failure'] as const;

/**
 * The text parses, and every lint note concerns a name the runbook fixes. Returns false (nothing
 * checked) only outside CI when promtool is missing; in CI a missing promtool throws.
 */
export const promtoolAccepts = (text: string): boolean => {
  if (skipUnlessPromtool() !== false) return false;
  const lint = checkMetrics(text);
  if (!lint.parses) throw new Error(`promtool cannot parse the metrics:\n${lint.lintNotes.join('\n')}`);
  const unexpected = lint.lintNotes.filter(
    (note) => !RUNBOOK_FIXED_NAMES.some((name) => note.startsWith(`${name} `)),
  );
  if (unexpected.length > 0) throw new Error(`promtool lint notes:\n${unexpected.join('\n')}`);
  return true;
};
