// The Redis Bus: Redis Streams through ioredis, keys under a prefix, blocking reads on their own connection.
import type { Redis } from 'ioredis';
import { PermanentError, TransientError } from '../../core/errors.ts';
import type { AddOutcome, Bus, ExecResult, StreamRead } from '../../ports/bus.ts';
import { redisCall, translateRedisError } from './errors.ts';
import { encodeExec, execScript } from './exec-script.ts';
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
import { createRespPipe, encodeCommand, encodeXadds, type RespPipe } from './resp-pipe.ts';
import { isReplyError } from './resp-reader.ts';

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

export const createRedisBus = (redis: Redis, options: RedisBusOptions = {}): Bus => {
  const prefix = options.keyPrefix ?? '';
  const key = (stream: string): string => prefix + stream;
  const unkey = (k: string): string => (k.startsWith(prefix) ? k.slice(prefix.length) : k);
  const graceMs = options.blockGraceMs ?? 5_000;
  // The relay's bulk XADDs and the consumer's blocked reads go over bare RESP connections of their
  // own (resp-pipe.ts); a blocked read parks its connection, so other commands never queue behind it.
  const pipeTo = (timeoutMs: number): RespPipe =>
    createRespPipe({
      host: redis.options.host ?? '127.0.0.1',
      port: redis.options.port ?? 6379,
      username: redis.options.username,
      password: redis.options.password,
      db: redis.options.db,
      path: redis.options.path,
      tls: redis.options.tls,
      timeoutMs,
    });
  let publishPipe: RespPipe | undefined;
  let readPipe: RespPipe | undefined;
  const publisher = (): RespPipe => {
    publishPipe ??= pipeTo(options.publishTimeoutMs ?? 5_000);
    return publishPipe;
  };
  const blockedReader = (): RespPipe => {
    readPipe ??= pipeTo(graceMs);
    return readPipe;
  };
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
        : ((await redisCall(() => redis.call('XREADGROUP', ...args))) as [string, RawEntry[]][] | null);
    return (reply ?? []).map(([k, raw]): StreamRead => ({ stream: unkey(k), entries: toEntries(raw) }));
  };

  // A stopped (not crashed) Redis keeps the socket open, so a blocked read that gets no answer
  // within its BLOCK time plus the grace is an outage. An interrupted read (outage or abort) drops
  // its connection and is never sent again: a re-sent XREADGROUP would take entries into the
  // pending list of a consumer that is no longer waiting for them.
  const readBlocked = async (
    args: readonly string[],
    blockMs: number,
    signal: AbortSignal | undefined,
  ): Promise<[string, RawEntry[]][] | null> => {
    if (signal?.aborted) return null;
    const pipe = blockedReader();
    const onAbort = (): void => pipe.drop('blocked read aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const [reply] = await pipe.send(
        Buffer.from(encodeCommand(['XREADGROUP', ...args])),
        1,
        blockMs + graceMs,
      );
      if (isReplyError(reply)) throw translateRedisError(new Error(reply.error));
      return reply as [string, RawEntry[]][] | null;
    } catch (error) {
      if (signal?.aborted) return null;
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  };

  return {
    kind: 'redis',
    add: (stream, fields) =>
      redisCall(() => redis.xadd(key(stream), '*', ...flattenFields(fields)) as Promise<string>),

    addBatch: async (entries) => {
      if (entries.length === 0) return [];
      const payload = encodeXadds(entries.map((entry) => ({ key: key(entry.stream), fields: entry.fields })));
      const replies = await publisher().send(payload, entries.length);
      return replies.map((reply): AddOutcome => {
        if (!isReplyError(reply)) return { id: String(reply) };
        const translated = translateRedisError(new Error(reply.error));
        if (translated instanceof TransientError) throw translated;
        return {
          error: translated instanceof PermanentError ? translated : new PermanentError(translated.message),
        };
      });
    },

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
      publishPipe?.close();
      readPipe?.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
};
