// Keeps each stream of the relay's topics within its retention without dropping what a consumer
// group still needs. Soft limits (--stream-maxlen, --stream-max-age, --stream-max-bytes) trim by MINID
// up to the older of "where the limit would cut" and "the oldest entry some group has not
// acknowledged"; only the hard limits (--stream-hard-max, --stream-hard-max-bytes) trim
// unacknowledged entries, counted per group and logged (hard-trim.ts). A stream without any group
// keeps everything short of a hard limit: the consumer that creates its group at 0 later must still
// find every event published before it started.
// A sweep runs every --trim-interval-ms on a timer (a burst is trimmed without new events), and
// sooner after half a cap's worth of new entries; each sweep also measures how full the hard limits
// are and which groups are dead, so the warning comes before anything is lost.
import { coerceError, isTransient } from '../core/errors.ts';
import { compareStreamIds, nextStreamId } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import { type GroupBacklog, oldestNeededId, streamBacklogs } from '../core/stream-backlog.ts';
import type { Bus } from '../ports/bus.ts';
import { createGroupWatch } from './dead-groups.ts';
import { type OnTrimmedUnconsumed, trimHard } from './hard-trim.ts';
import { createIdRing, type IdRing } from './id-ring.ts';
import {
  hardLimitFills,
  type RetentionLimits,
  type RetentionStatus,
  type StreamRetention,
} from './retention.ts';

export type TrimmerOptions = {
  readonly bus: Bus;
  readonly logger: Logger;
  readonly limits: RetentionLimits;
  /** Sweep at most this often after new entries, and on a timer this often (1 s when 0). */
  readonly intervalMs: number;
  /** The streams to sweep besides those written to (the topics' partition streams). */
  readonly streams?: () => Promise<readonly string[]>;
  readonly onTrimmedUnconsumed: OnTrimmedUnconsumed;
  /** Each sweep's picture of retention. */
  readonly onStatus?: (status: RetentionStatus) => void;
  readonly now?: () => number;
};

export type Trimmer = {
  /** Notes entries this relay added (after their batch committed). */
  record(stream: string, ids: readonly string[]): void;
  /** Sweeps if one is due after new entries; never throws. */
  maybeTrim(): Promise<void>;
  /** Sweeps now (after any sweep in flight); never throws. */
  trimNow(): Promise<void>;
  /** Starts the timer that sweeps without new entries. */
  start(): void;
  stop(): Promise<void>;
  /** The last sweep's picture; undefined before the first. */
  status(): RetentionStatus | undefined;
};

// Reading the head of a stream back costs entries; a restarted relay does it in slices this big
// until its own record of ids reaches the cap.
const PROBE_ENTRIES = 1_000;
const DEFAULT_SWEEP_MS = 1_000;

const olderOf = (a: string, b: string | null): string => (b !== null && compareStreamIds(b, a) < 0 ? b : a);
const newerOf = (a: string | undefined, b: string | undefined): string | undefined =>
  a === undefined ? b : b === undefined || compareStreamIds(a, b) >= 0 ? a : b;

const heldBy = (backlogs: readonly GroupBacklog[]): StreamRetention['heldBy'] => {
  const oldest = oldestNeededId(backlogs);
  const group = backlogs.find((b) => b.oldestUnackedId !== null && b.oldestUnackedId === oldest);
  return group && oldest !== null ? { group: group.group, oldestUnackedId: oldest } : null;
};

export const createTrimmer = (options: TrimmerOptions): Trimmer => {
  const { bus, logger, limits } = options;
  const { maxLen } = limits;
  const now = options.now ?? Date.now;
  const watch = createGroupWatch(bus, limits.deadGroupAfterMs);
  const rings = new Map<string, IdRing>();
  const touched = new Set<string>();
  const measureBytes = limits.maxBytes > 0 || limits.hardMaxBytes > 0;
  const countTrigger = maxLen > 0 ? Math.max(1, Math.floor(maxLen / 2)) : Number.POSITIVE_INFINITY;
  let addedSinceRun = 0;
  let lastRun = now();
  let lastWarned = 0;
  let latest: RetentionStatus | undefined;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  /** The id from which the newest `keep` entries start, as far as this relay can tell cheaply. */
  const boundaryKeeping = async (
    stream: string,
    length: number,
    keep: number,
  ): Promise<string | undefined> => {
    if (keep === maxLen) {
      const fromRing = rings.get(stream)?.boundary();
      if (fromRing !== undefined) return fromRing;
    }
    const head = await bus.range(stream, { count: Math.min(length - keep, PROBE_ENTRIES) });
    const last = head[head.length - 1];
    return last ? nextStreamId(last.id) : undefined;
  };

  /** Where the soft limits would cut: the newest of their boundaries. */
  const softBoundary = async (stream: string, length: number, bytes: number | null) => {
    let boundary: string | undefined;
    if (maxLen > 0 && length > maxLen) boundary = await boundaryKeeping(stream, length, maxLen);
    if (limits.maxAgeMs > 0) boundary = newerOf(boundary, `${Math.max(0, now() - limits.maxAgeMs)}-0`);
    if (limits.maxBytes > 0 && bytes !== null && bytes > limits.maxBytes && length > 0) {
      const keep = Math.floor((length * limits.maxBytes) / bytes);
      boundary = newerOf(boundary, await boundaryKeeping(stream, length, keep));
    }
    return boundary;
  };

  const sweepStream = async (stream: string, backlogs: readonly GroupBacklog[]): Promise<StreamRetention> => {
    let length = await bus.len(stream);
    let bytes = measureBytes ? await bus.streamBytes(stream) : null;
    if (backlogs.length > 0 && length > 0) {
      const boundary = await softBoundary(stream, length, bytes);
      if (boundary !== undefined) {
        const removed = await bus.trim(stream, { minId: olderOf(boundary, oldestNeededId(backlogs)) });
        if (removed > 0) {
          length -= removed;
          if (measureBytes) bytes = await bus.streamBytes(stream);
        }
      }
    }
    if (limits.hardMax > 0 && length > limits.hardMax) {
      const cap = `hard cap of ${limits.hardMax} entries`;
      length -= await trimHard(
        bus,
        logger,
        { stream, count: length - limits.hardMax, cap, backlogs },
        options.onTrimmedUnconsumed,
      );
      if (measureBytes) bytes = await bus.streamBytes(stream);
    }
    if (limits.hardMaxBytes > 0 && bytes !== null && bytes > limits.hardMaxBytes && length > 0) {
      const keep = Math.floor((length * limits.hardMaxBytes) / bytes);
      const cap = `hard cap of ${limits.hardMaxBytes} bytes (it took ${bytes})`;
      length -= await trimHard(
        bus,
        logger,
        { stream, count: length - keep, cap, backlogs },
        options.onTrimmedUnconsumed,
      );
      bytes = await bus.streamBytes(stream);
    }
    return {
      stream,
      length,
      bytes,
      fills: hardLimitFills(limits, length, bytes),
      groups: backlogs.map((b) => b.group),
      heldBy: heldBy(backlogs),
    };
  };

  const streamsToSweep = async (): Promise<string[]> => {
    const named = new Set(touched);
    touched.clear();
    try {
      for (const stream of (await options.streams?.()) ?? []) named.add(stream);
    } catch (thrown) {
      warn('Listing the streams to trim failed', coerceError(thrown));
    }
    return [...named];
  };

  const warn = (what: string, error: Error, stream?: string): void => {
    if (isTransient(error) || now() - lastWarned < 60_000) return;
    lastWarned = now();
    logger.warn(`${what}: ${error.message}`, stream === undefined ? {} : { stream });
  };

  const sweep = async (): Promise<void> => {
    addedSinceRun = 0;
    lastRun = now();
    const streams: StreamRetention[] = [];
    const backlogsOf = new Map<string, readonly GroupBacklog[]>();
    for (const stream of await streamsToSweep()) {
      try {
        const backlogs = await streamBacklogs(bus, stream);
        backlogsOf.set(stream, backlogs);
        streams.push(await sweepStream(stream, backlogs));
      } catch (thrown) {
        touched.add(stream); // try again next sweep
        warn(`Trimming stream ${stream} failed`, coerceError(thrown), stream);
      }
    }
    let deadGroups = latest?.deadGroups ?? [];
    try {
      deadGroups = await watch.sweep(backlogsOf, now());
    } catch (thrown) {
      warn('Checking consumer groups for a live consumer failed', coerceError(thrown));
    }
    const groups = [...new Set([...backlogsOf.values()].flatMap((list) => list.map((b) => b.group)))].sort();
    latest = { at: now(), streams, groups, deadGroups };
    options.onStatus?.(latest);
  };

  /** One sweep at a time: a timer sweep and a sweep after a batch never trim the same stream at once. */
  const exclusive = (): Promise<void> => {
    const previous = running ?? Promise.resolve();
    const next = previous
      .then(sweep)
      .catch((thrown: unknown) => warn('Trimming failed', coerceError(thrown)));
    running = next;
    void next.finally(() => {
      if (running === next) running = undefined;
    });
    return next;
  };

  return {
    record: (stream, ids) => {
      if (ids.length === 0) return;
      if (maxLen > 0) {
        let ring = rings.get(stream);
        if (!ring) {
          ring = createIdRing(maxLen);
          rings.set(stream, ring);
        }
        for (const id of ids) ring.push(id);
      }
      touched.add(stream);
      addedSinceRun += ids.length;
    },
    maybeTrim: async () => {
      if (touched.size === 0) return;
      if (addedSinceRun < countTrigger && now() - lastRun < options.intervalMs) return;
      await exclusive();
    },
    trimNow: exclusive,
    start: () => {
      if (timer) return;
      timer = setInterval(
        () => {
          if (!running) void exclusive();
        },
        options.intervalMs > 0 ? options.intervalMs : DEFAULT_SWEEP_MS,
      );
      timer.unref();
    },
    stop: async () => {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
    status: () => latest,
  };
};
