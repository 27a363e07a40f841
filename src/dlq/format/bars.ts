// Horizontal bar charts for the terminal (the report's hourly histogram).
import { padEnd, padStart, visibleLength } from './text.ts';

export type Bar = { readonly label: string; readonly value: number };

export type BarOptions = {
  /** Total line width available; the bars get what labels and numbers leave. */
  readonly width: number;
  readonly char?: string;
  /** Longest bar, so a wide terminal does not stretch the chart; 50 by default. */
  readonly maxBar?: number;
  readonly paint?: (bar: string) => string;
};

/** Bar length for a value: proportional to the largest, and never zero for a non-zero value. */
export const barLength = (value: number, max: number, width: number): number => {
  if (value <= 0 || max <= 0 || width <= 0) return 0;
  return Math.max(1, Math.round((value / max) * width));
};

export const renderBars = (bars: readonly Bar[], options: BarOptions): string => {
  if (bars.length === 0) return '';
  const labelWidth = Math.max(...bars.map((bar) => visibleLength(bar.label)));
  const valueWidth = Math.max(...bars.map((bar) => String(bar.value).length));
  const max = Math.max(...bars.map((bar) => bar.value));
  const room = Math.min(options.maxBar ?? 50, Math.max(10, options.width - labelWidth - valueWidth - 4));
  const char = options.char ?? '█';
  const paint = options.paint ?? ((bar: string) => bar);
  return bars
    .map((bar) => {
      const length = barLength(bar.value, max, room);
      const drawn = length > 0 ? ` ${paint(char.repeat(length))}` : '';
      return `${padEnd(bar.label, labelWidth)}  ${padStart(String(bar.value), valueWidth)}${drawn}`;
    })
    .join('\n');
};
