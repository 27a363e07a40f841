// At start, per topic: record the relay's --partitions, keep a count that matches, or switch to a new
// count only while the topic is drained (no outbox row waits, every group of every partition stream has
// acknowledged everything). Anything else stops the relay with a configuration error (exit 78), so a
// change of N can never split one aggregate's events across old and new streams out of order.
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { partitionStreams } from '../core/partitions.ts';
import { streamBacklogs } from '../core/stream-backlog.ts';
import type { Bus } from '../ports/bus.ts';
import type { OutboxRelay } from '../ports/outbox.ts';

export type PartitionSwitchDeps = {
  readonly bus: Bus;
  readonly outbox: OutboxRelay;
  readonly logger: Logger;
  readonly sleep: (ms: number) => Promise<void>;
};

// Relays drain their partitions all the time; the switch waits this long for them to pause, this
// many times, before it gives up.
const PAUSE_ATTEMPTS = 5;
const PAUSE_WAIT_MS = 2_000;
const PAUSE_GAP_MS = 200;

/** What still stands in the way of a switch, one phrase each; empty when the topic is drained. */
const undrained = async (
  bus: Bus,
  outbox: OutboxRelay,
  topic: string,
  recorded: number,
): Promise<string[]> => {
  const found: string[] = [];
  const waiting = (await outbox.backlog({ topic })).count;
  if (waiting > 0) found.push(`${waiting} outbox rows of ${topic} not yet published`);
  for (const stream of partitionStreams(topic, recorded)) {
    const backlogs = await streamBacklogs(bus, stream);
    if (backlogs.length === 0) {
      // Entries no group has read yet would be missed by groups that start on the new streams.
      const length = await bus.len(stream);
      if (length > 0) found.push(`${stream}: ${length} entries and no consumer group has read them`);
    }
    for (const group of backlogs) {
      if (group.oldestUnackedId === null) continue;
      const undelivered = group.undelivered === null ? 'some' : String(group.undelivered);
      found.push(
        `${stream} group ${group.group}: ${group.pending} pending, ${undelivered} not yet delivered`,
      );
    }
  }
  return found;
};

const procedure = (topic: string, recorded: number, wanted: number): string =>
  `To change the partition count of ${topic} from ${recorded} to ${wanted}: stop the writers (or let ` +
  `mm-relay, still run with --partitions ${recorded}, drain the outbox), wait until every consumer group ` +
  `has acknowledged every entry of the ${topic} streams, then restart mm-relay with --partitions ${wanted}. ` +
  'Nothing was changed.';

/** Runs `work` with every relay paused, so no relay publishes between the check and the switch. */
const withRelaysPaused = async <T>(
  deps: PartitionSwitchDeps,
  topic: string,
  work: () => Promise<T>,
): Promise<T> => {
  for (let attempt = 1; ; attempt += 1) {
    const result = await deps.outbox.withRelaysPaused(work, { waitMs: PAUSE_WAIT_MS });
    if (result) return result.value;
    if (attempt >= PAUSE_ATTEMPTS) {
      throw new ConfigError([
        `cannot change the partition count of ${topic}: another mm-relay keeps publishing; stop the other relays first`,
      ]);
    }
    await deps.sleep(PAUSE_GAP_MS);
  }
};

const settleTopic = async (deps: PartitionSwitchDeps, topic: string, wanted: number): Promise<void> => {
  const { bus, logger } = deps;
  const recorded = await bus.partitions(topic);
  if (recorded === wanted) return;
  if (recorded === undefined) {
    await bus.setPartitions(topic, wanted);
    logger.info(`Topic ${topic}: recorded ${wanted} partitions`, { topic, partitions: wanted });
    return;
  }
  const blockers = await withRelaysPaused(deps, topic, async () => {
    const found = await undrained(bus, deps.outbox, topic, recorded);
    if (found.length === 0) await bus.setPartitions(topic, wanted);
    return found;
  });
  if (blockers.length > 0) {
    throw new ConfigError([
      `--partitions ${wanted} differs from the ${recorded} partitions recorded for topic ${topic}, ` +
        `which is not drained: ${blockers.join('; ')}. ${procedure(topic, recorded, wanted)}`,
    ]);
  }
  logger.info(`Topic ${topic}: partitions changed from ${recorded} to ${wanted} (drained)`, {
    topic,
    partitions: wanted,
    previous_partitions: recorded,
  });
};

/** Settles every topic in turn; throws ConfigError (exit 78) when a change is not possible now. */
export const settlePartitions = async (
  deps: PartitionSwitchDeps,
  topics: readonly string[],
  wanted: number,
): Promise<void> => {
  for (const topic of topics) await settleTopic(deps, topic, wanted);
};
