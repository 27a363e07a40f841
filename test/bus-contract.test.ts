// Runs the Bus contract against the Redis adapter (machine's Redis, random key prefix per test) and
// against the SQLite stream shim (a temp file per test).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedisBus } from '../src/adapters/redis/bus.ts';
import { createRedisClient } from '../src/adapters/redis/client.ts';
import { acquireConnection } from '../src/adapters/sqlite/driver/connection.ts';
import { openLocalPorts } from '../src/adapters/sqlite/local-ports.ts';
import { createSqliteBus } from '../src/adapters/sqlite/streams/bus.ts';
import { silentLogger } from '../src/core/logger.ts';
import type { Bus } from '../src/ports/bus.ts';
import { describeBusContract } from './contracts/bus-contract.ts';
import { createTestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

describeBusContract(
  'redis',
  async () => {
    const redis = await createTestRedis();
    const open = (): Bus =>
      createRedisBus(createRedisClient({ url: redis.url, logger: silentLogger }), {
        keyPrefix: redis.prefix,
      });
    const bus = open();
    const peers: Bus[] = [];
    return {
      bus,
      peer: async () => {
        const peer = open();
        peers.push(peer);
        return peer;
      },
      cleanup: async () => {
        await Promise.all([bus, ...peers].map((b) => b.close()));
        await redis.cleanup();
      },
    };
  },
  { skip: await skipUnless('redis') },
);

describeBusContract('sqlite shim', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-bus-'));
  const file = join(dir, 'local.db');
  const local = await openLocalPorts({ file, logger: silentLogger });
  const peers: Bus[] = [];
  return {
    bus: local.bus,
    peer: async () => {
      const peer = createSqliteBus(await acquireConnection({ file }));
      peers.push(peer);
      return peer;
    },
    cleanup: async () => {
      await Promise.all(peers.map((b) => b.close()));
      await local.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
