// Which dead letters a command applies to: by event type, error text or fingerprint, and age.
import type { DeadLetterView } from './dead-letter-view.ts';

export type Filter = {
  readonly eventType?: string | undefined;
  /** Case-insensitive text in `<class>: <message>`. */
  readonly error?: string | undefined;
  readonly fingerprint?: string | undefined;
  /** Only entries that entered the DLQ at or after this time. */
  readonly sinceMs?: number | undefined;
  /** Only entries that entered the DLQ before this time (purge). */
  readonly beforeMs?: number | undefined;
};

export const hasFilter = (filter: Filter): boolean =>
  filter.eventType !== undefined ||
  filter.error !== undefined ||
  filter.fingerprint !== undefined ||
  filter.sinceMs !== undefined ||
  filter.beforeMs !== undefined;

export const matches = (view: DeadLetterView, filter: Filter): boolean => {
  if (filter.eventType !== undefined && view.eventType !== filter.eventType) return false;
  if (filter.fingerprint !== undefined && view.fingerprint.toLowerCase() !== filter.fingerprint.toLowerCase())
    return false;
  if (filter.error !== undefined) {
    const text = `${view.errorClass}: ${view.errorMessage}`.toLowerCase();
    if (!text.includes(filter.error.toLowerCase())) return false;
  }
  if (filter.sinceMs !== undefined && view.createdMs < filter.sinceMs) return false;
  if (filter.beforeMs !== undefined && view.createdMs >= filter.beforeMs) return false;
  return true;
};

/** Range bounds that let the stream do the time filtering (ids are `<ms>-<seq>`). */
export const rangeBounds = (filter: Filter): { start: string; end: string } => ({
  start: filter.sinceMs === undefined ? '-' : `${Math.max(0, Math.floor(filter.sinceMs))}-0`,
  end: filter.beforeMs === undefined ? '+' : `(${Math.max(0, Math.floor(filter.beforeMs))}-0`,
});

/** Human summary of the filters, for "no dead letters match ..." lines. */
export const describeFilter = (filter: Filter): string => {
  const parts: string[] = [];
  if (filter.eventType !== undefined) parts.push(`event type ${filter.eventType}`);
  if (filter.error !== undefined) parts.push(`error containing "${filter.error}"`);
  if (filter.fingerprint !== undefined) parts.push(`fingerprint ${filter.fingerprint}`);
  if (filter.sinceMs !== undefined) parts.push(`since ${new Date(filter.sinceMs).toISOString()}`);
  if (filter.beforeMs !== undefined) parts.push(`before ${new Date(filter.beforeMs).toISOString()}`);
  return parts.join(', ');
};
