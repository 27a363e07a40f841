// Runs the ServiceRegistry contract against Redis (machine's Redis, random key prefix per test) and
// against the local file (a temp file per test).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedisClient } from '../src/adapters/redis/client.ts';
import { createRedisServiceRegistry } from '../src/adapters/redis/service-registry.ts';
import { acquireConnection } from '../src/adapters/sqlite/driver/connection.ts';
import { openLocalPorts } from '../src/adapters/sqlite/local-ports.ts';
import { createSqliteServiceRegistry } from '../src/adapters/sqlite/service-registry.ts';
import { silentLogger } from '../src/core/logger.ts';
import { describeRegistryContract } from './contracts/registry-contract.ts';
import { createTestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

describeRegistryContract(
  'redis',
  async (now) => {
    const redis = await createTestRedis();
    const clients = [1, 2].map(() => createRedisClient({ url: redis.url, logger: silentLogger }));
    const [a, b] = clients.map((client) =>
      createRedisServiceRegistry(client, { keyPrefix: redis.prefix, now }),
    );
    if (!a || !b) throw new Error('two registries expected');
    return {
      registry: a,
      peer: b,
      cleanup: async () => {
        for (const client of clients) client.disconnect();
        await redis.cleanup();
      },
    };
  },
  { skip: await skipUnless('redis') },
);

describeRegistryContract('local file', async (now) => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-registry-'));
  const file = join(dir, 'local.db');
  const local = await openLocalPorts({ file, logger: silentLogger });
  const [mine, other] = [await acquireConnection({ file }), await acquireConnection({ file })];
  return {
    registry: createSqliteServiceRegistry(mine, { now }),
    peer: createSqliteServiceRegistry(other, { now }),
    cleanup: async () => {
      await Promise.all([mine.release(), other.release()]);
      await local.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
