// Entries a replay holds back (see replay-dead-letters.ts) never reach a handler: the ledger's claim
// skips them. Entries that fail before the claim (a handler's prepare, unparseable) are checked here,
// and only then, so a held event is acknowledged instead of failing and being dead-lettered again.
import { isUuid } from '../core/ids.ts';
import type { ReplayHold } from '../ports/ledger.ts';
import type { Store } from '../ports/store.ts';
import type { BatchPlan, Rejected } from './batch-plan.ts';

const holdOf = (rejected: Rejected, group: string): ReplayHold | undefined => {
  const eventId = rejected.eventId?.toLowerCase();
  return eventId !== undefined && isUuid(eventId)
    ? { consumerGroup: group, eventId, streamId: rejected.delivery.entry.id }
    : undefined;
};

/** The plan with held failures moved to `repeats` (acknowledged, counted as duplicates). */
export const withoutHeldFailures = async (
  store: Store,
  plan: BatchPlan,
  group: string,
): Promise<BatchPlan> => {
  const rejected = [...plan.failed, ...plan.deadLetters];
  const candidates = rejected.flatMap((r) => holdOf(r, group) ?? []);
  if (candidates.length === 0) return plan;
  const held = new Set((await store.ledger.held(candidates)).map((h) => `${h.eventId} ${h.streamId}`));
  if (held.size === 0) return plan;
  const isHeld = (r: Rejected): boolean => {
    const hold = holdOf(r, group);
    return hold !== undefined && held.has(`${hold.eventId} ${hold.streamId}`);
  };
  return {
    ...plan,
    failed: plan.failed.filter((r) => !isHeld(r)),
    deadLetters: plan.deadLetters.filter((r) => !isHeld(r)),
    repeats: [...plan.repeats, ...rejected.filter(isHeld).map((r) => r.delivery)],
  };
};
