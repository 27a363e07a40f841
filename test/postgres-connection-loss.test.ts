// A connection lost while postgres.js sets it up (a database restart, a failover, pg_terminate_backend
// landing on a connection that is still starting): the pool reconnects and the process goes on. Guards
// the patch in .patches/ (see its README).
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { createPostgresStore } from '../src/adapters/postgres/store.ts';
import { uuidv7 } from '../src/core/ids.ts';
import { eventually } from './helpers/eventually.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { skipUnless } from './helpers/services.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

const APPLICATION = 'mm-connection-loss-test';

describe('Postgres connection lost during set-up', { skip: await skipUnless('postgres') }, () => {
  const db = useTestDatabase();
  let proxy: TcpProxy | undefined;

  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  /** A proxy that terminates the backend just before the first statement containing `marker` reaches it. */
  const terminatingBefore = async (marker: string): Promise<{ url: URL; cuts: () => number }> => {
    let cuts = 0;
    proxy = await startTcpProxy(
      { host: '127.0.0.1', port: Number(new URL(db.url).port || 5432) },
      {
        beforeForward: async (chunk) => {
          if (cuts > 0 || !chunk.includes(marker)) return;
          cuts += 1;
          await db.sql`select pg_terminate_backend(pid) from pg_stat_activity
                       where datname = ${db.name} and application_name = ${APPLICATION}`;
        },
      },
    );
    const url = new URL(db.url);
    url.host = `127.0.0.1:${proxy.port}`;
    return { url, cuts: () => cuts };
  };

  const withUnhandledWatch = async (body: () => Promise<void>): Promise<unknown[]> => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await body();
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    return unhandled;
  };

  it('a backend terminated while a new connection reads array types: no unhandled rejection, arrays parse', async () => {
    // postgres.js reads pg_type's array types as the first statement of every new connection.
    const { url, cuts } = await terminatingBefore('typarray');
    // One connection: the one whose set-up was cut must fetch the types itself.
    const store = createPostgresStore({
      url: url.toString(),
      maxConnections: 1,
      applicationName: APPLICATION,
    });
    const before = uuidv7();
    const fresh = uuidv7();
    const entry = (eventId: string) => ({
      eventId,
      consumerGroup: 'g',
      eventType: 'user.created',
      streamId: '1-0',
      result: 'applied' as const,
    });
    const unhandled = await withUnhandledWatch(async () => {
      try {
        const [row] = await store.withTransaction((tx) =>
          tx.query<{ letters: unknown }>(`select $1::text[] as letters`, [['a', 'b']]),
        );
        assert.deepEqual(row?.letters, ['a', 'b'], 'array parameters and results as arrays');
        await store.withTransaction((tx) => tx.ledger.claim([entry(before)]));
        const recorded = await store.withTransaction((tx) => tx.ledger.claim([entry(before), entry(fresh)]));
        assert.deepEqual([...recorded], [fresh]);
      } finally {
        await store.close();
      }
    });
    assert.equal(cuts(), 1, 'the set-up was cut once');
    assert.deepEqual(unhandled, []);
  });
  it("a transaction's statements queued behind a busy connection settle when its backend is terminated", async () => {
    const store = createPostgresStore({ url: db.url, maxConnections: 2, applicationName: APPLICATION });
    // More statements than postgres.js pipelines on one connection (100): the rest wait in the
    // transaction's own queue, where a closed connection used to leave them pending for ever.
    const STATEMENTS = 300;
    let settled = 0;
    const countSettled = (): void => {
      settled += 1;
    };
    const statements: Array<Promise<unknown>> = [];
    const unhandled = await withUnhandledWatch(async () => {
      try {
        const transaction = store.withTransaction(async (tx) => {
          for (let i = 0; i < STATEMENTS; i += 1) {
            const statement = tx.query('select pg_sleep(0.005)');
            statements.push(statement);
            statement.then(countSettled, countSettled);
          }
          await Promise.allSettled(statements);
        });
        transaction.catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, 100));
        await db.sql`select pg_terminate_backend(pid) from pg_stat_activity
                     where datname = ${db.name} and application_name = ${APPLICATION} and state = 'active'`;
        await assert.rejects(transaction, /database unavailable/);
        await eventually(() => settled === STATEMENTS, 5_000, {
          message: `every statement settles (${settled} of ${STATEMENTS})`,
        });
      } finally {
        await store.close();
      }
    });
    assert.deepEqual(unhandled, []);
  });
});
