// ioredis client settings: fail commands fast during an outage (the services retry with backoff
// themselves) while the client keeps reconnecting in the background, forever. At start-up, what
// retrying cannot fix (a refused password, a database the server lacks) is a configuration error.
import { Redis } from 'ioredis';
import { ConfigError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { redactUrl } from '../../core/redact.ts';
import { describeNetworkError } from '../network-errors.ts';
import type { RedisConnection } from './connection.ts';
import { redisConfigProblem } from './errors.ts';

export type RedisClientOptions = {
  readonly url: string;
  readonly logger: Logger;
  readonly commandTimeoutMs?: number;
};

export const createRedisClient = (options: RedisClientOptions): Redis => {
  const redis = new Redis(options.url, {
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs ?? 5_000,
    connectTimeout: 3_000,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
    reconnectOnError: (error) => /READONLY|LOADING/.test(error.message),
  });
  let lastLogged = 0;
  redis.on('error', (error: Error) => {
    // Reconnect attempts fire this every few hundred ms during an outage; once a minute is enough.
    if (Date.now() - lastLogged < 60_000) return;
    lastLogged = Date.now();
    options.logger.warn(`Redis connection error: ${describeNetworkError(error) ?? error.message}`, {
      redis: redactUrl(options.url),
    });
  });
  return redis;
};

const hostOf = (url: string): string => {
  const parsed = new URL(url);
  return parsed.host || parsed.pathname;
};

/** A database number in the URL (path or `?db=`) that is not one; ioredis would quietly use 0. */
const redisUrlProblem = (url: string): string | undefined => {
  const parsed = new URL(url);
  const fromPath = parsed.pathname.replace(/^\//, '');
  const db = parsed.searchParams.get('db') ?? fromPath;
  if (db === '' || /^\d+$/.test(db)) return undefined;
  return `--redis-url (REDIS_URL): the database "${db}" for Redis at ${hostOf(url)} is not a number`;
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
  options: { readonly url: string; readonly timeoutMs?: number },
): Promise<void> => {
  const failure = await new Promise<unknown>((resolve) => {
    if (redis.status === 'ready') return resolve(undefined);
    const done = (error?: unknown): void => {
      clearTimeout(timer);
      redis.off('ready', done);
      redis.off('error', done);
      resolve(error);
    };
    const timer = setTimeout(done, options.timeoutMs ?? FIRST_ANSWER_MS);
    redis.once('ready', done);
    redis.on('error', done);
  });
  const problem = failure === undefined ? undefined : redisConfigProblem(failure);
  if (problem) {
    throw new ConfigError([`Redis at ${hostOf(options.url)} ${problem}: check --redis-url (REDIS_URL)`]);
  }
};

/** The client of a service or CLI: its URL and first connection checked before anything runs. */
export const openRedisClient = async (options: RedisClientOptions): Promise<Redis> => {
  const urlProblem = redisUrlProblem(options.url);
  if (urlProblem) throw new ConfigError([urlProblem]);
  const redis = createRedisClient(options);
  try {
    await checkRedisAtStartup(redis, options);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  return redis;
};
