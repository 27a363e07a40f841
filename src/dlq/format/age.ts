// Human ages and durations for tables and reports: `45s`, `12m`, `3h 5m`, `2d 4h`.

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A compact age with at most two units; negative ages (clock skew) show as `0s`. */
export const formatAge = (ms: number): string => {
  const t = Math.max(0, Math.floor(ms));
  if (t < MINUTE) return `${Math.floor(t / SECOND)}s`;
  if (t < HOUR) return `${Math.floor(t / MINUTE)}m`;
  if (t < DAY) {
    const minutes = Math.floor((t % HOUR) / MINUTE);
    return minutes === 0 ? `${Math.floor(t / HOUR)}h` : `${Math.floor(t / HOUR)}h ${minutes}m`;
  }
  const hours = Math.floor((t % DAY) / HOUR);
  return hours === 0 ? `${Math.floor(t / DAY)}d` : `${Math.floor(t / DAY)}d ${hours}h`;
};

/** Elapsed time of a run: `850 ms`, `5.0 s`, `2m 5s`. */
export const formatElapsed = (ms: number): string => {
  if (ms < SECOND) return `${Math.round(ms)} ms`;
  if (ms < MINUTE) return `${(ms / SECOND).toFixed(1)} s`;
  return `${Math.floor(ms / MINUTE)}m ${Math.floor((ms % MINUTE) / SECOND)}s`;
};

/** ISO 8601 UTC to the second, for tables (`2024-05-01 13:04:05Z`). */
export const formatTime = (ms: number): string =>
  Number.isFinite(ms)
    ? new Date(ms)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d{3}Z$/, 'Z')
    : '?';
