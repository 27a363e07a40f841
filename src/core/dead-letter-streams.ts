// Services create `<topic>.dlq` empty when they start, so a dead-letter stream that does not exist
// means the tools look in the wrong place (prefix, database, name), never "no dead letters yet".
import type { Bus } from '../ports/bus.ts';
import { retryTransient } from './backoff.ts';
import { dlqStreamOf } from './envelope.ts';
import { coerceError } from './errors.ts';
import type { Logger } from './logger.ts';

export const ensureDeadLetterStreams = async (bus: Bus, topics: readonly string[]): Promise<string[]> => {
  const created: string[] = [];
  for (const topic of topics) {
    if (await bus.ensureStream(dlqStreamOf(topic))) created.push(dlqStreamOf(topic));
  }
  return created;
};

/** In the background, retried while the bus is down; a stop (the signal) ends the attempts. */
export const ensureDeadLetterStreamsSoon = (
  bus: Bus,
  topics: readonly string[],
  logger: Logger,
  signal: AbortSignal,
): Promise<void> =>
  retryTransient(() => ensureDeadLetterStreams(bus, topics), {
    signal,
    policy: { baseMs: 200, maxMs: 10_000 },
  })
    .then((created) => {
      if (created.length > 0) logger.info(`created empty dead-letter streams ${created.join(', ')}`);
    })
    .catch((thrown) => {
      if (!signal.aborted)
        logger.warn(`could not create the dead-letter streams: ${coerceError(thrown).message}`);
    });
