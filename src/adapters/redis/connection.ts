// The connections the Redis adapter works with: one node (`Redis`) or a cluster (`Cluster`), both
// ioredis, and connections of their own for commands that must be sent at most once.
import { Cluster, type Redis } from 'ioredis';
import { redisOutage, translateRedisError } from './errors.ts';

/** What the adapter is handed: only commands both classes have are used on it. */
export type RedisConnection = Redis | Cluster;

// A command on these connections is sent at most once: nothing waits in an offline queue for a
// later connection, nothing unanswered is re-sent after a reconnect, and the connection never
// reconnects by itself (a lost one is replaced when next needed). Deadlines are the caller's.
const sendOnce = {
  lazyConnect: true,
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  commandTimeout: undefined,
  maxRetriesPerRequest: 0,
} as const;

const duplicateSendOnce = (main: RedisConnection): RedisConnection =>
  main instanceof Cluster
    ? main.duplicate(undefined, {
        lazyConnect: true,
        // Used only once ready, and never reconnected: the cluster's queue then only holds commands
        // for a node whose connection is still opening, in order. Without it such a command is sent
        // again 100 ms later, behind the ones that followed it (entries of a batch out of order).
        enableOfflineQueue: true,
        clusterRetryStrategy: () => null,
        redisOptions: { ...main.options.redisOptions, ...sendOnce, retryStrategy: () => null },
      })
    : main.duplicate({ ...sendOnce, retryStrategy: () => null });

export type SendOnceConnection = {
  /** The connection once it is ready; a TransientError when that takes longer than `timeoutMs`. */
  get(): Promise<RedisConnection>;
  /** Closes it now: what is in flight fails and is never sent again; `get` then opens a new one. */
  drop(): void;
  close(): void;
};

/** A connection of its own beside `main` (same server, credentials, database and TLS settings). */
export const createSendOnceConnection = (
  main: RedisConnection,
  options: { readonly timeoutMs: number },
): SendOnceConnection => {
  let current: { readonly connection: RedisConnection; readonly ready: Promise<RedisConnection> } | undefined;
  let closed = false;

  const drop = (): void => {
    const dropped = current;
    current = undefined;
    dropped?.connection.disconnect(false);
  };

  const open = (): Promise<RedisConnection> => {
    const connection = duplicateSendOnce(main);
    // Failures surface as rejected commands (the main connection logs outages); the last one says
    // why a connection that never became ready closed (refused, full, TLS).
    let lastError: unknown;
    connection.on('error', (error: unknown) => {
      lastError = error;
    });
    connection.once('end', () => {
      if (current?.connection === connection) current = undefined;
    });
    const ready = new Promise<RedisConnection>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(redisOutage(`not connected within ${options.timeoutMs} ms`));
        if (current?.connection === connection) drop();
      }, options.timeoutMs);
      connection.connect().then(
        () => {
          clearTimeout(timer);
          resolve(connection);
        },
        (error: unknown) => {
          clearTimeout(timer);
          if (current?.connection === connection) drop();
          reject(translateRedisError(lastError ?? error));
        },
      );
    });
    current = { connection, ready };
    return ready;
  };

  return {
    get: () => {
      if (closed) return Promise.reject(redisOutage('connection closed'));
      return current?.ready ?? open();
    },
    drop,
    close: () => {
      closed = true;
      drop();
    },
  };
};
