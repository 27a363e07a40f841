// Per-aggregate order on the consumer side: which events may run now and which must wait (park)
// behind an earlier event of their aggregate that failed, was dead-lettered, or is itself parked.
//
// The gate is memory only, kept by the one owner of a partition; it is rebuilt from the parking store
// and the partition's pending list when a consumer takes the partition over. An aggregate is in one
// of these states (usually none: then it has no entry and every event runs):
//   held    its failing event is pending (retried by reclaim) or, for a released parked event, waits
//           for its next attempt; later events park.
//   blocked its event was dead-lettered (--on-dead-letter halt); every later event parks until the
//           block is lifted (mm-dlq resolve, or the reprocessed event applied here).
//   fronts  it has parked events, per stream the first one's id: an event after it parks, an earlier
//           one (a takeover's pending entry) runs.
import { compareStreamIds } from '../core/ids.ts';

export type GateItem = {
  readonly stream: string;
  readonly id: string;
  /** Lower-cased event id. */
  readonly eventId: string;
  readonly aggregateKey: string;
};

export type Hold =
  | { readonly kind: 'pending'; readonly stream: string; readonly id: string; readonly since: number }
  | {
      readonly kind: 'parked';
      readonly stream: string;
      readonly eventId: string;
      /** Handler attempts so far. */
      readonly attempts: number;
      readonly retryAt: number;
    };

type AggregateState = {
  hold?: Hold;
  /** The dead-lettered event that halts the aggregate. */
  block?: string;
  fronts?: Map<string, string>;
};

export type GateCounts = { readonly held: number; readonly blocked: number; readonly waiting: number };

export type OrderGate = {
  /** For each item, in stream order: run it now, or park it. Pure. */
  verdict(item: GateItem): 'run' | 'park';
  parked(items: readonly GateItem[]): void;
  /** The event failed and will be retried: its aggregate is held by it. */
  failed(item: GateItem, now: number): void;
  /** A released parked event failed: its aggregate waits for its next attempt. */
  failedParked(aggregateKey: string, hold: Extract<Hold, { kind: 'parked' }>): void;
  /** The event is done (applied, duplicate, skipped): lifts its hold; true if it was the blocking dead letter. */
  settled(item: GateItem): boolean;
  /** The event was dead-lettered; `halt` blocks its aggregate, otherwise it is released. */
  deadLettered(item: GateItem, halt: boolean): void;
  block(aggregateKey: string, eventId: string): void;
  /** The block is gone: the parked events may follow. */
  unblocked(aggregateKey: string): void;
  isBlocked(aggregateKey: string): boolean;
  /** The dead-lettered event that blocks the aggregate, if any. */
  blockOf(aggregateKey: string): string | undefined;
  blockedKeys(): string[];
  hold(aggregateKey: string): Hold | undefined;
  /** After a release round: the parked events still waiting, per stream (empty: none left). */
  setFronts(aggregateKey: string, fronts: ReadonlyMap<string, string>): void;
  /** Aggregates whose parked events may be released now (queued, or a parked retry that is due). */
  takeReleases(now: number): string[];
  queueRelease(aggregateKey: string): void;
  /** The held entry is gone from the pending list (trimmed): its aggregate goes on. */
  dropHold(stream: string, id: string): void;
  /** Pending holds older than `before`: the caller checks they are still pending. */
  staleHolds(before: number): Array<{ aggregateKey: string; stream: string; id: string }>;
  /** Ids of the stream's entries that hold their aggregate (failed, pending until their retry). */
  heldEntries(stream: string): Set<string>;
  /** The partition changed hands: forget what the gate knew about it. */
  forgetStream(stream: string): void;
  counts(): GateCounts;
};

export const createOrderGate = (): OrderGate => {
  const states = new Map<string, AggregateState>();
  const releases = new Set<string>();

  const stateOf = (key: string): AggregateState => {
    let state = states.get(key);
    if (!state) {
      state = {};
      states.set(key, state);
    }
    return state;
  };
  const tidy = (key: string): void => {
    const state = states.get(key);
    if (state && !state.hold && state.block === undefined && (state.fronts?.size ?? 0) === 0)
      states.delete(key);
  };
  const hasFronts = (state: AggregateState | undefined): boolean => (state?.fronts?.size ?? 0) > 0;

  const verdict = (item: GateItem): 'run' | 'park' => {
    const state = states.get(item.aggregateKey);
    if (!state) return 'run';
    if (state.block !== undefined) return state.block === item.eventId ? 'run' : 'park';
    const hold = state.hold;
    if (hold?.kind === 'pending') {
      if (hold.stream !== item.stream) return 'park';
      const order = compareStreamIds(item.id, hold.id);
      if (order > 0) return 'park';
      if (order === 0) return 'run';
    } else if (hold?.kind === 'parked') return 'park';
    const front = state.fronts?.get(item.stream);
    if (front !== undefined && compareStreamIds(item.id, front) >= 0) return 'park';
    return 'run';
  };

  return {
    verdict,
    parked: (items) => {
      for (const item of items) {
        const state = stateOf(item.aggregateKey);
        state.fronts ??= new Map();
        const front = state.fronts.get(item.stream);
        if (front === undefined || compareStreamIds(item.id, front) < 0)
          state.fronts.set(item.stream, item.id);
      }
    },
    failed: (item, now) => {
      const state = stateOf(item.aggregateKey);
      const hold = state.hold;
      // A retry of the same event keeps the time its hold began.
      const since = hold?.kind === 'pending' && hold.id === item.id ? hold.since : now;
      state.hold = { kind: 'pending', stream: item.stream, id: item.id, since };
    },
    failedParked: (aggregateKey, hold) => {
      stateOf(aggregateKey).hold = hold;
    },
    settled: (item) => {
      const state = states.get(item.aggregateKey);
      if (!state) return false;
      const hold = state.hold;
      if (
        (hold?.kind === 'pending' && hold.stream === item.stream && hold.id === item.id) ||
        (hold?.kind === 'parked' && hold.eventId === item.eventId)
      ) {
        delete state.hold;
        if (hasFronts(state)) releases.add(item.aggregateKey);
      }
      const wasBlock = state.block !== undefined && state.block === item.eventId;
      tidy(item.aggregateKey);
      return wasBlock;
    },
    deadLettered: (item, halt) => {
      const state = stateOf(item.aggregateKey);
      delete state.hold;
      if (halt) state.block = item.eventId;
      else if (hasFronts(state)) releases.add(item.aggregateKey);
      tidy(item.aggregateKey);
    },
    block: (aggregateKey, eventId) => {
      stateOf(aggregateKey).block = eventId;
    },
    unblocked: (aggregateKey) => {
      const state = states.get(aggregateKey);
      if (!state || state.block === undefined) return;
      delete state.block;
      // Parked events may exist that this consumer never saw (parked before it took over).
      releases.add(aggregateKey);
      tidy(aggregateKey);
    },
    isBlocked: (aggregateKey) => states.get(aggregateKey)?.block !== undefined,
    blockOf: (aggregateKey) => states.get(aggregateKey)?.block,
    blockedKeys: () => [...states].filter(([, s]) => s.block !== undefined).map(([key]) => key),
    hold: (aggregateKey) => states.get(aggregateKey)?.hold,
    setFronts: (aggregateKey, fronts) => {
      const state = stateOf(aggregateKey);
      state.fronts = new Map(fronts);
      tidy(aggregateKey);
    },
    takeReleases: (now) => {
      const due = new Set(releases);
      releases.clear();
      for (const [key, state] of states) {
        if (state.hold?.kind === 'parked' && state.hold.retryAt <= now && state.block === undefined)
          due.add(key);
      }
      // Held or blocked aggregates wait; a parked retry that is due goes.
      return [...due].filter((key) => {
        const state = states.get(key);
        if (!state) return true;
        if (state.block !== undefined) return false;
        if (state.hold?.kind === 'pending') return false;
        return state.hold?.kind !== 'parked' || state.hold.retryAt <= now;
      });
    },
    queueRelease: (aggregateKey) => {
      releases.add(aggregateKey);
    },
    dropHold: (stream, id) => {
      for (const [key, state] of states) {
        const hold = state.hold;
        if (hold?.kind !== 'pending' || hold.stream !== stream || hold.id !== id) continue;
        delete state.hold;
        if (hasFronts(state)) releases.add(key);
        tidy(key);
      }
    },
    staleHolds: (before) => {
      const stale: Array<{ aggregateKey: string; stream: string; id: string }> = [];
      for (const [aggregateKey, state] of states) {
        const hold = state.hold;
        if (hold?.kind === 'pending' && hold.since < before)
          stale.push({ aggregateKey, stream: hold.stream, id: hold.id });
      }
      return stale;
    },
    heldEntries: (stream) => {
      const ids = new Set<string>();
      for (const state of states.values()) {
        if (state.hold?.kind === 'pending' && state.hold.stream === stream) ids.add(state.hold.id);
      }
      return ids;
    },
    forgetStream: (stream) => {
      for (const [key, state] of states) {
        if (state.hold?.stream === stream) delete state.hold;
        state.fronts?.delete(stream);
        tidy(key);
      }
    },
    counts: () => {
      let held = 0;
      let blocked = 0;
      let waiting = 0;
      for (const state of states.values()) {
        if (state.hold) held += 1;
        if (state.block !== undefined) blocked += 1;
        if (hasFronts(state)) waiting += 1;
      }
      return { held, blocked, waiting };
    },
  };
};
