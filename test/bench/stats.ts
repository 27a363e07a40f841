// Small statistics for benchmark samples.

export const percentile = (sorted: readonly number[], p: number): number => {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
};

/** NaN if any value is: a run that could not measure a figure must not be hidden by the others. */
export const median = (values: readonly number[]): number =>
  values.some(Number.isNaN)
    ? Number.NaN
    : percentile(
        [...values].sort((a, b) => a - b),
        50,
      );

export const round = (value: number, digits = 0): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

export const rate = (count: number, ms: number): number =>
  ms > 0 ? (count * 1000) / ms : Number.POSITIVE_INFINITY;
