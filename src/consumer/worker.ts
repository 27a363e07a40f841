// The consumer's main loop as a long-lived part.
//
// States: starting (waiting for the database to be migrated and reachable, creating the group) ->
// running (read a batch, apply it, acknowledge it; the next read is already under way while a batch
// is applied; every claim interval, reclaim entries idle longer than --claim-idle-ms) -> stopping
// (no new reads; the batch in hand and one already read are finished and acknowledged) -> stopped.
// While a dependency is down the loop stays in its state and retries (`retrier.waiting()` says why).
import type { Clock } from '../core/clock.ts';
import { coerceError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Store } from '../ports/store.ts';
import type { BatchPlan, Delivery } from './batch-plan.ts';
import type { DeliverySource } from './deliveries.ts';
import type { BatchProcessor } from './process-batch.ts';
import type { Retrier, WaitState } from './retrier.ts';

export const WorkerStates = ['idle', 'starting', 'running', 'stopping', 'stopped', 'failed'] as const;
export type WorkerState = (typeof WorkerStates)[number];

export type WorkerStatus = {
  readonly state: WorkerState;
  readonly waiting: WaitState | undefined;
  readonly batches: number;
  readonly error?: string;
};

export type Worker = {
  start(): Promise<void>;
  /** Stops reading, finishes what was read; past `drainMs` or `deadline` gives up (entries stay pending). */
  stop(options?: { deadline?: number }): Promise<void>;
  status(): WorkerStatus;
  /** Settles when the loop ends; rejects if it ended on an unexpected error. */
  readonly finished: Promise<void>;
  /** Resolves once the loop is running (database ready, group created, own pending entries done). */
  readonly ready: Promise<void>;
};

export type WorkerDeps = {
  readonly store: Store;
  readonly source: DeliverySource;
  readonly process: BatchProcessor;
  readonly retrier: Retrier;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Aborted by `stop()` past the drain deadline: retries end, work is left pending. */
  readonly giveUp: AbortController;
};

export type WorkerSettings = {
  readonly group: string;
  readonly topics: readonly string[];
  readonly claimIdleMs: number;
  readonly blockMs: number;
  readonly drainMs?: number;
};

// Any id works: the probe only proves the ledger table is there and the database answers.
const PROBE_EVENT_ID = '00000000-0000-0000-0000-000000000000';

type Read = { readonly startedAt: number; readonly result: Promise<BatchPlan> };

export const createWorker = (deps: WorkerDeps, settings: WorkerSettings): Worker => {
  const { source, retrier, logger, clock } = deps;
  const reclaimEveryMs = Math.max(50, Math.min(5_000, Math.floor(settings.claimIdleMs / 2)));
  const stopReading = new AbortController();
  const cursors = new Map(settings.topics.map((t) => [t, '0-0']));
  let state: WorkerState = 'idle';
  let batches = 0;
  let failure: string | undefined;
  let lastReclaim = 0;
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

  /** Commits the batch and starts its acknowledgement; true when nothing was left pending. */
  const handlePlan = async (plan: BatchPlan, options: { wait: boolean }): Promise<boolean> => {
    const committed = await deps.process.commit(plan);
    await finishing;
    if (!committed) return false;
    const acknowledged = deps.process.finish(committed).then((done) => {
      if (done) batches += 1;
      return done;
    });
    finishing = acknowledged;
    const clean = committed.settlement.retrying.length === 0;
    return options.wait ? (await acknowledged) && clean : clean;
  };

  const handle = (deliveries: Delivery[]): Promise<boolean> =>
    handlePlan(deps.process.plan(deliveries), { wait: true });

  // A blocked read must not hold up the next reclaim: failed entries are retried on time even
  // when nothing new arrives.
  const blockFor = (): number =>
    Math.max(1, Math.min(settings.blockMs, lastReclaim + reclaimEveryMs - clock.now()));

  const startRead = (): Read => ({
    startedAt: clock.now(),
    result: retrier
      .run('read stream', async () => (stopping() ? [] : source.readNew(stopReading.signal, blockFor())), {
        signal: stopReading.signal,
        dependency: 'bus',
      })
      .catch(() => [])
      .then((deliveries) => deps.process.plan(deliveries)),
  });

  const startup = async (): Promise<void> => {
    await retrier.run(
      'database readiness',
      () => deps.store.ledger.recorded(settings.group, [PROBE_EVENT_ID]),
      {
        signal: stopReading.signal,
        dependency: 'store',
      },
    );
    const created = await retrier.run('create consumer group', () => source.ensureGroups(), {
      signal: stopReading.signal,
      dependency: 'bus',
    });
    for (const topic of created)
      logger.info(`created consumer group ${settings.group} on ${topic}`, { topic });
    // Own pending entries from before a restart under the same --name; stops at the first batch that
    // leaves entries pending (they are retried through reclaim, after --claim-idle-ms).
    while (!stopping()) {
      const history = await retrier.run('read own pending entries', () => source.readHistory(), {
        dependency: 'bus',
      });
      if (history.length === 0 || !(await handle(history))) break;
    }
  };

  // While the database is down, entries other consumers hold in memory go idle; claiming them would
  // count a delivery against each without any chance of applying it.
  const storeAnswers = (): Promise<boolean> =>
    deps.store.ping().then(
      () => true,
      () => false,
    );

  const reclaim = async (): Promise<void> => {
    lastReclaim = clock.now();
    if (!(await storeAnswers())) return;
    for (const topic of settings.topics) {
      for (let page = 0; page < 10 && !stopping(); page += 1) {
        const cursor = cursors.get(topic) ?? '0-0';
        const { deliveries, next } = await retrier.run(
          'reclaim idle entries',
          () => source.reclaim(topic, cursor),
          { dependency: 'bus' },
        );
        cursors.set(topic, next);
        if (deliveries.length > 0) await handle(deliveries);
        if (next === '0-0') break;
      }
    }
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
      if (clock.now() - lastReclaim >= reclaimEveryMs && freshRead) await reclaim();
      const read = next ?? startRead();
      next = undefined;
      const plan = await read.result;
      if (plan.deliveries.length === 0) continue;
      if (!stopping()) next = startRead();
      await handlePlan(plan, { wait: false });
    }
    // In flight: the read already sent; it answers within its block time.
    if (next) await handlePlan(await next.result, { wait: true });
    if (stopReading.signal.aborted) {
      // A blocked read cut off at the drain deadline may have been served by Redis just before: its
      // entries are pending for this consumer although the reply never arrived. Take them now.
      const own = await retrier
        .run('read own pending entries', () => source.readHistory(), { dependency: 'bus' })
        .catch(() => []);
      if (own.length > 0) await handle(own);
    }
    await finishing;
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
          state = 'stopped';
          resolveFinished();
        } catch (thrown) {
          const error = coerceError(thrown);
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
      batches,
      ...(failure === undefined ? {} : { error: failure }),
    }),
  };
};
