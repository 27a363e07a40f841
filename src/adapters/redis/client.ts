// ioredis client settings: fail commands fast during an outage (the services retry with backoff
// themselves) while the client keeps reconnecting in the background, forever. At start-up, what
// retrying cannot fix (a refused password, a database the server lacks, a URL that names nothing)
// is a configuration error. One server, a Redis Cluster (`Cluster`) or a master through Sentinel.
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { ConfigError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { redactUrl } from '../../core/redact.ts';
import { describeRedisTarget, parseRedisUrl, type RedisTarget } from '../../core/redis-url.ts';
import { describeNetworkError } from '../network-errors.ts';
import type { RedisConnection } from './connection.ts';
import { redisConfigProblem } from './errors.ts';

export type RedisClientOptions = {
  readonly url: string;
  readonly logger: Logger;
  readonly commandTimeoutMs?: number;
};

/** What the URL names; a ConfigError (exit 78) naming the problem, never the password. */
export const redisTargetOf = (url: string): RedisTarget => {
  const parsed = parseRedisUrl(url);
  if ('problem' in parsed) throw new ConfigError([`--redis-url (REDIS_URL): ${parsed.problem}`]);
  return parsed.target;
};

const backoff = (times: number): number => Math.min(50 * 2 ** Math.min(times, 6), 2_000);

const nodeOptions = (options: RedisClientOptions): RedisOptions => ({
  maxRetriesPerRequest: 1,
  commandTimeout: options.commandTimeoutMs ?? 5_000,
  connectTimeout: 3_000,
  reconnectOnError: (error) => /READONLY|LOADING/.test(error.message),
});

const credentials = (target: { readonly username?: string; readonly password?: string }) => ({
  ...(target.username === undefined ? {} : { username: target.username }),
  ...(target.password === undefined ? {} : { password: target.password }),
});

const clusterOptions = (target: Extract<RedisTarget, { kind: 'cluster' }>, options: RedisClientOptions) =>
  ({
    clusterRetryStrategy: backoff,
    // While no node answers, commands fail at once (as on one server) instead of queueing.
    enableOfflineQueue: false,
    // Streams are read and written on their master only: a replica may lag behind acknowledgements.
    scaleReads: 'master',
    slotsRefreshTimeout: 2_000,
    redisOptions: {
      ...nodeOptions(options),
      ...credentials(target),
      ...(target.tls ? { tls: {} } : {}),
    },
  }) satisfies ClusterOptions;

const connectTo = (target: RedisTarget, options: RedisClientOptions): RedisConnection => {
  switch (target.kind) {
    case 'single':
      return new Redis(target.url, { ...nodeOptions(options), retryStrategy: backoff });
    case 'cluster':
      return new Cluster(
        target.nodes.map((n) => ({ host: n.host, port: n.port })),
        clusterOptions(target, options),
      );
    case 'sentinel':
      return new Redis({
        ...nodeOptions(options),
        ...credentials(target),
        sentinels: target.sentinels.map((n) => ({ host: n.host, port: n.port })),
        name: target.name,
        db: target.db,
        retryStrategy: backoff,
        sentinelRetryStrategy: backoff,
      });
  }
};

export const createRedisClient = (options: RedisClientOptions): RedisConnection => {
  const redis = connectTo(redisTargetOf(options.url), options);
  let lastLogged = 0;
  const log = (error: Error): void => {
    // Reconnect attempts fire this every few hundred ms during an outage; once a minute is enough.
    if (Date.now() - lastLogged < 60_000) return;
    lastLogged = Date.now();
    options.logger.warn(`Redis connection error: ${describeNetworkError(error) ?? error.message}`, {
      redis: redactUrl(options.url),
    });
  };
  redis.on('error', log);
  if (redis instanceof Cluster) redis.on('node error', log);
  return redis;
};

// Long enough for a connection and its handshake; a server that says nothing by then is treated as
// down, and the services start and wait for it as they do for any outage.
const FIRST_ANSWER_MS = 5_000;

/**
 * Waits for the first connection to be ready or to fail. A refused password, a missing database or
 * an untrusted certificate throws ConfigError naming the host (never the password); an outage
 * returns, leaving the client to reconnect while the services retry.
 */
const checkRedisAtStartup = async (
  redis: RedisConnection,
  target: RedisTarget,
  timeoutMs = FIRST_ANSWER_MS,
): Promise<void> => {
  const failure = await new Promise<unknown>((resolve) => {
    if (redis.status === 'ready') return resolve(undefined);
    const done = (error?: unknown): void => {
      clearTimeout(timer);
      redis.off('ready', done);
      redis.off('error', done);
      resolve(error);
    };
    const timer = setTimeout(done, timeoutMs);
    redis.once('ready', done);
    redis.on('error', done);
  });
  const problem = failure === undefined ? undefined : redisConfigProblem(failure);
  if (problem) {
    throw new ConfigError([`${describeRedisTarget(target)} ${problem}: check --redis-url (REDIS_URL)`]);
  }
  if (target.kind !== 'cluster' && redis.status === 'ready' && (await isClusterNode(redis))) {
    // Every key of a slot the node does not own would answer MOVED.
    throw new ConfigError([
      `${describeRedisTarget(target)} is a Redis Cluster node: name the cluster with redis+cluster://host:port,host:port in --redis-url (REDIS_URL)`,
    ]);
  }
};

const isClusterNode = async (redis: RedisConnection): Promise<boolean> => {
  try {
    return /cluster_enabled:1/.test(await redis.info('cluster'));
  } catch {
    return false; // an outage now is waited out like any other
  }
};

/** The client of a service or CLI: its URL and first connection checked before anything runs. */
export const openRedisClient = async (options: RedisClientOptions): Promise<RedisConnection> => {
  const target = redisTargetOf(options.url);
  const redis = createRedisClient(options);
  try {
    await checkRedisAtStartup(redis, target);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  return redis;
};
