// A Redis Cluster of three masters for tests: redis-server processes on free ports below 55535 (each
// node's cluster bus listens on its port + 10000), joined with `redis-cli --cluster create`, and
// a Redis server with one sentinel watching it.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { eventually } from './eventually.ts';
import { freePort } from './free-port.ts';
import { type RedisServer, randomPrefix, startRedisServer } from './redis.ts';

const run = promisify(execFile);

const canListen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/** A free port below 55535 whose cluster bus port (+10000) is free too. */
export const clusterPort = async (taken: readonly number[] = []): Promise<number> => {
  for (let i = 0; i < 200; i += 1) {
    const port = 20_000 + Math.floor(Math.random() * 25_000);
    if (taken.some((t) => Math.abs(t - port) < 2 || Math.abs(t + 10_000 - port) < 2)) continue;
    if ((await canListen(port)) && (await canListen(port + 10_000))) return port;
  }
  throw new Error('no free port pair for a cluster node');
};

const ping = async (port: number): Promise<boolean> => {
  const probe = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
};

export type TestCluster = {
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3` */
  readonly url: string;
  readonly ports: readonly number[];
  /** A plain connection to one node, for assertions and slot moves. */
  node(port: number): Redis;
  /** A cluster client without a prefix (add the test's prefix to key names). */
  readonly client: Cluster;
  /** Keys of every master that start with `prefix`. */
  keys(prefix: string): Promise<Map<number, string[]>>;
  /** Deletes every key under `prefix` on every master. */
  clean(prefix: string): Promise<void>;
  stop(): Promise<void>;
};

export const startRedisCluster = async (): Promise<TestCluster> => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-cluster-'));
  const ports: number[] = [];
  for (let i = 0; i < 3; i += 1) ports.push(await clusterPort(ports));
  const children: ChildProcess[] = ports.map((port) =>
    spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes']
        .concat(['--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '5000'])
        .concat(['--save', '', '--appendonly', 'no', '--dir', dir]),
      { stdio: 'ignore' },
    ),
  );
  const nodes = new Map<number, Redis>();
  const node = (port: number): Redis => {
    let found = nodes.get(port);
    if (!found) {
      found = new Redis({ port, maxRetriesPerRequest: 1 });
      nodes.set(port, found);
    }
    return found;
  };
  const stop = async (): Promise<void> => {
    for (const n of nodes.values()) n.disconnect();
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  let client: Cluster | undefined;
  try {
    for (const port of ports) await eventually(() => ping(port), 10_000);
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await eventually(async () => {
      for (const port of ports) {
        if (!/cluster_state:ok/.test(String(await node(port).call('CLUSTER', 'INFO')))) return false;
      }
      return true;
    }, 20_000);
    client = new Cluster(
      ports.map((port) => ({ host: '127.0.0.1', port })),
      { redisOptions: { maxRetriesPerRequest: 1 } },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const cluster = client;
  const keys = async (prefix: string): Promise<Map<number, string[]>> => {
    const found = new Map<number, string[]>();
    for (const port of ports) {
      const mine: string[] = [];
      let cursor = '0';
      do {
        const [next, page] = await node(port).scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        mine.push(...page);
        cursor = next;
      } while (cursor !== '0');
      found.set(port, mine);
    }
    return found;
  };
  return {
    url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`,
    ports,
    node,
    client: cluster,
    keys,
    clean: async (prefix) => {
      for (const [port, list] of await keys(prefix)) for (const k of list) await node(port).del(k);
    },
    stop: async () => {
      cluster.disconnect();
      await stop();
    },
  };
};

export { randomPrefix };

export type TestSentinel = {
  /** `redis+sentinel://127.0.0.1:<sentinel port>/<master name>` */
  readonly url: string;
  readonly server: RedisServer;
  readonly name: string;
  stop(): Promise<void>;
};

/** A Redis server and one sentinel monitoring it (quorum 1). */
export const startSentinel = async (): Promise<TestSentinel> => {
  const server = await startRedisServer();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mm-sentinel-'));
  const name = 'mm-master';
  const config = join(dir, 'sentinel.conf');
  writeFileSync(
    config,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${server.port} 1`,
      `sentinel down-after-milliseconds ${name} 5000`,
      '',
    ].join('\n'),
  );
  const child = spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' });
  const stop = async (): Promise<void> => {
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await eventually(async () => {
      const probe = new Redis({
        port,
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      probe.on('error', () => {});
      try {
        await probe.connect();
        const master = (await probe.call('SENTINEL', 'get-master-addr-by-name', name)) as string[] | null;
        return master?.[1] === String(server.port);
      } catch {
        return false;
      } finally {
        probe.disconnect();
      }
    }, 10_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis+sentinel://127.0.0.1:${port}/${name}`, server, name, stop };
};

/** A random prefix for a test on a shared cluster. */
export const clusterPrefix = (): string => randomPrefix();
