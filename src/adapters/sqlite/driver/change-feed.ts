// Wake-ups for waiters on a SQLite file: an in-process event after each local commit (so a read in the
// same process returns within a few ms of an add), and PRAGMA data_version polling with back-off for
// commits made by other processes.
import { EventEmitter } from 'node:events';
import type { SqliteDriver } from './driver.ts';

export type Topic = 'bus' | 'outbox';

export type ChangeMark = {
  readonly generation: Readonly<Record<Topic, number>>;
  readonly dataVersion: number;
};

export type ChangeFeed = {
  /** Called after this process committed changes to `topics`. */
  announce(topics: Iterable<Topic>): void;
  /** Where things stand now; take it before looking, then wait from it, so no change slips between. */
  mark(): ChangeMark;
  /** True when `topic` changed in this process or anything changed elsewhere since `mark`. */
  changedSince(mark: ChangeMark, topic: Topic): boolean;
  /** Resolves true on a change since `mark`, false when `timeoutMs` passes or `signal` aborts. */
  waitForChange(mark: ChangeMark, topic: Topic, timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /** Calls `listener` on every local announcement of `topic`; returns an unsubscribe. */
  onLocal(topic: Topic, listener: () => void): () => void;
};

export const firstPollMs = 2;
export const maxPollMs = 50;

/** `reader` should be a connection that never writes, so every commit by anyone moves its data_version. */
export const createChangeFeed = (reader: SqliteDriver): ChangeFeed => {
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const generation: Record<Topic, number> = { bus: 0, outbox: 0 };
  const dataVersion = (): number => {
    try {
      return Number(reader.prepare('PRAGMA data_version').get<{ data_version: number }>()?.data_version ?? 0);
    } catch {
      return -1; // closed: report a change so the waiter looks again and meets the real error
    }
  };
  const changedSince = (mark: ChangeMark, topic: Topic): boolean =>
    generation[topic] !== mark.generation[topic] || dataVersion() !== mark.dataVersion;

  return {
    announce: (topics) => {
      for (const topic of topics) {
        generation[topic] += 1;
        events.emit(topic);
      }
    },
    mark: () => ({ generation: { ...generation }, dataVersion: dataVersion() }),
    changedSince,
    waitForChange: (mark, topic, timeoutMs, signal) =>
      new Promise<boolean>((resolve) => {
        if (changedSince(mark, topic)) return resolve(true);
        if (signal?.aborted || timeoutMs <= 0) return resolve(false);
        const deadline = Date.now() + timeoutMs;
        let delay = firstPollMs;
        let timer: NodeJS.Timeout | undefined;
        const finish = (changed: boolean): void => {
          clearTimeout(timer);
          events.off(topic, onLocal);
          signal?.removeEventListener('abort', onAbort);
          resolve(changed);
        };
        const onLocal = (): void => finish(true);
        const onAbort = (): void => finish(false);
        const poll = (): void => {
          const changed = dataVersion() !== mark.dataVersion;
          const left = deadline - Date.now();
          if (changed || left <= 0) {
            finish(changed);
            return;
          }
          timer = setTimeout(poll, Math.min(delay, left));
          delay = Math.min(delay * 2, maxPollMs);
        };
        events.on(topic, onLocal);
        signal?.addEventListener('abort', onAbort, { once: true });
        timer = setTimeout(poll, Math.min(delay, timeoutMs));
      }),
    onLocal: (topic, listener) => {
      events.on(topic, listener);
      return () => {
        events.off(topic, listener);
      };
    },
  };
};
