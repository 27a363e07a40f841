// The consumer's main loop as a long-lived part.
//
// States: starting (waiting for the database, and for the relay to record each topic's partition
// count) -> running (own partitions by lease; take each new one over; read new entries of the owned
// ones, apply them in order per aggregate, acknowledge; the next read is already under way while a
// batch is applied; between batches: retry failed entries, release parked events, give unwanted
// partitions back) -> stopping (no new reads; the batch in hand and one already read are finished;
// leases released) -> stopped. While a dependency is down the loop stays in its state and retries
// (`retrier.waiting()` says why).
import type { Clock } from '../core/clock.ts';
import { ensureDeadLetterStreams } from '../core/dead-letter-streams.ts';
import { coerceError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { type OwnershipTicks, startOwnershipTicks } from '../core/ownership-ticks.ts';
import { partitionResources } from '../core/partition-assignment.ts';
import type { OwnedPartition, Ownership } from '../core/partition-ownership.ts';
import type { Bus } from '../ports/bus.ts';
import type { Store } from '../ports/store.ts';
import type { Delivery } from './batch-plan.ts';
import type { DeliverySource } from './deliveries.ts';
import type { GateCounts, OrderGate } from './order-gate.ts';
import { createPartitionWork } from './partition-work.ts';
import type { BatchProcessor, CommitOutcome, Committed } from './process-batch.ts';
import type { Retrier, WaitState } from './retrier.ts';

export const WorkerStates = ['idle', 'starting', 'running', 'stopping', 'stopped', 'failed'] as const;
export type WorkerState = (typeof WorkerStates)[number];

export type WorkerStatus = {
  readonly state: WorkerState;
  readonly waiting: WaitState | undefined;
  /** Topics whose partition count is not recorded yet (the consumer waits for mm-relay). */
  readonly awaitingPartitions: readonly string[];
  readonly batches: number;
  readonly partitions: readonly OwnedPartition[];
  readonly members: readonly string[];
  readonly order: GateCounts;
  readonly error?: string;
};

export type Worker = {
  start(): Promise<void>;
  /** Stops reading, finishes what was read; past `drainMs` or `deadline` gives up (entries stay pending). */
  stop(options?: { deadline?: number }): Promise<void>;
  status(): WorkerStatus;
  /** Settles when the loop ends; rejects if it ended on an unexpected error. */
  readonly finished: Promise<void>;
  /** Resolves once the loop is running (database ready, partition counts known, first leases taken). */
  readonly ready: Promise<void>;
};

export type WorkerDeps = {
  readonly store: Store;
  readonly bus: Bus;
  readonly source: DeliverySource;
  readonly process: BatchProcessor;
  readonly retrier: Retrier;
  readonly ownership: Ownership;
  readonly gate: OrderGate;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Aborted by `stop()` past the drain deadline: retries end, work is left pending. */
  readonly giveUp: AbortController;
};

export type WorkerSettings = {
  readonly group: string;
  readonly topics: readonly string[];
  readonly batchSize: number;
  readonly claimIdleMs: number;
  readonly blockMs: number;
  readonly leaseMs: number;
  readonly drainMs?: number;
};

// Any id works: the probe only proves the ledger table is there and the database answers.
const PROBE_EVENT_ID = '00000000-0000-0000-0000-000000000000';
// Short: a consumer started beside its relay waits only until the relay has recorded the count.
const COUNT_POLL_MS = 100;
const IDLE_WAIT_MS = 250;

type Read = {
  readonly startedAt: number;
  readonly streams: readonly string[];
  readonly result: Promise<Delivery[]>;
};

export const createWorker = (deps: WorkerDeps, settings: WorkerSettings): Worker => {
  const { source, retrier, logger, clock, ownership, gate } = deps;
  const reclaimEveryMs = Math.max(50, Math.min(5_000, Math.floor(settings.claimIdleMs / 2)));
  const tickEveryMs = Math.max(100, Math.floor(settings.leaseMs / 3));
  const pollEveryMs = Math.min(1_000, tickEveryMs);
  const stopReading = new AbortController();
  let state: WorkerState = 'idle';
  let batches = 0;
  let failure: string | undefined;
  let lastReclaim = 0;
  let lastPoll = 0;
  let lastTickAt = 0;
  let counts = new Map<string, number>();
  let awaiting: string[] = [...settings.topics];
  let ticks: OwnershipTicks | undefined;
  let ticking: Promise<void> | undefined;
  let resolveFinished: () => void = () => {};
  let rejectFinished: (error: Error) => void = () => {};
  const finished = new Promise<void>((resolve, reject) => {
    resolveFinished = resolve;
    rejectFinished = reject;
  });
  finished.catch(() => {});
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  const stopping = (): boolean => state === 'stopping';

  // At most one batch is being acknowledged while the next one commits.
  let finishing: Promise<boolean> = Promise.resolve(true);

  /** Only entries of partitions still owned are applied; the rest stay pending for their owner. */
  const commitOwned = async (deliveries: readonly Delivery[]): Promise<CommitOutcome> => {
    const owned = deliveries.filter((d) => ownership.fence(d.stream) !== undefined);
    if (owned.length === 0) return undefined;
    const streams = [...new Set(owned.map((d) => d.stream))];
    const fences = streams.flatMap((s) => ownership.fence(s) ?? []);
    const outcome = await deps.process.commit(deps.process.plan(owned), fences);
    if (outcome === 'fenced') {
      for (const stream of streams) {
        ownership.drop(stream);
        gate.forgetStream(stream);
      }
    }
    return outcome;
  };

  const acknowledge = (committed: Committed): Promise<boolean> => {
    const acknowledged = finishing.then(() =>
      deps.process.finish(committed).then((done) => {
        if (done) batches += 1;
        return done;
      }),
    );
    finishing = acknowledged;
    return acknowledged;
  };

  /** Commits and acknowledges, waiting for both. */
  const handle = async (deliveries: Delivery[]): Promise<CommitOutcome> => {
    const outcome = await commitOwned(deliveries);
    if (outcome && outcome !== 'fenced') await acknowledge(outcome);
    return outcome;
  };

  const work = createPartitionWork(
    {
      bus: deps.bus,
      parking: deps.store.parking,
      source,
      ownership,
      gate,
      retrier,
      logger,
      now: () => clock.now(),
      handle,
      stopping,
      counts: () => counts,
    },
    settings,
  );

  const readCounts = async (): Promise<void> => {
    const next = new Map<string, number>();
    for (const topic of settings.topics) {
      const n = await deps.bus.partitions(topic);
      if (n !== undefined) next.set(topic, n);
    }
    for (const [topic, n] of next) {
      const before = counts.get(topic);
      if (before !== undefined && before !== n)
        logger.warn(`topic ${topic} now has ${n} partitions (was ${before})`, { topic, partitions: n });
    }
    counts = next;
    awaiting = settings.topics.filter((t) => !next.has(t));
  };

  const tick = (): Promise<void> => {
    ticking ??= (async () => {
      try {
        lastTickAt = clock.now();
        await readCounts().catch(() => {});
        await ownership.tick(partitionResources(settings.topics, counts));
      } finally {
        ticking = undefined;
      }
    })();
    return ticking;
  };

  const nextDueIn = (): number =>
    Math.min(lastReclaim + reclaimEveryMs, lastPoll + pollEveryMs, lastTickAt + tickEveryMs) - clock.now();

  const startRead = (): Read => {
    const now = clock.now();
    const streams = stopping() ? [] : ownership.readable(now);
    if (streams.length === 0) {
      return {
        startedAt: now,
        streams,
        result: clock.sleep(IDLE_WAIT_MS, stopReading.signal).then(() => []),
      };
    }
    const blockMs = Math.max(1, Math.min(settings.blockMs, ownership.readBudget(now), nextDueIn()));
    return {
      startedAt: now,
      streams,
      result: retrier
        .run('read stream', () => source.readNew(streams, stopReading.signal, blockMs), {
          signal: stopReading.signal,
          dependency: 'bus',
        })
        .catch(() => []),
    };
  };

  const startup = async (): Promise<void> => {
    await retrier.run(
      'database readiness',
      () => deps.store.ledger.recorded(settings.group, [PROBE_EVENT_ID]),
      { signal: stopReading.signal, dependency: 'store' },
    );
    // An empty <topic>.dlq from the start (its name does not depend on the partition count, so
    // before waiting for it): a missing one tells operators they look in the wrong place.
    await retrier.run(
      'create dead-letter streams',
      () => ensureDeadLetterStreams(deps.bus, settings.topics),
      { signal: stopReading.signal, dependency: 'bus' },
    );
    let told = false;
    while (!stopping()) {
      await readCounts().catch(() => {});
      if (awaiting.length === 0) break;
      if (!told) {
        logger.warn(
          `waiting for the partition count of ${awaiting.join(', ')}: mm-relay records it when it starts`,
          { topics: awaiting },
        );
        told = true;
      }
      await clock.sleep(COUNT_POLL_MS, stopReading.signal);
    }
    if (stopping()) return;
    await tick();
    ticks = startOwnershipTicks({ ownership, tick, tickEveryMs, now: () => clock.now() });
  };

  // While the database is down, entries go idle; claiming them would count a delivery against each
  // without any chance of applying it.
  const storeAnswers = (): Promise<boolean> =>
    deps.store.ping().then(
      () => true,
      () => false,
    );

  /** Between batches: partitions gained and lost, retries, releases, polls. */
  const housekeeping = async (next: Read | undefined, freshRead: boolean): Promise<void> => {
    const { taken, lost } = ownership.changes();
    for (const stream of lost) gate.forgetStream(stream);
    for (const partition of taken) {
      if (stopping()) break;
      if (ownership.fence(partition.stream)?.token === partition.fence.token) await work.takeOver(partition);
    }
    for (const stream of ownership.unwanted()) {
      // A read in flight may still bring entries of it: release once that read is handled.
      if (next?.streams.includes(stream)) continue;
      await finishing;
      await ownership.release(stream);
      gate.forgetStream(stream);
    }
    const now = clock.now();
    if (now - lastReclaim >= reclaimEveryMs && freshRead) {
      lastReclaim = now;
      if (await storeAnswers()) await work.reclaim();
    }
    if (now - lastPoll >= pollEveryMs) {
      lastPoll = now;
      await work.poll().catch((thrown: unknown) => {
        logger.debug(`parking poll failed: ${coerceError(thrown).message}`);
      });
    }
    await work.release();
  };

  const loop = async (): Promise<void> => {
    await startup();
    if (state === 'starting') state = 'running';
    markReady();
    let next: Read | undefined;
    while (!stopping()) {
      // A read that waited behind a long batch (an outage) holds entries idle for that long; reclaim
      // only after it is handled, so its entries are not claimed back from ourselves.
      const freshRead = !next || clock.now() - next.startedAt < settings.claimIdleMs / 2;
      await housekeeping(next, freshRead);
      const read = next ?? startRead();
      next = undefined;
      const deliveries = await read.result;
      if (deliveries.length === 0) continue;
      if (!stopping()) next = startRead();
      // The previous batch's acknowledgement first: its entries are older and still pending until then.
      await finishing;
      await work.handleOlderPending(deliveries);
      const outcome = await commitOwned(deliveries);
      if (outcome && outcome !== 'fenced') void acknowledge(outcome);
    }
    // In flight: the read already sent; it answers within its block time.
    if (next) await handle(await next.result);
    await finishing;
  };

  const leave = async (): Promise<void> => {
    ticks?.stop();
    await ticking?.catch(() => {});
    await ownership.leave().catch(() => {});
  };

  return {
    finished,
    ready,
    start: async () => {
      if (state !== 'idle') return;
      state = 'starting';
      void (async () => {
        try {
          await loop();
          await leave();
          state = 'stopped';
          resolveFinished();
        } catch (thrown) {
          const error = coerceError(thrown);
          await leave();
          if (deps.giveUp.signal.aborted || stopping()) {
            state = 'stopped';
            resolveFinished();
            return;
          }
          state = 'failed';
          failure = error.message;
          logger.error(`consumer loop failed: ${error.message}`, { error });
          rejectFinished(error);
        }
      })();
    },
    stop: async ({ deadline } = {}) => {
      if (state === 'idle') state = 'stopped';
      if (state === 'stopped' || state === 'failed') return;
      const starting = state === 'starting';
      state = 'stopping';
      const limit = settings.drainMs ?? 10_000;
      const drainMs = deadline === undefined ? limit : Math.min(limit, Math.max(0, deadline - clock.now()));
      // Cutting off a read Redis is serving would leave its entries pending here unseen, so a read in
      // flight gets its block time to answer; only startup waits are ended at once.
      if (starting) stopReading.abort();
      const cutReads = setTimeout(() => stopReading.abort(), Math.min(settings.blockMs + 250, drainMs / 2));
      const giveUp = setTimeout(() => deps.giveUp.abort(), drainMs);
      try {
        await finished;
      } catch {
        // already logged by the loop
      } finally {
        clearTimeout(cutReads);
        clearTimeout(giveUp);
      }
    },
    status: () => ({
      state,
      waiting: retrier.waiting(),
      awaitingPartitions: awaiting,
      batches,
      partitions: ownership.partitions(),
      members: ownership.members(),
      order: gate.counts(),
      ...(failure === undefined ? {} : { error: failure }),
    }),
  };
};
