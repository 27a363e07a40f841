// The Bus port: the subset of Redis Streams that mm uses, honoured by Redis and by the SQLite stream shim.
//
// Semantics every adapter must honour (the Bus contract suite proves them against both):
// - Stream names are logical; an adapter may prefix them (key prefix) but never exposes the prefix.
// - Ids are `<ms>-<seq>`, strictly increasing per stream; `add` without an id takes the next one.
// - Delivery is at least once: an entry read through a group stays *pending* for that group, owned by
//   the consumer that read it, with a delivery count and an idle time, until `ack`. Pending entries
//   move to another consumer only by `autoClaim` (which increments the delivery count).
// - `readGroup` with `history: false` delivers entries after the group's last-delivered id (Redis `>`);
//   with `history: true` it re-reads this consumer's own pending entries from the start (Redis `0`).
// - Range bounds are inclusive; a start or end prefixed with `(` is exclusive. `-` and `+` are the ends.
// - Failures: unreachable or busy backends throw TransientError; a key of the wrong type throws
//   PermanentError; a missing group throws NoGroupError; an existing group on create is `created: false`.
// - A topic's partition count (core/partitions.ts) is recorded with the streams: `partitions` reads it
//   (undefined until recorded), `setPartitions` replaces it; every client sees the last value set.
import type { StreamFields } from '../core/envelope.ts';

export type StreamEntry = { readonly id: string; readonly fields: StreamFields };

export type StreamRead = { readonly stream: string; readonly entries: StreamEntry[] };

export type ReadGroupOptions = {
  readonly group: string;
  readonly consumer: string;
  readonly streams: readonly string[];
  readonly count: number;
  /** Wait up to this long for new entries when none are ready; 0 or absent returns at once. */
  readonly blockMs?: number;
  /** Re-read this consumer's own pending entries instead of new ones. */
  readonly history?: boolean;
  /** Ends a blocking wait early (the read then returns what it has, possibly nothing). */
  readonly signal?: AbortSignal;
};

export type GroupInfo = {
  readonly name: string;
  readonly consumers: number;
  readonly pending: number;
  readonly lastDeliveredId: string;
  /** Entries the group has read so far (Redis `entries-read`), when known. */
  readonly entriesRead: number | null;
  /** Entries not yet delivered to the group (Redis `lag`), when known. */
  readonly lag: number | null;
};

export type PendingSummary = {
  readonly count: number;
  readonly minId: string | null;
  readonly maxId: string | null;
  readonly consumers: Readonly<Record<string, number>>;
};

export type PendingEntry = {
  readonly id: string;
  readonly consumer: string;
  readonly idleMs: number;
  readonly deliveries: number;
};

export type PendingRangeOptions = {
  readonly start?: string;
  readonly end?: string;
  readonly count: number;
  readonly consumer?: string;
  readonly minIdleMs?: number;
};

export type AutoClaimOptions = {
  readonly consumer: string;
  readonly minIdleMs: number;
  readonly start?: string;
  readonly count: number;
};

export type AutoClaimResult = {
  /** Where the next call should start; `0-0` once the whole pending list was scanned. */
  readonly next: string;
  readonly entries: StreamEntry[];
  /** Pending ids whose entries no longer exist; they were removed from the pending list. */
  readonly deleted: string[];
};

export type RangeOptions = {
  /** Lower bound, `-` by default; `(id` excludes the id. */
  readonly start?: string;
  /** Upper bound, `+` by default; `(id` excludes the id. */
  readonly end?: string;
  readonly count?: number;
  /** Newest first (XREVRANGE); the bounds keep their meaning. */
  readonly reverse?: boolean;
};

export type TrimOptions = { readonly maxLen: number } | { readonly minId: string };

export type AddOutcome = { readonly id: string } | { readonly error: Error };

/** One write inside an atomic `exec`. */
export type BusWrite =
  | {
      readonly op: 'add';
      readonly stream: string;
      readonly fields: StreamFields;
      /**
       * Extra fields whose values are the ids that earlier `add`s of the same exec got, by position
       * among the adds (`{ new_stream_id: 0 }`: the first add's id), so one atomic step can write an
       * entry and a record naming it (a DLQ audit record naming the republished event).
       */
      readonly idFields?: Readonly<Record<string, number>>;
      /**
       * An idempotency key, for an exec that cannot be one atomic step (see `exec`): while the entry
       * an earlier run of the same exec added under this key still exists, a re-run returns its id
       * instead of adding again. Where exec is atomic it has nothing to do.
       */
      readonly once?: string;
    }
  | { readonly op: 'ack'; readonly stream: string; readonly group: string; readonly ids: readonly string[] }
  | { readonly op: 'del'; readonly stream: string; readonly ids: readonly string[] };

export type ExecOptions = {
  /** Apply the writes only if this entry still exists (closing a DLQ entry exactly once). */
  readonly requireEntry?: { readonly stream: string; readonly id: string };
};

export type ExecResult = {
  readonly applied: boolean;
  /** Ids of the entries added, in the order of the `add` writes. */
  readonly addedIds: string[];
};

/** One consumer of a group (Redis XINFO CONSUMERS). */
export type ConsumerInfo = {
  readonly name: string;
  /** Entries delivered to it and not yet acknowledged. */
  readonly pending: number;
  /** Milliseconds since it last read or claimed, where the backend tracks it (Redis `idle`). */
  readonly idleMs: number | null;
};

export type MemoryInfo = {
  readonly usedMemory: number;
  readonly maxMemory: number;
  readonly policy: string;
};

export type Bus = {
  readonly kind: 'redis' | 'shim';
  add(stream: string, fields: StreamFields): Promise<string>;
  /**
   * Adds many entries in one round trip, in order. Each entry gets its own outcome, so one entry that
   * fails on its own merits (wrong key type) does not fail the others. Transient failures throw.
   */
  addBatch(
    entries: ReadonlyArray<{ readonly stream: string; readonly fields: StreamFields }>,
  ): Promise<AddOutcome[]>;
  /**
   * All writes, or none, as one step; other clients never observe a partial result. On a Redis
   * Cluster this holds for writes whose streams share a slot (a stream and its `.audit`); writes to
   * several slots run as one step per slot, in order: adds first (slots of adds that others name in
   * `idFields` before them), acks and deletes after, the slot of `requireEntry` last (checked once
   * before the first step too). A run cut short between steps is made whole by running the same exec
   * again: acks and deletes repeat harmlessly, and adds with `once` are not made twice.
   */
  exec(writes: readonly BusWrite[], options?: ExecOptions): Promise<ExecResult>;
  range(stream: string, options?: RangeOptions): Promise<StreamEntry[]>;
  len(stream: string): Promise<number>;
  del(stream: string, ids: readonly string[]): Promise<number>;
  /** Removes the oldest entries; returns how many were removed. */
  trim(stream: string, options: TrimOptions): Promise<number>;
  /** Creates the group at `startId` (default `0`), creating the stream too; `created: false` if it exists. */
  createGroup(stream: string, group: string, options?: { startId?: string }): Promise<{ created: boolean }>;
  setGroupId(stream: string, group: string, id: string): Promise<void>;
  destroyGroup(stream: string, group: string): Promise<boolean>;
  groups(stream: string): Promise<GroupInfo[]>;
  readGroup(options: ReadGroupOptions): Promise<StreamRead[]>;
  ack(stream: string, group: string, ids: readonly string[]): Promise<number>;
  pending(stream: string, group: string): Promise<PendingSummary>;
  pendingRange(stream: string, group: string, options: PendingRangeOptions): Promise<PendingEntry[]>;
  autoClaim(stream: string, group: string, options: AutoClaimOptions): Promise<AutoClaimResult>;
  /** The partition count recorded for `topic`, or undefined when none is. */
  partitions(topic: string): Promise<number | undefined>;
  /** Records `topic`'s partition count (an integer >= 1), replacing any earlier one. */
  setPartitions(topic: string, partitions: number): Promise<void>;

  /**
   * Creates `stream` empty when it does not exist (no entry added, ids and counters untouched);
   * true when it was created. A dead-letter stream that exists tells the tools they look in the
   * right place even while it holds nothing.
   */
  ensureStream(stream: string): Promise<boolean>;
  /** The group's consumers by name; NoGroupError when the group does not exist. */
  consumers(stream: string, group: string): Promise<ConsumerInfo[]>;
  /**
   * Removes a consumer name from the group only while it has nothing pending (checked in the same
   * atomic step, so no pending entry is ever dropped); true when it was removed.
   */
  removeConsumer(stream: string, group: string, consumer: string): Promise<boolean>;
  /**
   * Liveness marks per group, shared by every process on the bus: `heartbeat` records that a
   * running consumer holds `consumer` at `atMs` (the writer's clock); `heartbeats` reads them;
   * `forgetHeartbeats` drops names that are gone.
   */
  heartbeat(group: string, consumer: string, atMs: number): Promise<void>;
  heartbeats(group: string): Promise<Record<string, number>>;
  forgetHeartbeats(group: string, consumers: readonly string[]): Promise<void>;
  /** Logical names of existing streams whose names end with `suffix` (e.g. `.dlq`). */
  streamsEndingWith(suffix: string): Promise<string[]>;
  /** Resolves once the backend answered; rejects with TransientError when it cannot, or this client is closed. */
  ping(): Promise<void>;
  /** Memory use and eviction policy, where the backend has them (Redis). */
  memory?(): Promise<MemoryInfo>;
  close(): Promise<void>;
};
