// Benchmark results: one row per measured figure, with its baseline, ratio and target.
import { writeFileSync } from 'node:fs';

export type Target = { readonly op: '>=' | '<='; readonly value: number };

export type Result = {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** The raw figure measured in the same run this one is compared with, if any. */
  readonly baseline: number | null;
  readonly ratio: number | null;
  readonly target: string | null;
  /** null for rows without a target (baselines, informational figures). */
  readonly met: boolean | null;
};

export const result = (
  name: string,
  value: number,
  unit: string,
  options: { baseline?: number; target?: Target; ratioTarget?: Target } = {},
): Result => {
  const ratio = options.baseline ? Math.round((value / options.baseline) * 100) / 100 : null;
  // A ratio target compares the ratio; otherwise the value is compared.
  const compared = options.ratioTarget ? ratio : value;
  const target = options.ratioTarget ?? options.target;
  const met =
    target === undefined || compared === null
      ? null
      : target.op === '>='
        ? compared >= target.value
        : compared <= target.value;
  const targetText =
    target === undefined
      ? null
      : `${target.op} ${target.value}${options.ratioTarget ? ' x baseline' : ` ${unit}`}`;
  const baseline = options.baseline === undefined ? null : Math.round(options.baseline);
  return { name, value, unit, baseline, ratio, target: targetText, met };
};

const pad = (text: string, width: number, right = false): string =>
  right ? text.padStart(width) : text.padEnd(width);

const formatNumber = (value: number | null): string =>
  value === null ? '-' : Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(2);

export const renderTable = (results: readonly Result[]): string => {
  const rows = results.map((r) => [
    r.name,
    `${formatNumber(r.value)} ${r.unit}`,
    formatNumber(r.baseline),
    r.ratio === null ? '-' : r.ratio.toFixed(2),
    r.target ?? '-',
    r.met === null ? '' : r.met ? 'met' : 'MISSED',
  ]);
  const header = ['result', 'value', 'baseline', 'ratio', 'target', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => pad(c, widths[i] ?? 0, i > 0 && i < 4)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
};

export const writeResults = (
  path: string,
  machine: Record<string, unknown>,
  results: readonly Result[],
): void => {
  writeFileSync(path, `${JSON.stringify({ machine, results }, null, 2)}\n`);
};
