// The mm-consumer bundle killed at the worst moments (kill -9), and two consumers sharing a group.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { assertNoBinariesLeft, type RunningBinary, startBinary } from './helpers/binaries.ts';
import { addEntries, type TestEvent, userEvent } from './helpers/consumer-events.ts';
import { eventually } from './helpers/eventually.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { type RedisServer, recordPartitionsAt, startRedisServer, useTestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

const GROUP = 'markdown-lint-consumer';
const FAULT_GATE = fileURLToPath(new URL('../fixtures/handlers/fault-gate.mjs', import.meta.url));

describe('mm-consumer under kill -9', { skip: await skipUnless('postgres', 'redis') }, () => {
  const db = useTestDatabase();
  const redis = useTestRedis({ perTest: true });
  let server: RedisServer | undefined;
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mm-consumer-crash-'));
  });
  afterEach(async () => {
    assertNoBinariesLeft();
    await server?.kill();
    server = undefined;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const consumer = async (redisUrl: string, prefix: string, args: string[] = []): Promise<RunningBinary> => {
    await recordPartitionsAt(redisUrl, prefix);
    return startBinary('mm-consumer', [
      'run',
      '--database-url',
      db.url,
      '--redis-url',
      redisUrl,
      '--key-prefix',
      prefix,
      '--handler',
      FAULT_GATE,
      '--block-ms',
      '200',
      // A killed consumer's partition moves to the next one after its lease: keep it short.
      '--lease-ms',
      '1000',
      ...args,
    ]);
  };
  const gated = (name: string): { gate: string; event: TestEvent } => {
    const gate = join(dir, name);
    writeFileSync(gate, '');
    return { gate, event: userEvent({ headers: { fault_gate: gate } }) };
  };
  const state = async (events: readonly TestEvent[]) => {
    const ids = events.map((e) => e.eventId);
    const users = events.map((e) => e.userId);
    const [row] = await db.sql`
      select (select count(*)::int from event_ledger where event_id = any(${ids}) and consumer_group = ${GROUP}) as ledger,
             (select count(*)::int from lint_profiles where user_id = any(${users})) as profiles,
             (select coalesce(max(version), 0)::int from lint_profiles where user_id = any(${users})) as max_version`;
    return { ...row };
  };
  const pendingOf = async (client: Redis, stream: string): Promise<string[]> =>
    ((await client.xpending(stream, GROUP, '-', '+', 1000)) as Array<[string]>).map(([id]) => id);

  it('killed between handler and commit: applied once after the restart', async () => {
    const stream = `${redis.prefix}identity`;
    const { gate, event } = gated('handler-commit');
    const rest = Array.from({ length: 5 }, () => userEvent());
    await addEntries(redis.client, stream, [event.fields, ...rest.map((e) => e.fields)]);
    const first = await consumer(redis.url, redis.prefix, ['--name', 'crash-1']);
    await eventually(() => existsSync(`${gate}.entered`), 10_000);
    await first.stop('SIGKILL');
    assert.deepEqual(
      await state([event, ...rest]),
      { ledger: 0, profiles: 0, max_version: 0 },
      'nothing committed',
    );
    assert.equal((await pendingOf(redis.client, stream)).length, 6, 'the whole batch is still pending');
    rmSync(gate);
    const second = await consumer(redis.url, redis.prefix, ['--name', 'crash-1']);
    await eventually(async () => (await pendingOf(redis?.client as Redis, stream)).length === 0, 10_000);
    assert.deepEqual(await state([event, ...rest]), { ledger: 6, profiles: 6, max_version: 1 });
    await second.stop();
  });

  it('killed between commit and XACK: the redelivery is a duplicate, no double effect', async () => {
    server = await startRedisServer();
    const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    try {
      const { gate, event } = gated('commit-ack');
      const rest = Array.from({ length: 5 }, () => userEvent());
      await addEntries(client, 'identity', [event.fields, ...rest.map((e) => e.fields)]);
      const first = await consumer(server.url, '', ['--name', 'crash-2']);
      await eventually(() => existsSync(`${gate}.entered`), 10_000);
      // Writes (XACK among them) now wait; the transaction commits, the acknowledgement cannot happen.
      await client.call('CLIENT', 'PAUSE', '30000', 'WRITE');
      rmSync(gate);
      await eventually(async () => (await state([event, ...rest])).ledger === 6, 10_000);
      await first.stop('SIGKILL');
      await client.call('CLIENT', 'UNPAUSE');
      assert.equal((await pendingOf(client, 'identity')).length, 6, 'committed but never acknowledged');
      const second = await consumer(server.url, '', ['--name', 'crash-2b', '--claim-idle-ms', '300']);
      await eventually(async () => (await pendingOf(client, 'identity')).length === 0, 10_000);
      assert.deepEqual(await state([event, ...rest]), { ledger: 6, profiles: 6, max_version: 1 });
      const metrics = (await (await fetch(`${second.url}/metrics`)).json()) as Record<string, unknown>;
      assert.deepEqual(metrics.events_skipped_total, { no_handler: 0, duplicate: 6 });
      assert.equal(await second.stop(), 0, 'SIGTERM drains and exits 0');
    } finally {
      client.disconnect();
    }
  });

  it('two consumers of one partition: one works, one stands by and takes over what a killed one held', async () => {
    const stream = `${redis.prefix}identity`;
    const common = ['--batch-size', '20', '--claim-idle-ms', '500'];
    const a = await consumer(redis.url, redis.prefix, ['--name', 'share-a', ...common]);
    let b = await consumer(redis.url, redis.prefix, ['--name', 'share-b', ...common]);
    const shared = Array.from({ length: 400 }, () => userEvent());
    for (let i = 0; i < shared.length; i += 20) {
      await addEntries(
        redis.client,
        stream,
        shared.slice(i, i + 20).map((e) => e.fields),
      );
    }
    await eventually(async () => (await state(shared)).ledger === 400, 15_000);
    const success = async (c: RunningBinary): Promise<number> =>
      Number(
        ((await (await fetch(`${c.url}/metrics`)).json()) as Record<string, unknown>)
          .events_processed_success,
      );
    const [byA, byB] = [await success(a), await success(b)];
    assert.ok(byA === 0 || byB === 0, `one owner per partition: ${byA} + ${byB}`);
    assert.equal(byA + byB, 400);
    assert.equal(await b.stop(), 0);

    // Only A runs (B gave its lease back on stop): it takes the next batch and hangs inside it; then it dies.
    const { gate, event } = gated('share');
    const held = [event, ...Array.from({ length: 10 }, () => userEvent())];
    await addEntries(
      redis.client,
      stream,
      held.map((e) => e.fields),
    );
    await eventually(() => existsSync(`${gate}.entered`), 10_000);
    await a.stop('SIGKILL');
    assert.equal((await pendingOf(redis.client, stream)).length, 11);
    rmSync(gate);
    b = await consumer(redis.url, redis.prefix, ['--name', 'share-b', ...common]);
    await eventually(async () => (await pendingOf(redis?.client as Redis, stream)).length === 0, 10_000);
    assert.deepEqual(await state(held), { ledger: 11, profiles: 11, max_version: 1 });
    assert.equal(await success(b), 11, 'the survivor applied what the dead consumer held');
    assert.deepEqual(await state(shared), { ledger: 400, profiles: 400, max_version: 1 });
    await b.stop();
  });
});
