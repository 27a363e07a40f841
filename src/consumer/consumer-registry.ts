// Who holds a name in the group: every running consumer renews a heartbeat under its name; names with
// nothing pending and no heartbeat for --stale-consumer-ms (left by crashes, or restarts without
// --name) are removed from the group and logged. Live names (hot standbys too) are never removed; a
// name with pending entries stays until another consumer claims them. A clean stop removes its own
// name when nothing is pending under it.
import { coerceError, NoGroupError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { streamsOfTopics } from '../core/topic-streams.ts';
import type { Bus, ConsumerInfo } from '../ports/bus.ts';

export type ConsumerRegistryOptions = {
  readonly bus: Bus;
  readonly group: string;
  readonly name: string;
  readonly topics: readonly string[];
  readonly staleMs: number;
  readonly logger: Logger;
  readonly now: () => number;
};

export type ConsumerRegistry = {
  /** One heartbeat and one sweep; the timer calls it, tests may too. */
  tick(): Promise<void>;
  /** Names with a heartbeat younger than the threshold at the last tick (null before the first). */
  live(): number | null;
  start(): void;
  stop(): Promise<void>;
};

/** Renewed five times per threshold, so one missed beat never makes a live consumer look stale. */
export const heartbeatEveryMs = (staleMs: number): number =>
  Math.max(50, Math.min(30_000, Math.floor(staleMs / 5)));

const isStale = (
  consumer: ConsumerInfo,
  beatAt: number | undefined,
  now: number,
  staleMs: number,
): boolean => {
  if (consumer.pending > 0) return false;
  // Names from before heartbeats existed: the backend's idle time decides, where it has one.
  if (beatAt === undefined) return consumer.idleMs === null || consumer.idleMs > staleMs;
  return now - beatAt > staleMs;
};

export const createConsumerRegistry = (options: ConsumerRegistryOptions): ConsumerRegistry => {
  const { bus, group, name, staleMs, logger } = options;
  let live: number | null = null;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const consumersOf = async (topic: string): Promise<ConsumerInfo[]> => {
    try {
      return await bus.consumers(topic, group);
    } catch (thrown) {
      if (thrown instanceof NoGroupError) return [];
      throw thrown;
    }
  };

  const sweep = async (now: number): Promise<void> => {
    const beats = await bus.heartbeats(group);
    live = Object.values(beats).filter((at) => now - at <= staleMs).length;
    const registered = new Set<string>();
    // Names live on each partition stream of the topics.
    for (const topic of await streamsOfTopics(bus, options.topics)) {
      for (const consumer of await consumersOf(topic)) {
        if (consumer.name === name || !isStale(consumer, beats[consumer.name], now, staleMs)) {
          registered.add(consumer.name);
          continue;
        }
        if (await bus.removeConsumer(topic, group, consumer.name)) {
          const since = beats[consumer.name];
          logger.info(
            `removed stale consumer ${consumer.name} from group ${group} on ${topic}: nothing pending, no heartbeat ${since === undefined ? 'ever' : `for ${Math.round((now - since) / 1000)}s`}`,
            { topic, stale_consumer: consumer.name },
          );
        } else registered.add(consumer.name);
      }
    }
    const gone = Object.entries(beats)
      .filter(([beater, at]) => beater !== name && now - at > staleMs && !registered.has(beater))
      .map(([beater]) => beater);
    await bus.forgetHeartbeats(group, gone);
  };

  const tick = async (): Promise<void> => {
    const now = options.now();
    await bus.heartbeat(group, name, now);
    await sweep(now);
  };

  const safeTick = (): void => {
    if (running) return;
    running = tick()
      .catch((thrown: unknown) => logger.debug(`consumer registry: ${coerceError(thrown).message}`))
      .finally(() => {
        running = undefined;
      });
  };

  return {
    tick,
    live: () => live,
    start: () => {
      if (timer) return;
      safeTick();
      timer = setInterval(safeTick, heartbeatEveryMs(staleMs));
      timer.unref();
    },
    stop: async () => {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
      try {
        for (const topic of await streamsOfTopics(bus, options.topics))
          await bus.removeConsumer(topic, group, name).catch(() => false);
        await bus.forgetHeartbeats(group, [name]);
      } catch (thrown) {
        logger.debug(`consumer registry on stop: ${coerceError(thrown).message}`);
      }
    },
  };
};
