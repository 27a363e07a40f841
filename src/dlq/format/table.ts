// Plain-text tables that fit a width: shrinkable columns give up space first, cells are cut with `…`.
import { cut, oneLine, padEnd, padStart, visibleLength } from './text.ts';

export type Column = {
  readonly header: string;
  readonly align?: 'left' | 'right';
  /** May be cut to fit the width, down to `min` characters; lower numbers give way first. */
  readonly shrink?: number;
  readonly min?: number;
};

export type TableOptions = {
  readonly width: number;
  readonly gap?: number;
  /** Styles the header line (bold on a terminal); applied after padding so widths stay right. */
  readonly header?: (text: string) => string;
};

const columnWidths = (
  columns: readonly Column[],
  rows: readonly string[][],
  options: TableOptions,
): number[] => {
  const gap = options.gap ?? 2;
  const widths = columns.map((column, i) =>
    Math.max(visibleLength(column.header), ...rows.map((row) => visibleLength(row[i] ?? ''))),
  );
  let excess = widths.reduce((sum, w) => sum + w, 0) + gap * (columns.length - 1) - options.width;
  const order = columns
    .map((column, i) => ({ column, i }))
    .filter(({ column }) => column.shrink !== undefined)
    .sort((a, b) => (a.column.shrink ?? 0) - (b.column.shrink ?? 0));
  for (const { column, i } of order) {
    if (excess <= 0) break;
    const min = Math.max(column.min ?? 8, 1);
    const width = widths[i] as number;
    const give = Math.min(excess, Math.max(0, width - min));
    widths[i] = width - give;
    excess -= give;
  }
  return widths;
};

/** Renders header and rows as lines (no trailing newline). Cells are made single-line and printable. */
export const renderTable = (
  columns: readonly Column[],
  rawRows: readonly (readonly string[])[],
  options: TableOptions,
): string => {
  const gap = ' '.repeat(options.gap ?? 2);
  const rows = rawRows.map((row) => columns.map((_, i) => oneLine(row[i] ?? '')));
  const widths = columnWidths(columns, rows, options);
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => {
        const width = widths[i] as number;
        const text = cut(cell, width);
        if (i === cells.length - 1 && columns[i]?.align !== 'right') return text;
        return columns[i]?.align === 'right' ? padStart(text, width) : padEnd(text, width);
      })
      .join(gap);
  const header = line(columns.map((column) => column.header));
  return [options.header ? options.header(header) : header, ...rows.map(line)].join('\n');
};
