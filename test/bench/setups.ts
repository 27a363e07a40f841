// Where a measurement runs: a fresh Postgres database and Redis key prefix (production), or a fresh
// SQLite file (local mode); either is gone afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type postgres from 'postgres';
import { openLocalPorts } from '../../src/adapters/sqlite/local-ports.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { Store } from '../../src/ports/store.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { randomPrefix } from '../helpers/redis.ts';
import { startRedisCluster } from '../helpers/redis-cluster.ts';
import { REDIS_URL } from '../helpers/services.ts';

/** What every measurement has: the store a producer writes to and the services' connection flags. */
export type Setup = {
  readonly store: Store;
  readonly flags: readonly string[];
};

export type Production = Setup & {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** A plain client on the database, for raw statements. */
  readonly sql: postgres.Sql;
  readonly redis: Redis;
  /** The stream of topic `identity` under this measurement's key prefix. */
  readonly streamKey: string;
  readonly keyPrefix: string;
};

export const withProduction = async <T>(run: (setup: Production) => Promise<T>): Promise<T> => {
  const db = await createTestDatabase();
  const redis = new Redis(REDIS_URL);
  const prefix = randomPrefix();
  try {
    return await run({
      store: db.store,
      flags: ['--database-url', db.url, '--redis-url', REDIS_URL, '--key-prefix', prefix],
      databaseUrl: db.url,
      redisUrl: REDIS_URL,
      sql: db.sql,
      redis,
      streamKey: `${prefix}identity`,
      keyPrefix: prefix,
    });
  } finally {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await db.drop();
  }
};

/** Production on a 3-node Redis Cluster of its own (free ports below 55535), gone afterwards. */
export type OnCluster = Setup & { readonly redisUrl: string };

export const withCluster = async <T>(run: (setup: OnCluster) => Promise<T>): Promise<T> => {
  const cluster = await startRedisCluster();
  const db = await createTestDatabase().catch(async (error: unknown) => {
    await cluster.stop();
    throw error;
  });
  try {
    return await run({
      store: db.store,
      flags: ['--database-url', db.url, '--redis-url', cluster.url, '--key-prefix', randomPrefix()],
      redisUrl: cluster.url,
    });
  } finally {
    await cluster.stop();
    await db.drop();
  }
};

export const withLocal = async <T>(run: (setup: Setup) => Promise<T>): Promise<T> => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-bench-'));
  const file = join(dir, 'bench.db');
  const local = await openLocalPorts({ file, logger: silentLogger });
  try {
    return await run({ store: local.store, flags: ['--local', file] });
  } finally {
    await local.close();
    rmSync(dir, { recursive: true, force: true });
  }
};
