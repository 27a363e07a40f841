// Where mm-dlq looks (Redis host, database, key prefix; or a local file), and the rule that a
// dead-letter stream that does not exist means the wrong place: the relay and every consumer create
// `<topic>.dlq` empty when they start, so "no dead letters" is only said of a stream that exists.
import { NotFoundError } from '../../core/errors.ts';
import type { Bus } from '../../ports/bus.ts';
import { DLQ_SUFFIX, type DlqStream, dlqStream } from './names.ts';
import { streamExists } from './scan.ts';

export type Place = {
  /** `Redis 127.0.0.1:6379 db 0, key prefix "mm:"` or `local file /srv/mm-local.db`. */
  readonly text: string;
  /** The key a stream has there (Redis: with the prefix). */
  keyOf(stream: string): string;
};

export const redisPlace = (redisUrl: string, keyPrefix: string): Place => {
  const url = new URL(redisUrl);
  const db = url.pathname.replace(/^\//, '') || '0';
  return {
    text: `Redis ${url.hostname}:${url.port || '6379'} db ${db}, key prefix "${keyPrefix}"`,
    keyOf: (stream) => keyPrefix + stream,
  };
};

export const filePlace = (file: string): Place => ({ text: `local file ${file}`, keyOf: (stream) => stream });

const existingList = (names: readonly string[]): string =>
  names.length === 0
    ? 'no dead-letter streams exist there'
    : `dead-letter streams there: ${names.join(', ')}`;

/** Names of the `<topic>.dlq` streams there (keys that only end in `.dlq`, other prefixes' among them, are left out). */
export const dlqStreamNames = async (bus: Bus): Promise<string[]> =>
  (await bus.streamsEndingWith(DLQ_SUFFIX)).filter((name) => {
    try {
      dlqStream(name);
      return true;
    } catch {
      return false;
    }
  });

/** Throws NotFoundError (exit 66) naming the place and what does exist, unless `dlq` (or its audit) exists. */
export const requireDlqStream = async (bus: Bus, place: Place, dlq: DlqStream): Promise<void> => {
  if ((await streamExists(bus, dlq.name)) || (await streamExists(bus, dlq.audit))) return;
  const existing = await dlqStreamNames(bus);
  throw new NotFoundError(
    `${dlq.name} does not exist in ${place.text} (key ${place.keyOf(dlq.name)}): wrong prefix, database or name? ${existingList(existing)}. The relay and consumers create it empty when they start.`,
  );
};

/** For commands over every dead-letter stream: none at all under the place is the wrong place too. */
export const requireAnyDlqStream = async (bus: Bus, place: Place): Promise<void> => {
  if ((await dlqStreamNames(bus)).length > 0) return;
  throw new NotFoundError(
    `no dead-letter streams (*${DLQ_SUFFIX}) exist in ${place.text}: wrong prefix or database? The relay and consumers create them empty when they start.`,
  );
};
