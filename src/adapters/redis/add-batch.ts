// Bus.addBatch on Redis: one pipeline of XADDs (one round trip), each entry its own outcome, on a
// connection of its own where a batch that failed is never sent again.
import type { StreamFields } from '../../core/envelope.ts';
import { PermanentError, TransientError } from '../../core/errors.ts';
import type { AddOutcome, Bus } from '../../ports/bus.ts';
import type { RedisConnection, SendOnceConnection } from './connection.ts';
import { redisOutage, translateRedisError } from './errors.ts';

type PipelineResults = [error: Error | null, reply: unknown][] | null;

const xaddArgs = (key: string, fields: StreamFields): string[] => {
  const args = [key, '*'];
  for (const name in fields) args.push(name, fields[name] as string);
  return args;
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

const outcomeOf = ([error, reply]: [Error | null, unknown]): AddOutcome => {
  if (!error) return { id: String(reply) };
  const translated = translateRedisError(error);
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
  const send = async (connection: RedisConnection, entries: Parameters<Bus['addBatch']>[0]) => {
    const pipeline = connection.pipeline();
    for (const entry of entries) pipeline.call('XADD', xaddArgs(key(entry.stream), entry.fields));
    return (await withDeadline(pipeline.exec(), timeoutMs, publisher.drop)) as PipelineResults;
  };

  return async (entries) => {
    if (entries.length === 0) return [];
    try {
      const results = await send(await publisher.get(), entries);
      if (!results || results.length !== entries.length) {
        throw redisOutage('a batch of adds was cut short');
      }
      return results.map(outcomeOf);
    } catch (error) {
      // Whatever was in flight stays unanswered: the connection goes with it, so nothing of it
      // arrives after the caller has given up on the batch.
      const translated = translateRedisError(error);
      if (translated instanceof TransientError) publisher.drop();
      throw translated;
    }
  };
};
