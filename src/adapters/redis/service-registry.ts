// The ServiceRegistry on Redis: one hash of JSON records (one key, so it lives in one cluster slot),
// each carrying its own expiry; expired records are dropped as they are read.
import type { ServiceRecord, ServiceRegistry } from '../../ports/service-registry.ts';
import type { RedisConnection } from './connection.ts';
import { redisCall } from './errors.ts';

const KEY = 'mm:services';
// The hash itself goes once nobody announced for this long (every service stopped uncleanly).
const HASH_TTL_MS = 3_600_000;

type Stored = ServiceRecord & { readonly expiresAtMs: number };

const fieldOf = (role: string, name: string): string => `${role}\u0000${name}`;

const parse = (text: string): Stored | undefined => {
  try {
    return JSON.parse(text) as Stored;
  } catch {
    return undefined;
  }
};

export const createRedisServiceRegistry = (
  redis: RedisConnection,
  options: { readonly keyPrefix?: string; readonly now?: () => number } = {},
): ServiceRegistry => {
  const key = `${options.keyPrefix ?? ''}${KEY}`;
  const now = options.now ?? Date.now;
  return {
    announce: async (record, { ttlMs }) => {
      const stored: Stored = { ...record, expiresAtMs: now() + ttlMs };
      await redisCall(() =>
        redis
          .multi()
          .hset(key, fieldOf(record.role, record.name), JSON.stringify(stored))
          .pexpire(key, Math.max(HASH_TTL_MS, ttlMs))
          .exec(),
      );
    },
    withdraw: async (role, name) => {
      await redisCall(() => redis.hdel(key, fieldOf(role, name)));
    },
    list: async () => {
      const all = await redisCall(() => redis.hgetall(key));
      const at = now();
      const live: ServiceRecord[] = [];
      const expired: string[] = [];
      for (const [field, text] of Object.entries(all)) {
        const stored = parse(text);
        if (!stored || stored.expiresAtMs <= at) expired.push(field);
        else {
          const { expiresAtMs: _e, ...record } = stored;
          live.push(record);
        }
      }
      if (expired.length > 0) await redisCall(() => redis.hdel(key, ...expired));
      return live.sort((a, b) => a.role.localeCompare(b.role) || a.name.localeCompare(b.name));
    },
  };
};
