// Redis for tests: a random key prefix per test on the machine's Redis, or an own redis-server
// process on a free port for tests that stop, pause or kill it.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach } from 'node:test';
import { Redis } from 'ioredis';
import { eventually } from './eventually.ts';
import { freePort } from './free-port.ts';
import { REDIS_URL } from './services.ts';
import type { TestCertificates } from './tls-certs.ts';

export const randomPrefix = (): string => `mmtest:${randomBytes(5).toString('hex')}:`;

export type TestRedis = {
  readonly url: string;
  readonly prefix: string;
  /** A plain client (no prefix) for assertions; remember to add `prefix` to key names. */
  readonly client: Redis;
  cleanup(): Promise<void>;
};

export const createTestRedis = async (url = REDIS_URL): Promise<TestRedis> => {
  const prefix = randomPrefix();
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  return {
    url,
    prefix,
    client,
    cleanup: async () => {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        if (keys.length > 0) await client.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      client.disconnect();
    },
  };
};

export type UsedRedis = Omit<TestRedis, 'cleanup'>;

/**
 * A key prefix on the machine's Redis for the enclosing describe, and a plain client, set up in a
 * `before` hook; its keys are deleted in an `after` hook, when every test of the describe (and its
 * `afterEach` hooks, which stop what the tests started) has finished. With `perTest`, each test
 * gets a fresh prefix of its own (under the describe's). Read the fields from hooks and tests.
 */
export const useTestRedis = (options: { perTest?: boolean } = {}): UsedRedis => {
  let suite: TestRedis | undefined;
  let prefix: string | undefined;
  let tests = 0;
  before(async () => {
    suite = await createTestRedis();
    prefix = suite.prefix;
  });
  if (options.perTest) {
    beforeEach(() => {
      tests += 1;
      prefix = `${suite?.prefix}${tests}:`;
    });
  }
  after(async () => {
    await suite?.cleanup();
    suite = undefined;
  });
  const now = (): TestRedis & { prefix: string } => {
    if (!suite || prefix === undefined) {
      throw new Error('the test prefix exists only while its describe runs (see useTestRedis)');
    }
    return { ...suite, prefix };
  };
  return {
    get url() {
      return now().url;
    },
    get prefix() {
      return now().prefix;
    },
    get client() {
      return now().client;
    },
  };
};

export type RedisServer = {
  readonly port: number;
  readonly url: string;
  /** SIGSTOP: the socket stays open but nothing answers (the nastiest outage). */
  pause(): void;
  resume(): void;
  /** Stops the process (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port, with what it had kept (AOF when enabled). */
  restart(): Promise<void>;
  kill(): Promise<void>;
};

export type RedisServerOptions = {
  readonly appendOnly?: boolean;
  readonly password?: string;
  readonly maxClients?: number;
  /** TLS only (no plain port), with this certificate; clients need not present one. */
  readonly tls?: TestCertificates;
};

const listenArgs = (port: number, tls: TestCertificates | undefined): string[] =>
  tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-auth-clients', 'no']
        .concat(['--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile])
        .concat(['--tls-ca-cert-file', tls.caFile])
    : ['--port', String(port)];

export const startRedisServer = async (options: RedisServerOptions = {}): Promise<RedisServer> => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mm-redis-'));
  const tls = options.tls ? { ca: readFileSync(options.tls.caFile) } : undefined;
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const args = [...listenArgs(port, options.tls), '--bind', '127.0.0.1', '--save', '', '--dir', dir];
    args.push('--appendonly', options.appendOnly ? 'yes' : 'no', '--appendfsync', 'always');
    if (options.password) args.push('--requirepass', options.password);
    if (options.maxClients) args.push('--maxclients', String(options.maxClients));
    const started = spawn('redis-server', args, { stdio: 'ignore' });
    child = started;
    await eventually(async () => {
      const probe = new Redis({
        port,
        password: options.password,
        tls,
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      probe.on('error', () => {});
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } finally {
        probe.disconnect();
      }
    }, 10_000);
  };
  const exit = (signal: NodeJS.Signals): Promise<void> =>
    new Promise((resolve) => {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return resolve();
      running.once('exit', () => resolve());
      running.kill('SIGCONT');
      running.kill(signal);
    });
  await launch();
  return {
    port,
    url: `${tls ? 'rediss' : 'redis'}://${options.password ? `:${encodeURIComponent(options.password)}@` : ''}127.0.0.1:${port}`,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    stop: () => exit('SIGTERM'),
    restart: async () => {
      await exit('SIGTERM');
      await launch();
    },
    kill: async () => {
      await exit('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

/**
 * Records a topic's partition count as mm-relay does when it starts, for tests that add entries
 * themselves: consumers wait until the count is recorded.
 */
export const recordPartitions = async (
  client: Redis,
  prefix: string,
  topic = 'identity',
  partitions = 1,
): Promise<void> => {
  await client.set(`${prefix}${topic}:partitions`, String(partitions));
};

/** `recordPartitions` on the Redis at `url`, through a client of its own. */
export const recordPartitionsAt = async (url: string, prefix = '', topic = 'identity'): Promise<void> => {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    await recordPartitions(client, prefix, topic);
  } finally {
    client.disconnect();
  }
};
