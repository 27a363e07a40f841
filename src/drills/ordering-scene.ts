// The ordering drill's scene: two users whose events halt (one behind a bad imported event, one behind
// a handler defect), a few others that keep flowing, and what the store says about each of them.
import { uuidv7 } from '../core/ids.ts';
import type { StreamEntry } from '../ports/bus.ts';
import type { DrillKit } from './drill-kit.ts';

/** Renames of each halted user written after its failing event: they park. */
export const LATER = 3;
/** Users that are renamed meanwhile and must not wait. */
export const OTHERS = 3;

export type HaltedUser = {
  readonly id: string;
  readonly aggregateKey: string;
  /** The event that is dead-lettered. */
  readonly failing: string;
  /** The events after it, in outbox order: they park behind the dead letter. */
  readonly later: readonly string[];
};

export type Scene = {
  /** Halted behind an event an old importer wrote with bad data: released by resolve. */
  readonly ann: HaltedUser;
  /** Halted behind a handler defect for his events: released by reprocess once fixed. */
  readonly bob: HaltedUser;
  /** Each other user's rename, written among the halted users' events. */
  readonly others: ReadonlyArray<{ readonly id: string; readonly rename: string }>;
};

export type SceneUsers = { readonly ann: string; readonly bob: string; readonly others: readonly string[] };

export type ApplyLogRow = {
  readonly seq: number;
  readonly event_id: string;
  readonly outbox_id: number | string | null;
  readonly display_name: string | null;
};

/** user.updated for the user as an importer wrote it: the built-in handler rejects the empty email. */
const writeBadImport = async (kit: DrillKit, userId: string): Promise<string> => {
  const eventId = uuidv7();
  await kit.store.withTransaction((tx) =>
    tx.outbox.insert([
      {
        eventId,
        topic: kit.topic,
        eventType: 'user.updated',
        aggregateType: 'user',
        aggregateId: userId,
        payload: { id: userId, email: '', display_name: 'Imported' },
      },
    ]),
  );
  return eventId;
};

/** Creates the users and waits until their user.created events are applied; undefined if they never are. */
export const createSceneUsers = async (kit: DrillKit): Promise<SceneUsers | undefined> => {
  const users = await kit.createUsers(2 + OTHERS);
  const created = users.map((u) => u.eventId);
  const applied = await kit.waitFor(async () => (await appliedCount(kit, created)) === created.length);
  const [ann, bob, ...others] = users.map((u) => u.id);
  if (!applied || !ann || !bob) return undefined;
  return { ann, bob, others };
};

/**
 * Ann's bad import, Bob's first rename (failing from now on: the defect), then LATER renames of Ann
 * and Bob and one of each other user, interleaved.
 */
export const writeHaltingEvents = async (kit: DrillKit, users: SceneUsers): Promise<Scene> => {
  const annFailing = await writeBadImport(kit, users.ann);
  kit.faults.handler.aggregates.add(users.bob);
  const bobFailing = await kit.renameUser(users.bob, 'Bob 0');
  const annLater: string[] = [];
  const bobLater: string[] = [];
  const others: Array<{ id: string; rename: string }> = [];
  for (let i = 0; i < LATER; i += 1) {
    annLater.push(await kit.renameUser(users.ann, `Ann ${i + 1}`));
    bobLater.push(await kit.renameUser(users.bob, `Bob ${i + 1}`));
    const other = users.others[i];
    if (other) others.push({ id: other, rename: await kit.renameUser(other, `Other ${i + 1}`) });
  }
  const halted = (id: string, failing: string, later: string[]): HaltedUser => ({
    id,
    aggregateKey: `user/${id}`,
    failing,
    later,
  });
  return {
    ann: halted(users.ann, annFailing, annLater),
    bob: halted(users.bob, bobFailing, bobLater),
    others,
  };
};

/** One dead letter per event id, when each is in the DLQ stream. */
export const deadLettersOf = async (
  kit: DrillKit,
  eventIds: readonly string[],
): Promise<Map<string, StreamEntry>> => {
  const found = new Map<string, StreamEntry>();
  for (const entry of await kit.deadLetters(eventIds)) found.set(entry.fields.event_id ?? '', entry);
  return found;
};

/** How many of these events the group has applied (ledger rows). */
export const appliedCount = async (kit: DrillKit, eventIds: readonly string[]): Promise<number> => {
  if (eventIds.length === 0) return 0;
  const [row] = await kit.sql<{ n: number | string }>(
    `SELECT count(*) AS n FROM event_ledger WHERE consumer_group = $1 AND event_id IN (${kit.placeholders(eventIds.length, 2)})`,
    [kit.group, ...eventIds],
  );
  return Number(row?.n ?? 0);
};

/** The events of the user the consumer applied since it was watched, in the order it applied them. */
export const applyLogOf = (kit: DrillKit, userId: string): Promise<ApplyLogRow[]> =>
  kit.sql<ApplyLogRow>(
    'SELECT seq, event_id, outbox_id, display_name FROM drill_apply_log WHERE aggregate_id = $1 ORDER BY seq',
    [userId],
  );

/** The user row and its lint profile side by side. */
export const userAndProfile = async (kit: DrillKit, userId: string) =>
  (
    await kit.sql<Record<string, unknown>>(
      `SELECT u.email AS user_email, p.email AS profile_email, u.display_name AS user_name,
              p.display_name AS profile_name, u.status AS user_status, p.status AS profile_status
       FROM users u JOIN lint_profiles p ON p.user_id = u.id WHERE u.id = $1`,
      [userId],
    )
  )[0];

export const profileMatches = (row: Record<string, unknown> | undefined): boolean =>
  row !== undefined &&
  row.user_email === row.profile_email &&
  row.user_name === row.profile_name &&
  row.user_status === row.profile_status;
