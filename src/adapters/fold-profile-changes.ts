// Folds a batch of profile changes to one per user (last wins, version counts every change), so a
// set-based upsert touches each row once and still applies the changes one after another. A change
// older than one before it in the batch (by outbox id) is dropped, as the upsert drops one older
// than the stored profile.
import type { LintProfileChange } from '../ports/lint-profiles.ts';

export type FoldedChange = LintProfileChange & {
  readonly lastOutboxId: number | null;
  readonly changes: number;
};

/** True when `next` comes at or before `current` in its aggregate (both positions known). */
export const isStalePosition = (next: number | null, current: number | null): boolean =>
  next !== null && current !== null && next <= current;

export const foldProfileChanges = (changes: readonly LintProfileChange[]): FoldedChange[] => {
  const byUser = new Map<string, FoldedChange>();
  for (const change of changes) {
    const previous = byUser.get(change.userId);
    const position = change.lastOutboxId ?? null;
    if (previous && isStalePosition(position, previous.lastOutboxId)) continue;
    // Spelled out rather than spread: one object of one shape per change, on the hot path.
    byUser.set(change.userId, {
      userId: change.userId,
      email: change.email,
      displayName: change.displayName,
      status: change.status,
      lastEventId: change.lastEventId,
      lastOutboxId: position ?? previous?.lastOutboxId ?? null,
      changes: (previous?.changes ?? 0) + 1,
    });
  }
  // In user order, so two consumers upserting overlapping users lock rows in the same order.
  return [...byUser.values()].sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
};
