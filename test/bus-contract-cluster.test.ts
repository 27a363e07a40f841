// Runs the Bus contract against the Redis adapter on a 3-node Redis Cluster of its own (a random key
// prefix per test), where streams spread over slots and nodes.
import { after } from 'node:test';
import { createRedisBus } from '../src/adapters/redis/bus.ts';
import { openRedisClient } from '../src/adapters/redis/client.ts';
import { silentLogger } from '../src/core/logger.ts';
import type { Bus } from '../src/ports/bus.ts';
import { describeBusContract } from './contracts/bus-contract.ts';
import { randomPrefix } from './helpers/redis.ts';
import { startRedisCluster, type TestCluster } from './helpers/redis-cluster.ts';
import { skipUnless } from './helpers/services.ts';

let cluster: Promise<TestCluster> | undefined;
after(async () => {
  await (await cluster)?.stop();
});

describeBusContract(
  'redis cluster',
  async () => {
    cluster ??= startRedisCluster();
    const { url, clean } = await cluster;
    const prefix = randomPrefix();
    const open = async (): Promise<Bus> =>
      createRedisBus(await openRedisClient({ url, logger: silentLogger }), { keyPrefix: prefix });
    const bus = await open();
    const peers: Bus[] = [];
    return {
      bus,
      peer: async () => {
        const peer = await open();
        peers.push(peer);
        return peer;
      },
      cleanup: async () => {
        await Promise.all([bus, ...peers].map((b) => b.close()));
        await clean(prefix);
      },
    };
  },
  { skip: await skipUnless('redis') },
);
