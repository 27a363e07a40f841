// XREADGROUP ... BLOCK on a connection of its own, so other commands never queue behind a parked
// read, and an interrupted read is never sent again.
import { TransientError } from '../../core/errors.ts';
import type { SendOnceConnection } from './connection.ts';
import { redisOutage, translateRedisError } from './errors.ts';
import type { RawReads } from './read-replies.ts';

export type BlockedRead = (
  args: readonly string[],
  blockMs: number,
  signal: AbortSignal | undefined,
) => Promise<RawReads>;

/** Resolves when `signal` aborts; `off` removes the listener. */
const abortOf = (signal: AbortSignal | undefined): { aborted: Promise<null>; off(): void } => {
  let off = (): void => {};
  const aborted = new Promise<null>((resolve) => {
    if (!signal) return;
    const onAbort = (): void => resolve(null);
    signal.addEventListener('abort', onAbort, { once: true });
    off = () => signal.removeEventListener('abort', onAbort);
  });
  return { aborted, off: () => off() };
};

/**
 * A stopped (not crashed) Redis keeps the socket open, so a read with no answer `graceMs` after its
 * BLOCK time is an outage. An outage or an abort drops the connection: a re-sent XREADGROUP would
 * take entries into the pending list of a consumer that is no longer waiting for them. An aborted
 * read returns null at once; one aborted while its connection opens is never sent.
 */
export const createBlockedRead =
  (reader: SendOnceConnection, graceMs: number): BlockedRead =>
  async (args, blockMs, signal) => {
    if (signal?.aborted) return null;
    const abort = abortOf(signal);
    const waitMs = blockMs + graceMs;
    let timer: NodeJS.Timeout | undefined;
    const silence = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reader.drop();
        reject(redisOutage(`no answer ${waitMs} ms into a blocked read`));
      }, waitMs);
    });
    silence.catch(() => {}); // raced below; it may fire while no race is waiting on it yet
    try {
      const connection = await Promise.race([reader.get(), abort.aborted, silence]);
      if (connection === null || signal?.aborted) return null;
      const read = connection.call('XREADGROUP', ...args) as Promise<RawReads>;
      read.catch(() => {}); // when the race below is lost, its connection is dropped with it
      const reply = await Promise.race([read, abort.aborted, silence]);
      if (reply === null && signal?.aborted) reader.drop();
      return reply;
    } catch (error) {
      if (signal?.aborted) return null;
      // The stream's key left the server while the read waited (its cluster slot moved to another
      // node, or it was deleted): nothing was read, and the next read finds it where it is now.
      if (/^UNBLOCKED/.test((error as Error | undefined)?.message ?? '')) return null;
      const translated = translateRedisError(error);
      if (translated instanceof TransientError) reader.drop();
      throw translated;
    } finally {
      clearTimeout(timer);
      abort.off();
    }
  };
