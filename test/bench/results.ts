// Benchmark results: one row per line of the plan, judged against its target (a ratio to another line
// of the same run, or a plain limit for memory), printed as a table and written as JSON.
import { writeFileSync } from 'node:fs';
import { round } from './stats.ts';

export type Op = '>=' | '<=';

/** Throughput and latency compare with a baseline of the same run; memory has a plain limit. */
export type Target =
  | { readonly op: Op; readonly ratio: number; readonly of: string }
  | { readonly op: Op; readonly limit: number };

export const atLeast = (ratio: number, of: string): Target => ({ op: '>=', ratio, of });
export const atMost = (ratio: number, of: string): Target => ({ op: '<=', ratio, of });
export const noMoreThan = (limit: number): Target => ({ op: '<=', limit });

/** One row of the table: a figure of a measurement, maybe with a target. */
export type Line = {
  readonly name: string;
  /** Which figure of its measurement's result this line shows. */
  readonly figure: string;
  readonly unit: string;
  /** Decimals shown; 0 unless told. */
  readonly digits?: number;
  /** The name other lines' ratio targets use for this one ("raw drain"). */
  readonly key?: string;
  readonly target?: Target;
};

export type Result = {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** The figure of the same run this one is compared with, if any. */
  readonly baseline: number | null;
  readonly ratio: number | null;
  readonly target: string | null;
  /** null only for rows without a target (baselines, informational figures). */
  readonly met: boolean | null;
};

// NaN (a figure that could not be measured) meets no target.
const holds = (value: number, op: Op, bound: number): boolean =>
  op === '>=' ? value >= bound : value <= bound;

/** `measured`: each line with its value (the median of the run's rounds). */
export const judge = (measured: ReadonlyArray<{ line: Line; value: number }>): Result[] => {
  const byKey = new Map(
    measured.flatMap(({ line, value }) => (line.key ? [[line.key, { line, value }]] : [])),
  );
  return measured.map(({ line, value }): Result => {
    const shown = { name: line.name, value: round(value, line.digits ?? 0), unit: line.unit };
    const target = line.target;
    if (target === undefined) return { ...shown, baseline: null, ratio: null, target: null, met: null };
    if ('limit' in target) {
      const text = `${target.op} ${target.limit} ${line.unit}`;
      return {
        ...shown,
        baseline: null,
        ratio: null,
        target: text,
        met: holds(value, target.op, target.limit),
      };
    }
    const base = byKey.get(target.of);
    if (base === undefined)
      throw new Error(`${line.name}: its target names "${target.of}", no line of this run`);
    const ratio = value / base.value;
    return {
      ...shown,
      baseline: round(base.value, base.line.digits ?? 0),
      // Three decimals: at two, 0.448 would print as 0.45 beside a missed '>= 0.45x'.
      ratio: round(ratio, 3),
      target: `${target.op} ${target.ratio}x ${target.of}`,
      met: holds(ratio, target.op, target.ratio),
    };
  });
};

const pad = (text: string, width: number, right = false): string =>
  right ? text.padStart(width) : text.padEnd(width);

const formatNumber = (value: number | null): string =>
  value === null ? '-' : Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(1);

export const renderTable = (results: readonly Result[]): string => {
  const rows = results.map((r) => [
    r.name,
    `${formatNumber(r.value)} ${r.unit}`,
    formatNumber(r.baseline),
    r.ratio === null ? '-' : r.ratio.toFixed(3),
    r.target ?? '-',
    r.met === null ? '' : r.met ? 'met' : 'MISSED',
  ]);
  const header = ['result', 'value', 'baseline', 'ratio', 'target', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => pad(c, widths[i] ?? 0, i > 0 && i < 4))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
};

/** `runs`: every round's figures by measurement, so a median can be traced back to its samples. */
export const writeResults = (
  path: string,
  machine: Record<string, unknown>,
  results: readonly Result[],
  runs: ReadonlyArray<{ title: string; rounds: ReadonlyArray<Readonly<Record<string, number>>> }>,
): void => {
  writeFileSync(path, `${JSON.stringify({ machine, results, runs }, null, 2)}\n`);
};
