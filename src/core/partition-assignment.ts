// Which partitions a member of a lease group wants (a consumer, a relay): every member of a group
// computes the same answer from the same member list, so the partitions split evenly without any coordinator. Leases make the split safe
// while members disagree (one sees a join before another does).
import { partitionStreams } from './partitions.ts';

/** Every partition stream of the topics, in one order all members agree on: topic, then partition. */
export const partitionResources = (
  topics: readonly string[],
  counts: ReadonlyMap<string, number>,
): string[] =>
  [...new Set(topics)].sort().flatMap((topic) => {
    const n = counts.get(topic);
    return n === undefined ? [] : partitionStreams(topic, n);
  });

/**
 * The resources `self` should own: the i-th resource goes to the (i mod members)-th member in name
 * order. A member not in the list (its heartbeat has not landed yet) wants nothing; members beyond
 * the resource count want nothing either (hot standbys).
 */
export const wantedResources = (
  resources: readonly string[],
  members: readonly string[],
  self: string,
): string[] => {
  const sorted = [...new Set(members)].sort();
  const index = sorted.indexOf(self);
  if (index < 0) return [];
  return resources.filter((_, i) => i % sorted.length === index);
};
