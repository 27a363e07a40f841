// A doorbell for the relay loop: notifications ring it, the loop waits on it with a timeout (the poll
// interval). A ring while nobody waits is kept, so a notification during a drain is never lost.

export type WakeSignal = {
  ring(): void;
  /** Resolves on a ring (or one kept from before), after `ms`, or when `signal` aborts. */
  wait(ms: number, signal?: AbortSignal): Promise<void>;
  /** Forgets a kept ring (a relay holding no partition has nothing to drain for it). */
  clear(): void;
};

export const createWakeSignal = (): WakeSignal => {
  let rung = false;
  let release: (() => void) | undefined;
  return {
    ring: () => {
      rung = true;
      release?.();
    },
    clear: () => {
      rung = false;
    },
    wait: (ms, signal) =>
      new Promise<void>((resolve) => {
        if (rung || signal?.aborted || ms <= 0) {
          rung = false;
          return resolve();
        }
        const done = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          release = undefined;
          rung = false;
          resolve();
        };
        const timer = setTimeout(done, ms);
        release = done;
        signal?.addEventListener('abort', done, { once: true });
      }),
  };
};
