// What a dead letter holds back: per consumer group, the aggregate its event halts and how many of
// that aggregate's later events are parked behind it (the parking store's blocks and counts).
import { coerceError, TransientError } from '../../core/errors.ts';
import type { AggregateBlock, ParkingStore } from '../../ports/parking.ts';
import { NO_DATABASE } from './ledger-status.ts';

export type HaltedGroup = {
  readonly group: string;
  readonly aggregateKey: string;
  /** Events of the aggregate parked behind the dead letter in this group. */
  readonly waiting: number;
  readonly since: string;
  readonly deadLetterId: string | null;
};

export type Halted =
  | { readonly checked: false; readonly reason: string }
  | { readonly checked: true; readonly groups: readonly HaltedGroup[]; readonly waiting: number };

export const notChecked = (reason = NO_DATABASE): Halted => ({ checked: false, reason });

const haltedGroup = async (parking: ParkingStore, block: AggregateBlock): Promise<HaltedGroup> => ({
  group: block.group,
  aggregateKey: block.aggregateKey,
  waiting: await parking.countBehind(block.group, block.aggregateKey),
  since: block.since,
  deadLetterId: block.deadLetterId,
});

/** Every block the dead letter's event holds, whatever the group, with its waiting count. */
export const haltedBehind = async (parking: ParkingStore | undefined, eventId: string): Promise<Halted> => {
  if (!parking) return notChecked();
  if (eventId === '') return { checked: true, groups: [], waiting: 0 };
  const blocks = await parking.blocksOfEvent(eventId.toLowerCase());
  const groups: HaltedGroup[] = [];
  for (const block of blocks) groups.push(await haltedGroup(parking, block));
  groups.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
  return { checked: true, groups, waiting: groups.reduce((sum, g) => sum + g.waiting, 0) };
};

// A few lookups at a time: a report over a full DLQ stays quick without flooding a small pool.
const CONCURRENCY = 4;

/**
 * `haltedBehind` for many event ids (duplicates looked up once), keyed by event id as given. For
 * reading only: an unreachable database makes every count "not checked", the dead letters still show.
 */
export const haltedBehindEach = async (
  parking: ParkingStore | undefined,
  eventIds: readonly string[],
): Promise<Map<string, Halted>> => {
  const unique = [...new Set(eventIds)];
  const found = new Map<string, Halted>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < unique.length) {
      const eventId = unique[next] as string;
      next += 1;
      found.set(eventId, await haltedBehind(parking, eventId));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, unique.length) }, worker));
  } catch (thrown) {
    const error = coerceError(thrown);
    if (!(error instanceof TransientError)) throw error;
    const unavailable = notChecked(`database unavailable: ${error.message}`);
    return new Map(unique.map((eventId) => [eventId, unavailable]));
  }
  return found;
};

/** `haltedBehind` of one event for reading only (see `haltedBehindEach`). */
export const haltedBehindOrUnchecked = async (
  parking: ParkingStore | undefined,
  eventId: string,
): Promise<Halted> => (await haltedBehindEach(parking, [eventId])).get(eventId) ?? notChecked();

/** `N events wait behind this dead letter`, with the right plural. */
export const waitingPhrase = (waiting: number, behind = 'this dead letter'): string =>
  `${waiting} event${waiting === 1 ? '' : 's'} ${waiting === 1 ? 'waits' : 'wait'} behind ${behind}`;

export const haltedJson = (halted: Halted) =>
  halted.checked
    ? halted.groups.map((g) => ({
        group: g.group,
        aggregate_key: g.aggregateKey,
        waiting_behind: g.waiting,
        since: g.since,
      }))
    : null;
