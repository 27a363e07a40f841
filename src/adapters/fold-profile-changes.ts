// Folds a batch of profile changes to one per user (last wins, version counts every change), so a
// set-based upsert touches each row once and still applies the changes one after another.
import type { LintProfileChange } from '../ports/lint-profiles.ts';

export type FoldedChange = LintProfileChange & { readonly changes: number };

export const foldProfileChanges = (changes: readonly LintProfileChange[]): FoldedChange[] => {
  const byUser = new Map<string, FoldedChange>();
  for (const change of changes) {
    const previous = byUser.get(change.userId);
    byUser.set(change.userId, { ...change, changes: (previous?.changes ?? 0) + 1 });
  }
  // In user order, so two consumers upserting overlapping users lock rows in the same order.
  return [...byUser.values()].sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
};
