// XREADGROUP for the shim, blocking included: a read that finds nothing waits for a change to the
// file (an in-process wake-up right after a local commit, data_version polling for other processes),
// looks whether the group has anything new, and reads again until `blockMs` runs out.
import type { ReadGroupOptions, StreamRead } from '../../../ports/bus.ts';
import type { SqliteConnection } from '../driver/connection.ts';
import type { SqliteDriver } from '../driver/driver.ts';
import { requireGroup } from './groups.ts';
import { deliverNew, hasUndelivered, readHistory } from './pending.ts';

/** How long one wait lasts at most before the read looks at faults, aborts and its deadline again. */
const waitSliceMs = 100;

const readOnce = (db: SqliteDriver, read: ReadGroupOptions, nowMs: number): StreamRead[] => {
  // Like Redis, every stream's group is checked before anything is delivered.
  const targets = read.streams.map((stream) => requireGroup(db, stream, read.group));
  const reads: StreamRead[] = [];
  for (const target of targets) {
    if (read.history) {
      const entries = readHistory(db, target.stream, target.group, read.consumer, read.count, nowMs);
      reads.push({ stream: target.stream.name, entries });
    } else {
      const entries = deliverNew(db, target.stream, target.group, read.consumer, read.count, nowMs);
      if (entries.length > 0) reads.push({ stream: target.stream.name, entries });
    }
  }
  return reads;
};

export const createReadGroup = (
  connection: SqliteConnection,
  guard: () => void,
  closing: AbortSignal,
): ((read: ReadGroupOptions) => Promise<StreamRead[]>) => {
  const once = (read: ReadGroupOptions): Promise<StreamRead[]> => {
    guard();
    return connection.write((db) => {
      const reads = readOnce(db, read, Date.now());
      if (reads.length > 0) connection.touch('bus');
      return reads;
    }, 'bus');
  };
  const anythingNew = (read: ReadGroupOptions): Promise<boolean> =>
    connection.read((db) => read.streams.some((stream) => hasUndelivered(db, stream, read.group)), 'bus');

  // Consumers poll; looking first keeps an idle one from taking the file's write lock for nothing
  // (a `>` read that delivers nothing changes nothing, not even the consumer list).
  const onceIfAny = async (read: ReadGroupOptions): Promise<StreamRead[]> =>
    read.history || (await anythingNew(read)) ? once(read) : [];

  return async (read) => {
    guard();
    const blockMs = read.history ? 0 : (read.blockMs ?? 0);
    if (blockMs <= 0) return onceIfAny(read);
    const deadline = Date.now() + blockMs;
    const signal = read.signal ? AbortSignal.any([read.signal, closing]) : closing;
    let mark = connection.feed.mark();
    const first = await onceIfAny(read);
    if (first.length > 0) return first;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0 || signal.aborted) return [];
      const changed = await connection.feed.waitForChange(mark, 'bus', Math.min(left, waitSliceMs), signal);
      guard();
      if (!changed) continue;
      mark = connection.feed.mark();
      if (!(await anythingNew(read))) continue;
      const reads = await once(read);
      if (reads.length > 0) return reads;
    }
  };
};
