// Redis key names of logical streams. On one server: the prefix and the name (`identity`,
// `identity:3`, `identity.dlq`). On a Redis Cluster every key carries a hash tag, so each partition
// stream has a slot of its own (partitions spread across nodes) and what a script touches together
// shares one: `identity:3` -> `<prefix>{identity:3}`, `identity.dlq` -> `<prefix>{identity.dlq}`, and
// a dead-letter stream's audit trail beside it, `identity.dlq.audit` -> `<prefix>{identity.dlq}.audit`,
// so closing a dead letter stays one atomic step. N = 1 names are tagged the same way (`{identity}`).
import { ConfigError } from '../../core/errors.ts';

const AUDIT_SUFFIX = '.audit';
// Where an exec split over slots remembers the adds it made (see cluster-exec.ts).
const ONCE_SUFFIX = '#once';

export type KeyScheme = {
  readonly cluster: boolean;
  readonly prefix: string;
  key(stream: string): string;
  /** The logical name of a key of this deployment (the prefix and any hash tag removed). */
  unkey(key: string): string;
  /** Streams with the same tag share a slot; on one server every stream has the same tag. */
  tagOf(stream: string): string;
  /** The hash beside `stream` (same slot) where a split exec keeps its idempotency keys. */
  onceKey(stream: string): string;
};

const slotTag = (stream: string): string =>
  stream.endsWith(AUDIT_SUFFIX) ? stream.slice(0, -AUDIT_SUFFIX.length) : stream;

export const keyScheme = (prefix: string, cluster: boolean): KeyScheme => {
  const strip = (k: string): string => (k.startsWith(prefix) ? k.slice(prefix.length) : k);
  if (!cluster) {
    return {
      cluster,
      prefix,
      key: (stream) => prefix + stream,
      unkey: strip,
      tagOf: () => '',
      onceKey: (stream) => prefix + stream + ONCE_SUFFIX,
    };
  }
  if (/[{}]/.test(prefix)) {
    // Redis hashes only the first {...} of a key: a tag in the prefix would pin every key to one slot.
    throw new ConfigError([
      `--key-prefix (MM_KEY_PREFIX) "${prefix}" holds a { or }: on a Redis Cluster mm tags every key by its partition itself`,
    ]);
  }
  const key = (stream: string): string => {
    const tag = slotTag(stream);
    return `${prefix}{${tag}}${stream.slice(tag.length)}`;
  };
  return {
    cluster,
    prefix,
    key,
    unkey: (k) => strip(k).replace(/^\{([^}]*)\}/, '$1'),
    tagOf: slotTag,
    onceKey: (stream) => key(stream) + ONCE_SUFFIX,
  };
};

/** Streams by tag, in the order each tag first appears. */
export const byTag = (scheme: KeyScheme, streams: readonly string[]): string[][] => {
  const groups = new Map<string, string[]>();
  for (const stream of streams) {
    const tag = scheme.tagOf(stream);
    const group = groups.get(tag);
    if (group) group.push(stream);
    else groups.set(tag, [stream]);
  }
  return [...groups.values()];
};
