// ioredis client settings: fail commands fast during an outage (the services retry with backoff
// themselves) while the client keeps reconnecting in the background, forever.
import { Redis } from 'ioredis';
import type { Logger } from '../../core/logger.ts';
import { redactUrl } from '../../core/redact.ts';

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
    options.logger.warn(`Redis connection error: ${error.message}`, { redis: redactUrl(options.url) });
  });
  return redis;
};
