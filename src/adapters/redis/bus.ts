// The Redis Bus: Redis Streams through ioredis, keys under a prefix; the relay's batches of adds
// and the consumer's blocked reads each on a connection of their own.
import { partitionCountKey } from '../../core/partitions.ts';
import type { Bus, ExecResult } from '../../ports/bus.ts';
import { assertPartitionCount, parsePartitionCount } from '../partition-count.ts';
import { createAddBatch } from './add-batch.ts';
import { createBlockedRead } from './blocked-read.ts';
import { createSendOnceConnection, type RedisConnection } from './connection.ts';
import { redisCall, translateRedisError } from './errors.ts';
import { encodeExec, execScript } from './exec-script.ts';
import { createReadDecoder, type RawBufferReads } from './read-replies.ts';
import {
  deletedIds,
  flattenFields,
  parseMemoryInfo,
  type RawEntry,
  toEntries,
  toGroupInfo,
  toPendingEntries,
  toPendingSummary,
} from './replies.ts';

export type { RedisConnection } from './connection.ts';

export type RedisBusOptions = {
  /** Prepended to every key, so tests and tenants can share one Redis. */
  readonly keyPrefix?: string;
  /** A blocked read that gets no answer this long after its BLOCK time is treated as an outage. */
  readonly blockGraceMs?: number;
  /** A batch of adds without every reply this long after it was sent is treated as an outage. */
  readonly publishTimeoutMs?: number;
};

type ExecCommand = (numKeys: number, ...args: string[]) => Promise<[number, string[]]>;

const globEscape = (text: string): string => text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

export const createRedisBus = (redis: RedisConnection, options: RedisBusOptions = {}): Bus => {
  const prefix = options.keyPrefix ?? '';
  const key = (stream: string): string => prefix + stream;
  const unkey = (k: string): string => (k.startsWith(prefix) ? k.slice(prefix.length) : k);
  const graceMs = options.blockGraceMs ?? 5_000;
  const publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
  const publisher = createSendOnceConnection(redis, { timeoutMs: publishTimeoutMs });
  const reader = createSendOnceConnection(redis, { timeoutMs: graceMs });
  const addBatch = createAddBatch(publisher, key, publishTimeoutMs);
  const readBlocked = createBlockedRead(reader, graceMs);
  const decodeReads = createReadDecoder();
  redis.defineCommand('mmExec', { lua: execScript });
  const runExec = (redis as unknown as { mmExec: ExecCommand }).mmExec.bind(redis);

  const readGroup: Bus['readGroup'] = async (read) => {
    const args: string[] = ['GROUP', read.group, read.consumer, 'COUNT', String(read.count)];
    const blockMs = read.history ? 0 : (read.blockMs ?? 0);
    if (blockMs > 0) args.push('BLOCK', String(blockMs));
    args.push('STREAMS', ...read.streams.map(key), ...read.streams.map(() => (read.history ? '0' : '>')));
    const reply =
      blockMs > 0
        ? await readBlocked(args, blockMs, read.signal)
        : ((await redisCall(() => redis.callBuffer('XREADGROUP', ...args))) as RawBufferReads);
    return decodeReads(reply, unkey);
  };

  return {
    kind: 'redis',
    add: (stream, fields) =>
      redisCall(() => redis.xadd(key(stream), '*', ...flattenFields(fields)) as Promise<string>),

    addBatch,

    exec: async (writes, execOptions = {}): Promise<ExecResult> => {
      const { keys, arg } = encodeExec(writes, execOptions, key);
      const [applied, addedIds] = await redisCall(() => runExec(keys.length, ...keys, arg));
      return { applied: applied === 1, addedIds: applied === 1 ? addedIds : [] };
    },

    range: async (stream, range = {}) => {
      const start = range.start ?? '-';
      const end = range.end ?? '+';
      const count = range.count === undefined ? [] : ['COUNT', range.count];
      const raw = (await redisCall(() =>
        range.reverse
          ? redis.call('XREVRANGE', key(stream), end, start, ...count)
          : redis.call('XRANGE', key(stream), start, end, ...count),
      )) as RawEntry[];
      return toEntries(raw);
    },

    len: (stream) => redisCall(() => redis.xlen(key(stream))),
    del: (stream, ids) =>
      ids.length === 0 ? Promise.resolve(0) : redisCall(() => redis.xdel(key(stream), ...ids)),

    trim: (stream, trim) =>
      redisCall(
        () =>
          ('maxLen' in trim
            ? redis.call('XTRIM', key(stream), 'MAXLEN', trim.maxLen)
            : redis.call('XTRIM', key(stream), 'MINID', trim.minId)) as Promise<number>,
      ),

    createGroup: async (stream, group, create = {}) => {
      try {
        await redis.call('XGROUP', 'CREATE', key(stream), group, create.startId ?? '0', 'MKSTREAM');
        return { created: true };
      } catch (error) {
        if (String((error as Error).message).startsWith('BUSYGROUP')) return { created: false };
        throw translateRedisError(error);
      }
    },

    setGroupId: async (stream, group, id) => {
      await redisCall(() => redis.call('XGROUP', 'SETID', key(stream), group, id));
    },

    destroyGroup: async (stream, group) =>
      (await redisCall(() => redis.call('XGROUP', 'DESTROY', key(stream), group) as Promise<number>)) === 1,

    groups: async (stream) => {
      try {
        const raw = (await redis.call('XINFO', 'GROUPS', key(stream))) as unknown[][];
        return raw.map(toGroupInfo);
      } catch (error) {
        if (/no such key/i.test(String((error as Error).message))) return [];
        throw translateRedisError(error);
      }
    },

    readGroup,

    ack: (stream, group, ids) =>
      ids.length === 0 ? Promise.resolve(0) : redisCall(() => redis.xack(key(stream), group, ...ids)),

    pending: async (stream, group) =>
      toPendingSummary((await redisCall(() => redis.call('XPENDING', key(stream), group))) as never),

    pendingRange: async (stream, group, range) => {
      const args: (string | number)[] = [key(stream), group];
      if (range.minIdleMs !== undefined) args.push('IDLE', range.minIdleMs);
      args.push(range.start ?? '-', range.end ?? '+', range.count);
      if (range.consumer !== undefined) args.push(range.consumer);
      return toPendingEntries((await redisCall(() => redis.call('XPENDING', ...args))) as never);
    },

    autoClaim: async (stream, group, claim) => {
      const [next, raw, deleted] = (await redisCall(() =>
        redis.call(
          'XAUTOCLAIM',
          key(stream),
          group,
          claim.consumer,
          claim.minIdleMs,
          claim.start ?? '0-0',
          'COUNT',
          claim.count,
        ),
      )) as [string, RawEntry[], string[] | undefined];
      return { next, entries: toEntries(raw), deleted: [...(deleted ?? []), ...deletedIds(raw)] };
    },

    partitions: async (topic) =>
      parsePartitionCount(await redisCall(() => redis.get(key(partitionCountKey(topic))))),

    setPartitions: async (topic, partitions) => {
      assertPartitionCount(partitions);
      await redisCall(() => redis.set(key(partitionCountKey(topic)), String(partitions)));
    },

    streamsEndingWith: async (suffix) => {
      const found = new Set<string>();
      const match = `${globEscape(prefix)}*${globEscape(suffix)}`;
      let cursor = '0';
      do {
        const [next, keys] = await redisCall(() =>
          redis.scan(cursor, 'MATCH', match, 'COUNT', 1000, 'TYPE', 'stream'),
        );
        for (const k of keys) found.add(unkey(k));
        cursor = next;
      } while (cursor !== '0');
      return [...found].sort();
    },

    ping: async () => {
      await redisCall(() => redis.ping());
    },

    memory: async () => parseMemoryInfo(await redisCall(() => redis.info('memory'))),

    close: async () => {
      publisher.close();
      reader.close();
      // QUIT lets replies in flight arrive; a connection that is not up has nothing to wait for.
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
    },
  };
};
