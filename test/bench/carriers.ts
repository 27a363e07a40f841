// What carries outbox rows to the ledger in a pipeline run: the relay and consumer services, or the
// raw pipeline's drain and consumer loops; either way two processes beside the producer's.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Insert, storeInsert } from './producer.ts';
import { RAW_GROUP, rawInsert } from './raw-pipeline.ts';
import { consumerOwns, peakRss, processedCount, startService, stopAll } from './services.ts';
import type { Production, Setup } from './setups.ts';

export const GROUP = 'markdown-lint-consumer';

export type Carrier = {
  /** The consumer group whose ledger rows tell what was applied, and when. */
  readonly group: string;
  /** How the producer commits a batch of outbox rows. */
  readonly insert: Insert;
  start(): Promise<Carrying>;
};

export type Carrying = {
  /** Events applied so far. */
  applied(): Promise<number>;
  /** The most resident memory each process has had so far, MB. */
  peakRssMb(): { readonly relay: number; readonly consumer: number };
  stop(): Promise<void>;
};

type Stoppable = { stop(): Promise<unknown> };

/** Starts both processes at once (start-up is not measured, only waited for); if one fails, neither runs. */
const startPair = async <A extends Stoppable, B extends Stoppable>(a: Promise<A>, b: Promise<B>) => {
  const [first, second] = await Promise.allSettled([a, b]);
  if (first.status === 'fulfilled' && second.status === 'fulfilled')
    return [first.value, second.value] as const;
  await Promise.all([first, second].map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
  throw first.status === 'rejected' ? first.reason : (second as PromiseRejectedResult).reason;
};

/** The built mm-relay and mm-consumer, fed by the backend's insert through the store. */
export const services = (setup: Setup): Carrier => partitionedServices(1)(setup);

/** The same, the relay spreading topic `identity` over `partitions` streams. */
export const partitionedServices =
  (partitions: number) =>
  (setup: Setup): Carrier => ({
    group: GROUP,
    insert: storeInsert(setup.store),
    start: async () => {
      const partitioned = partitions === 1 ? [] : ['--partitions', String(partitions)];
      const [relay, consumer] = await startPair(
        startService('mm-relay', [...setup.flags, ...partitioned]),
        startService('mm-consumer', setup.flags),
      );
      try {
        await consumerOwns(consumer, partitions);
      } catch (error) {
        await stopAll([relay, consumer]);
        throw error;
      }
      return {
        applied: () => processedCount(consumer),
        peakRssMb: () => ({ relay: relay.peakRssMb(), consumer: consumer.peakRssMb() }),
        stop: () => stopAll([relay, consumer]),
      };
    },
  });

const loopFile = fileURLToPath(new URL('./raw-pipeline-process.ts', import.meta.url));

/** One raw loop as a child process; resolves once it is listening (drain) or connected (consume). */
const forkLoop = async (role: 'drain' | 'consume', setup: Production) => {
  const child: ChildProcess = fork(loopFile, [role, setup.databaseUrl, setup.redisUrl, setup.streamKey], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let applied = 0;
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    child.on('message', (message) => {
      if (message === 'ready') resolve();
      else applied += Number(message);
    });
    void exited.then(() => reject(new Error(`raw ${role} loop exited (${exitCode}) before it was ready`)));
  });
  return {
    pid: child.pid,
    applied: (): number => {
      if (exitCode !== undefined) throw new Error(`raw ${role} loop exited (${exitCode})`);
      return applied;
    },
    stop: async (): Promise<void> => {
      if (exitCode === undefined) child.kill('SIGTERM');
      await exited;
    },
  };
};

/** The raw pipeline: its producer's insert, its drain loop and its consumer loop. */
export const rawPipeline = (setup: Production): Carrier => ({
  group: RAW_GROUP,
  insert: (events) => rawInsert(setup.sql, events),
  start: async () => {
    await setup.redis.xgroup('CREATE', setup.streamKey, RAW_GROUP, '0', 'MKSTREAM');
    const [drain, consumer] = await startPair(forkLoop('drain', setup), forkLoop('consume', setup));
    return {
      applied: async () => consumer.applied(),
      peakRssMb: () => ({ relay: peakRss(drain.pid), consumer: peakRss(consumer.pid) }),
      stop: async () => {
        await Promise.all([drain.stop(), consumer.stop()]);
      },
    };
  },
});
