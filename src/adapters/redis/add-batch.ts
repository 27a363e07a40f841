// Bus.addBatch on Redis: one XADD per entry, all written to the socket at once (one round trip),
// each entry its own outcome, on a connection of its own where a batch that failed is never sent
// again.
import { Redis } from 'ioredis';
import type { StreamFields } from '../../core/envelope.ts';
import { PermanentError, TransientError } from '../../core/errors.ts';
import type { AddOutcome, Bus } from '../../ports/bus.ts';
import type { RedisConnection, SendOnceConnection } from './connection.ts';
import { redisOutage, translateRedisError } from './errors.ts';

type Entries = Parameters<Bus['addBatch']>[0];

const xaddArgs = (key: string, fields: StreamFields): string[] => {
  const args = [key, '*'];
  for (const name in fields) args.push(name, fields[name] as string);
  return args;
};

/** The sockets the commands leave by: the server's, or every connected master's of a cluster. */
const socketsOf = (connection: RedisConnection) =>
  (connection instanceof Redis ? [connection] : connection.nodes('master')).flatMap((node) =>
    node.stream ? [node.stream] : [],
  );

/**
 * Sends every XADD before any reply is read. The commands go to corked sockets and leave in one
 * write per server; this costs ioredis about half the CPU of a pipeline (measured: about 9 against
 * 19 µs an entry of ten fields), which builds one string of the whole batch and a promise chain per
 * command. A cluster routes each command to its slot's master itself.
 */
const sendAll = (connection: RedisConnection, entries: Entries, key: (stream: string) => string) => {
  const sockets = socketsOf(connection);
  for (const socket of sockets) socket.cork();
  try {
    return entries.map((entry) => connection.call('XADD', xaddArgs(key(entry.stream), entry.fields)));
  } finally {
    for (const socket of sockets) socket.uncork();
  }
};

/** Rejects with an outage (and runs `onTimeout`) when `work` has not settled within `ms`. */
const withDeadline = <T>(work: Promise<T>, ms: number, onTimeout: () => void): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(redisOutage(`no reply to a batch of adds within ${ms} ms`));
    }, ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
};

const outcomeOf = (settled: PromiseSettledResult<unknown>): AddOutcome => {
  if (settled.status === 'fulfilled') return { id: String(settled.value) };
  const translated = translateRedisError(settled.reason);
  if (translated instanceof TransientError) throw translated;
  return {
    error: translated instanceof PermanentError ? translated : new PermanentError(translated.message),
  };
};

export const createAddBatch = (
  publisher: SendOnceConnection,
  key: (stream: string) => string,
  timeoutMs: number,
): Bus['addBatch'] => {
  return async (entries) => {
    if (entries.length === 0) return [];
    try {
      const connection = await publisher.get();
      const settled = await withDeadline(
        Promise.allSettled(sendAll(connection, entries, key)),
        timeoutMs,
        publisher.drop,
      );
      return settled.map(outcomeOf);
    } catch (error) {
      // Whatever was in flight stays unanswered: the connection goes with it, so nothing of it
      // arrives after the caller has given up on the batch.
      const translated = translateRedisError(error);
      if (translated instanceof TransientError) publisher.drop();
      throw translated;
    }
  };
};
