// Keeps each topic stream near --stream-maxlen without dropping what a consumer group still needs:
// trims by MINID up to the older of "the N-th newest entry" and "the oldest entry some group has not
// acknowledged"; only --stream-hard-max trims unacknowledged entries, and that is counted and logged.
// A stream without any group keeps everything (short of the hard cap): the consumer that creates its
// group at 0 later must still find every event published before it started.
// It runs every --trim-interval-ms or after half a cap's worth of new entries, never per batch.
import { coerceError, isTransient } from '../core/errors.ts';
import { compareStreamIds, nextStreamId } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import { oldestNeededId, streamBacklogs } from '../core/stream-backlog.ts';
import type { Bus } from '../ports/bus.ts';
import { createIdRing, type IdRing } from './id-ring.ts';

export type TrimmerOptions = {
  readonly bus: Bus;
  readonly logger: Logger;
  /** 0 = keep everything (the hard cap still applies). */
  readonly maxLen: number;
  /** 0 = no hard cap. */
  readonly hardMax: number;
  readonly intervalMs: number;
  readonly onTrimmedUnconsumed: (stream: string, count: number) => void;
  readonly now?: () => number;
};

export type Trimmer = {
  /** Notes entries this relay added (after their batch committed). */
  record(stream: string, ids: readonly string[]): void;
  /** Trims the streams written since the last run, if a run is due; never throws. */
  maybeTrim(): Promise<void>;
  /** Trims every stream written since the last run now. */
  trimNow(): Promise<void>;
};

// Reading the head of a stream back costs entries; a restarted relay does it in slices this big
// until its own record of ids reaches the cap.
const PROBE_ENTRIES = 1_000;

const olderOf = (a: string, b: string | null): string => (b !== null && compareStreamIds(b, a) < 0 ? b : a);

export const createTrimmer = (options: TrimmerOptions): Trimmer => {
  const { bus, logger, maxLen, hardMax } = options;
  const now = options.now ?? Date.now;
  const rings = new Map<string, IdRing>();
  const touched = new Set<string>();
  const enabled = maxLen > 0 || hardMax > 0;
  const countTrigger = maxLen > 0 ? Math.max(1, Math.floor(maxLen / 2)) : Number.POSITIVE_INFINITY;
  let addedSinceRun = 0;
  let lastRun = now();
  let lastWarned = 0;

  /** The id from which the newest `maxLen` entries start, as far as this relay can tell cheaply. */
  const capBoundary = async (stream: string, length: number): Promise<string | undefined> => {
    const fromRing = rings.get(stream)?.boundary();
    if (fromRing !== undefined) return fromRing;
    const head = await bus.range(stream, { count: Math.min(length - maxLen, PROBE_ENTRIES) });
    const last = head[head.length - 1];
    return last ? nextStreamId(last.id) : undefined;
  };

  const trimStream = async (stream: string): Promise<void> => {
    let length = await bus.len(stream);
    if (maxLen > 0 && length > maxLen) {
      const backlogs = await streamBacklogs(bus, stream);
      const boundary = backlogs.length === 0 ? undefined : await capBoundary(stream, length);
      const needed = oldestNeededId(backlogs);
      if (boundary !== undefined) length -= await bus.trim(stream, { minId: olderOf(boundary, needed) });
    }
    if (hardMax > 0 && length > hardMax) await enforceHardCap(stream);
  };

  const enforceHardCap = async (stream: string): Promise<void> => {
    const backlogs = await streamBacklogs(bus, stream);
    const behind = backlogs.filter((g) => g.oldestUnackedId !== null);
    const removed = await bus.trim(stream, { maxLen: hardMax });
    // With groups that are all caught up, the entries removed were owed to no one: an ordinary cap.
    if (removed === 0 || (backlogs.length > 0 && behind.length === 0)) return;
    options.onTrimmedUnconsumed(stream, removed);
    const owed =
      behind.length === 0
        ? 'no consumer group has read them yet'
        : `consumer groups had not acknowledged them: ${behind
            .map((g) => `${g.group} (${g.pending} pending, oldest ${g.oldestUnackedId})`)
            .join(', ')}`;
    logger.error(
      `Stream ${stream} hit its hard cap of ${hardMax} entries: trimmed ${removed} entries; ${owed}`,
      {
        stream,
        trimmed: removed,
        hard_max: hardMax,
      },
    );
  };

  const run = async (): Promise<void> => {
    const streams = [...touched];
    touched.clear();
    addedSinceRun = 0;
    lastRun = now();
    for (const stream of streams) {
      try {
        await trimStream(stream);
      } catch (thrown) {
        touched.add(stream); // try again next run
        const error = coerceError(thrown);
        if (isTransient(error) || now() - lastWarned < 60_000) continue;
        lastWarned = now();
        logger.warn(`Trimming stream ${stream} failed: ${error.message}`, { stream });
      }
    }
  };

  return {
    record: (stream, ids) => {
      if (!enabled || ids.length === 0) return;
      let ring = rings.get(stream);
      if (!ring) {
        ring = createIdRing(maxLen);
        rings.set(stream, ring);
      }
      for (const id of ids) ring.push(id);
      touched.add(stream);
      addedSinceRun += ids.length;
    },
    maybeTrim: async () => {
      if (touched.size === 0) return;
      if (addedSinceRun < countTrigger && now() - lastRun < options.intervalMs) return;
      await run();
    },
    trimNow: run,
  };
};
