// The Bus methods about who is in a group: empty streams made on purpose, the consumers of a group,
// removing a consumer with nothing pending (atomically), and the consumers' heartbeats (a hash).
import { NoGroupError } from '../../core/errors.ts';
import type { Bus, ConsumerInfo } from '../../ports/bus.ts';
import type { RedisConnection } from './connection.ts';
import { redisCall } from './errors.ts';

// An empty stream without an entry ever added: a throwaway group made with MKSTREAM and destroyed
// in the same script, so ids and counters stay as if nothing happened. WRONGTYPE for another type.
const ensureStreamScript = `
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'stream' then return 0 end
if kind ~= 'none' then return redis.error_reply('WRONGTYPE Operation against a key holding the wrong kind of value') end
redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '$', 'MKSTREAM')
redis.call('XGROUP', 'DESTROY', KEYS[1], ARGV[1])
return 1`;

// DELCONSUMER drops the consumer's pending entries with it; checking first in the same script
// means an entry read meanwhile is never lost.
const removeConsumerScript = `
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  if consumer[2] == ARGV[2] then
    if consumer[4] > 0 then return 0 end
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
    return 1
  end
end
return 0`;

// XINFO on a missing stream says "no such key"; for the caller the group is missing.
const noKeyIsNoGroup = (error: Error): never => {
  if (/no such key/i.test(error.message))
    throw new NoGroupError(`NOGROUP ${error.message}`, { cause: error });
  throw error;
};

const toConsumerInfo = (flat: unknown[]): ConsumerInfo => {
  const info: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) info[String(flat[i])] = flat[i + 1];
  return {
    name: String(info.name),
    pending: Number(info.pending ?? 0),
    idleMs: info.idle === undefined || info.idle === null ? null : Number(info.idle),
  };
};

type GroupMembers = Pick<
  Bus,
  'ensureStream' | 'consumers' | 'removeConsumer' | 'heartbeat' | 'heartbeats' | 'forgetHeartbeats'
>;

export const createGroupMembers = (redis: RedisConnection, key: (name: string) => string): GroupMembers => {
  const beatsKey = (group: string): string => key(`consumer-heartbeats:${group}`);
  return {
    ensureStream: async (stream) =>
      (await redisCall(
        () => redis.eval(ensureStreamScript, 1, key(stream), `mm-ensure-${process.pid}`) as Promise<number>,
      )) === 1,

    consumers: async (stream, group) => {
      const raw = (await redisCall(() =>
        redis.call('XINFO', 'CONSUMERS', key(stream), group).catch(noKeyIsNoGroup),
      )) as unknown[][];
      return raw.map(toConsumerInfo).sort((a, b) => a.name.localeCompare(b.name));
    },

    removeConsumer: async (stream, group, consumer) =>
      (await redisCall(
        () =>
          redis
            .eval(removeConsumerScript, 1, key(stream), group, consumer)
            .catch(noKeyIsNoGroup) as Promise<number>,
      )) === 1,

    heartbeat: async (group, consumer, atMs) => {
      await redisCall(() => redis.hset(beatsKey(group), consumer, String(atMs)));
    },

    heartbeats: async (group) => {
      const raw = await redisCall(() => redis.hgetall(beatsKey(group)));
      return Object.fromEntries(Object.entries(raw).map(([name, at]) => [name, Number(at)]));
    },

    forgetHeartbeats: async (group, consumers) => {
      if (consumers.length === 0) return;
      await redisCall(() => redis.hdel(beatsKey(group), ...consumers));
    },
  };
};
