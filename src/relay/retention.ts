// What retention is set to and what the last sweep saw: how full each stream is against its hard
// limits, which group holds it back, and which groups have a backlog nobody reads. Health, metrics
// and the trimmer's logs all read this one picture.

export type RetentionLimits = {
  /** Soft: keep near this many entries, never trimming unacknowledged ones; 0 = none. */
  readonly maxLen: number;
  /** Hard: trims even unacknowledged entries (counted per group, logged); 0 = none. */
  readonly hardMax: number;
  /** Soft: trim entries older than this (by id time); 0 = none. */
  readonly maxAgeMs: number;
  /** Soft: keep near this many bytes; 0 = none. */
  readonly maxBytes: number;
  /** Hard: memory cap that trims even unacknowledged entries; 0 = none. */
  readonly hardMaxBytes: number;
  /** A group with a backlog and no sign of a live consumer this long is dead. */
  readonly deadGroupAfterMs: number;
};

/** Health turns degraded, and the alert fires, at this share of a hard limit. */
export const HARD_LIMIT_WARN_RATIO = 0.8;

export type HardLimit = 'entries' | 'bytes';

export type HardLimitFill = {
  readonly limit: HardLimit;
  /** What the stream holds of it (entries, or bytes) and the limit itself. */
  readonly used: number;
  readonly max: number;
  readonly ratio: number;
};

export type StreamRetention = {
  readonly stream: string;
  readonly length: number;
  /** Measured only while a byte limit is set. */
  readonly bytes: number | null;
  readonly fills: readonly HardLimitFill[];
  /** The groups that read the stream. */
  readonly groups: readonly string[];
  /** The group owing the oldest entry: what keeps the stream from trimming down; null when none. */
  readonly heldBy: { readonly group: string; readonly oldestUnackedId: string } | null;
};

export type DeadGroup = {
  readonly group: string;
  /** Streams where the group has entries it has not acknowledged. */
  readonly streams: readonly string[];
  /** Since when no consumer of the group showed a sign of life (heartbeat or read). */
  readonly silentSince: number;
};

export type RetentionStatus = {
  readonly at: number;
  readonly streams: readonly StreamRetention[];
  /** Every group seen on the streams, dead or not. */
  readonly groups: readonly string[];
  readonly deadGroups: readonly DeadGroup[];
};

export const hardLimitFlag = (limit: HardLimit): string =>
  limit === 'entries' ? '--stream-hard-max' : '--stream-hard-max-bytes';

/** The fills of a stream's hard limits that are set. */
export const hardLimitFills = (
  limits: RetentionLimits,
  length: number,
  bytes: number | null,
): HardLimitFill[] => {
  const fills: HardLimitFill[] = [];
  if (limits.hardMax > 0)
    fills.push({ limit: 'entries', used: length, max: limits.hardMax, ratio: length / limits.hardMax });
  if (limits.hardMaxBytes > 0 && bytes !== null)
    fills.push({ limit: 'bytes', used: bytes, max: limits.hardMaxBytes, ratio: bytes / limits.hardMaxBytes });
  return fills;
};
