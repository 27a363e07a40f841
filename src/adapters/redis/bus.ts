// The Redis Bus: Redis Streams through ioredis, keys under a prefix; the relay's batches of adds
// and the consumer's blocked reads each on a connection of their own. On a Redis Cluster keys are
// hash-tagged per stream (keys.ts), and what spans slots is split: execs (cluster-exec.ts), reads
// of several streams, and scans, which visit every master.
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster } from 'ioredis';
import { partitionCountKey } from '../../core/partitions.ts';
import type { Bus, MemoryInfo, ReadGroupOptions, StreamRead } from '../../ports/bus.ts';
import { describeNetworkError } from '../network-errors.ts';
import { assertPartitionCount, parsePartitionCount } from '../partition-count.ts';
import { createAddBatch } from './add-batch.ts';
import { createBlockedRead } from './blocked-read.ts';
import { createClusterExec } from './cluster-exec.ts';
import { createSendOnceConnection, type RedisConnection } from './connection.ts';
import { redisCall as callRedis, redisOutage, translateRedisError as translate } from './errors.ts';
import { execScript } from './exec-script.ts';
import { createGroupMembers } from './group-members.ts';
import { byTag, keyScheme } from './keys.ts';
import { decodeReads, type RawReads } from './read-replies.ts';
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

// Reads of streams in several slots cannot block on all of them at once: they poll, starting fast
// and backing off to this pause while nothing comes.
const MAX_POLL_PAUSE_MS = 100;

/** The nodes a scan or a memory check must visit: every master of a cluster, or the one server. */
const serversOf = (redis: RedisConnection): RedisConnection[] => {
  if (!(redis instanceof Cluster)) return [redis];
  const masters = redis.nodes('master');
  // Before the slots are known (or while no node answers) there is nothing to visit yet.
  if (masters.length === 0) throw redisOutage('no master of the cluster is known yet');
  return masters;
};

/** The fullest of several servers' memory (the one that runs out first). */
const fullest = (infos: readonly MemoryInfo[]): MemoryInfo => {
  const ratio = (m: MemoryInfo): number => (m.maxMemory > 0 ? m.usedMemory / m.maxMemory : 0);
  return infos.reduce((a, b) =>
    ratio(b) > ratio(a) || (ratio(b) === ratio(a) && b.usedMemory > a.usedMemory) ? b : a,
  );
};

export const createRedisBus = (redis: RedisConnection, options: RedisBusOptions = {}): Bus => {
  const prefix = options.keyPrefix ?? '';
  const scheme = keyScheme(prefix, redis instanceof Cluster);
  const { key, unkey } = scheme;
  const graceMs = options.blockGraceMs ?? 5_000;
  const publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
  const publisher = createSendOnceConnection(redis, { timeoutMs: publishTimeoutMs });
  const reader = createSendOnceConnection(redis, { timeoutMs: graceMs });
  const addBatch = createAddBatch(publisher, key, publishTimeoutMs);
  const readBlocked = createBlockedRead(reader, graceMs);
  // Commands failing for want of a connection say why the connection failed (health reasons).
  let lastConnectionError: unknown;
  redis.on('error', (error: unknown) => {
    lastConnectionError = error;
  });
  redis.on('ready', () => {
    lastConnectionError = undefined;
  });
  const redisCall = <T>(call: () => Promise<T>): Promise<T> => callRedis(call, () => lastConnectionError);
  const translateRedisError = (error: unknown): Error => translate(error, () => lastConnectionError);
  redis.defineCommand('mmExec', { lua: execScript });
  const runExec = (redis as unknown as { mmExec: ExecCommand }).mmExec.bind(redis);
  const exec = createClusterExec(redis, scheme, (keys, arg) => runExec(keys.length, ...keys, arg));

  /** One XREADGROUP: streams that share a slot (every stream, on one server). */
  const readSlot = async (read: ReadGroupOptions, streams: readonly string[], blockMs: number) => {
    const args: string[] = ['GROUP', read.group, read.consumer, 'COUNT', String(read.count)];
    if (blockMs > 0) args.push('BLOCK', String(blockMs));
    args.push('STREAMS', ...streams.map(key), ...streams.map(() => (read.history ? '0' : '>')));
    const reply =
      blockMs > 0
        ? await readBlocked(args, blockMs, read.signal)
        : ((await redisCall(() => redis.call('XREADGROUP', ...args))) as RawReads);
    return decodeReads(reply, unkey);
  };

  /**
   * Streams in several slots: one read per slot at once (COUNT is per stream, so the answer is the
   * one a single read would give); a blocking read polls until something comes, blockMs passes or
   * the signal aborts. Polling never takes an entry that nobody waits for.
   */
  const readSlots = async (read: ReadGroupOptions, slots: readonly string[][]): Promise<StreamRead[]> => {
    const order = new Map(read.streams.map((s, i) => [s, i]));
    const deadline = Date.now() + (read.history ? 0 : (read.blockMs ?? 0));
    let pause = 5;
    for (;;) {
      const reads = (await Promise.all(slots.map((streams) => readSlot(read, streams, 0)))).flat();
      reads.sort((a, b) => (order.get(a.stream) ?? 0) - (order.get(b.stream) ?? 0));
      const left = deadline - Date.now();
      if (read.history || reads.some((r) => r.entries.length > 0) || left <= 0 || read.signal?.aborted) {
        return read.history ? reads : reads.filter((r) => r.entries.length > 0);
      }
      await sleep(Math.min(pause, left), undefined, read.signal ? { signal: read.signal } : {}).catch(
        () => {},
      );
      pause = Math.min(pause * 2, MAX_POLL_PAUSE_MS);
    }
  };

  const readGroup: Bus['readGroup'] = async (read) => {
    const slots = byTag(scheme, read.streams);
    if (slots.length > 1) return readSlots(read, slots);
    return readSlot(read, read.streams, read.history ? 0 : (read.blockMs ?? 0));
  };

  return {
    kind: 'redis',
    add: (stream, fields) =>
      redisCall(() => redis.xadd(key(stream), '*', ...flattenFields(fields)) as Promise<string>),

    addBatch,

    exec,

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

    ...createGroupMembers(redis, key),

    streamsEndingWith: async (suffix) => {
      const found = new Set<string>();
      // A tagged key ends with `}` or `}.audit`: match the prefix, then compare logical names.
      const match = scheme.cluster
        ? `${globEscape(prefix)}{*`
        : `${globEscape(prefix)}*${globEscape(suffix)}`;
      for (const server of serversOf(redis)) {
        let cursor = '0';
        do {
          const [next, keys] = await redisCall(() =>
            server.scan(cursor, 'MATCH', match, 'COUNT', 1000, 'TYPE', 'stream'),
          );
          for (const k of keys) if (unkey(k).endsWith(suffix)) found.add(unkey(k));
          cursor = next;
        } while (cursor !== '0');
      }
      return [...found].sort();
    },

    ping: async () => {
      // Between reconnect attempts (up to 2 s apart) a queued PING would outlast the health check's
      // timeout: while the last attempt failed, say why at once.
      const down = redis.status !== 'ready' ? describeNetworkError(lastConnectionError) : undefined;
      if (down !== undefined) throw redisOutage(down, lastConnectionError);
      await redisCall(() => redis.ping());
    },

    streamBytes: async (stream) =>
      Number((await redisCall(() => redis.call('MEMORY', 'USAGE', key(stream)))) ?? 0),

    memory: async () =>
      fullest(
        await Promise.all(
          serversOf(redis).map(async (server) =>
            parseMemoryInfo(await redisCall(() => server.info('memory'))),
          ),
        ),
      ),

    close: async () => {
      publisher.close();
      reader.close();
      // QUIT lets replies in flight arrive; a connection that is not up has nothing to wait for.
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
    },
  };
};
