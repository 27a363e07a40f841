// Halted aggregates through the built mm-dlq, on Postgres + Redis and on a local file: a dead letter
// whose event blocks its aggregate shows how many events wait behind it (list, inspect, report);
// resolve and purge lift the block, leaving the parked events in order for the consumer to release;
// reprocess leaves the block for the consumer to lift once it applied the reprocessed event.
// The blocks and parked events are seeded through the real stores, as a consumer records them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisBus } from '../src/adapters/redis/bus.ts';
import { openLocalPorts } from '../src/adapters/sqlite/local-ports.ts';
import { deadLetterFields } from '../src/core/dead-letter.ts';
import { toStreamFields } from '../src/core/envelope.ts';
import { uuidv7 } from '../src/core/ids.ts';
import { createLogger } from '../src/core/logger.ts';
import type { Bus } from '../src/ports/bus.ts';
import type { Store } from '../src/ports/store.ts';
import {
  consumerDeadLetter,
  DLQ,
  GROUP,
  type MadeDeadLetter,
  mmDlq,
  relayDeadLetter,
  TOPIC,
  userEvent,
} from './dlq-fixtures.ts';
import { type Completed, runBinary } from './helpers/binaries.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { useTestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

type Mode = {
  readonly bus: Bus;
  readonly store: Store;
  run(command: string | readonly string[]): Promise<Completed>;
};

type HaltedSeed = {
  readonly dead: MadeDeadLetter;
  readonly aggregateKey: string;
  /** The parked events' ids, in outbox order. */
  readonly waiting: readonly string[];
};

/** A consumer-stage dead letter of type `eventType` that halts its aggregate, `count` events parked behind. */
const haltBehind = async (mode: Mode, count: number, eventType = 'user.created'): Promise<HaltedSeed> => {
  const aggregateId = uuidv7();
  const aggregateKey = `user/${aggregateId}`;
  const dead = await consumerDeadLetter(mode.bus, {
    event: userEvent({ aggregateId, eventType, payload: { broken: true } }),
  });
  await mode.store.parking.block({
    group: GROUP,
    aggregateKey,
    eventId: dead.event.eventId,
    deadLetterStream: DLQ,
    deadLetterId: dead.id,
  });
  const later = Array.from({ length: count }, () => userEvent({ aggregateId, eventType: 'user.updated' }));
  const entries: { id: string; event: (typeof later)[number] }[] = [];
  for (const event of later) entries.push({ id: await mode.bus.add(TOPIC, toStreamFields(event)), event });
  // Parked in reverse: the store lists them in outbox order whatever order they arrived in.
  await mode.store.parking.park(
    entries.reverse().map(({ id, event }) => ({
      group: GROUP,
      aggregateKey,
      stream: TOPIC,
      streamId: id,
      eventId: event.eventId,
      outboxId: Number(event.outboxId),
      fields: toStreamFields(event),
    })),
  );
  return { dead, aggregateKey, waiting: later.map((event) => event.eventId) };
};

type ListJson = Array<{
  id: string;
  waiting_behind: number | null;
  halted: Array<{ group: string; aggregate_key: string; waiting_behind: number }> | null;
}>;

const ok = (result: Completed): Completed => {
  assert.equal(result.code, 0, `exit ${result.code}: ${result.stderr}${result.stdout}`);
  return result;
};

const blockedKeys = async (store: Store): Promise<string[]> =>
  (await store.parking.blocks(GROUP)).map((block) => block.aggregateKey);

const parkedIds = async (store: Store, aggregateKey: string): Promise<string[]> =>
  (await store.parking.parked(GROUP, aggregateKey)).map((event) => event.eventId);

const describeHalted = (name: string, skip: false | string, mode: () => Mode): void => {
  describe(`mm-dlq and halted aggregates: ${name}`, { skip }, () => {
    it('list, inspect and report show how many events wait behind each dead letter', async () => {
      const m = mode();
      const seed = await haltBehind(m, 3, 'user.shown');
      const relay = await relayDeadLetter(m.bus);

      const listed = JSON.parse(ok(await m.run('list --stream identity.dlq --json')).stdout) as ListJson;
      const halted = listed.find((entry) => entry.id === seed.dead.id);
      assert.equal(halted?.waiting_behind, 3);
      assert.deepEqual(halted?.halted, [
        {
          group: GROUP,
          aggregate_key: seed.aggregateKey,
          waiting_behind: 3,
          since: (halted?.halted?.[0] as { since?: string } | undefined)?.since,
        },
      ]);
      const other = listed.find((entry) => entry.id === relay.id);
      assert.equal(other?.waiting_behind, 0);
      assert.deepEqual(other?.halted, []);

      const text = ok(await m.run('list --stream identity.dlq')).stdout;
      assert.match(text, /^ID +AGE +EVENT TYPE +EVENT ID +STAGE\/GROUP +ATTEMPTS +WAITING +ERROR$/m);
      assert.match(text, new RegExp(`^${seed.dead.id} .* user\\.shown .* 5 +3 +ValidationError`, 'm'));
      assert.match(text, new RegExp(`^${relay.id} .* relay +2 +0 +PermanentError`, 'm'));
      assert.match(text, /^3 events wait behind these dead letters: resolve or reprocess releases them/m);

      const inspected = ok(await m.run(`inspect --stream identity.dlq --id ${seed.dead.id}`)).stdout;
      assert.match(inspected, /^Halted aggregate/m);
      assert.match(inspected, /^ {2}3 events wait behind this dead letter$/m);
      assert.match(inspected, new RegExp(`group ${GROUP}, aggregate ${seed.aggregateKey}, halted since`));
      const json = JSON.parse(
        ok(await m.run(`inspect --stream identity.dlq --id ${seed.dead.event.eventId} --json`)).stdout,
      ) as { waiting_behind: number; halted: { checked: boolean; groups: unknown[] } };
      assert.equal(json.waiting_behind, 3);
      assert.equal(json.halted.checked, true);
      assert.equal(json.halted.groups.length, 1);

      const report = ok(await m.run('report --stream identity.dlq --hours 1')).stdout;
      assert.match(report, /^ {2}halted +1 aggregate: 3 events wait behind 1 dead letter$/m);
      assert.match(report, /^Halted aggregates/m);
      assert.match(report, new RegExp(`^ {2}${seed.dead.id} +${GROUP} +${seed.aggregateKey} +3 `, 'm'));
      const reportJson = JSON.parse(ok(await m.run('report --stream identity.dlq --json')).stdout) as {
        streams: Array<{ halted: { waiting_behind: number; largest: Array<{ id: string }> } }>;
      };
      assert.equal(reportJson.streams[0]?.halted.waiting_behind, 3);
      assert.equal(reportJson.streams[0]?.halted.largest[0]?.id, seed.dead.id);
    });

    it('resolve lifts the block; the parked events stay in order for the consumer to release', async () => {
      const m = mode();
      const seed = await haltBehind(m, 4);
      const resolved = ok(await m.run(`resolve --stream identity.dlq --id ${seed.dead.id} --note fixed`));
      assert.match(resolved.stdout, new RegExp(`^resolved ${seed.dead.id} `, 'm'));
      assert.match(
        resolved.stdout,
        new RegExp(
          `^released aggregate ${seed.aggregateKey}, group ${GROUP}: 4 waiting events follow in order$`,
          'm',
        ),
      );
      assert.ok(!(await blockedKeys(m.store)).includes(seed.aggregateKey), 'the block is lifted');
      assert.deepEqual(await parkedIds(m.store, seed.aggregateKey), seed.waiting, 'parked, in outbox order');
      assert.ok((await m.store.parking.releasable(GROUP, 1000)).includes(seed.aggregateKey));
      const again = ok(await m.run(`resolve --stream identity.dlq --id ${seed.dead.id}`));
      assert.match(again.stdout, /was already resolved .*; nothing to do\n$/);
    });

    it('reprocess publishes the event and leaves the block for the consumer to lift once applied', async () => {
      const m = mode();
      const seed = await haltBehind(m, 2);
      const reprocessed = ok(await m.run(`reprocess --stream identity.dlq --id ${seed.dead.id}`));
      assert.match(
        reprocessed.stdout,
        new RegExp(`^reprocessed ${seed.dead.id} .*published to identity as `, 'm'),
      );
      assert.match(
        reprocessed.stdout,
        new RegExp(
          `^2 events wait behind it \\(aggregate ${seed.aggregateKey}, group ${GROUP}\\): released in order once the consumer applied the reprocessed event$`,
          'm',
        ),
      );
      assert.ok((await blockedKeys(m.store)).includes(seed.aggregateKey), 'still blocked until applied');
      const republished = (await m.bus.range(TOPIC, { reverse: true, count: 1 }))[0];
      assert.equal(republished?.fields.event_id, seed.dead.event.eventId);
      const inspected = ok(await m.run(`inspect --stream identity.dlq --id ${seed.dead.id}`)).stdout;
      assert.match(inspected, /^ {2}2 events wait behind its event until the reprocessed event is applied$/m);
      // A resolve after the reprocess must not let the waiting events overtake the reprocessed one.
      const resolve = ok(await m.run(`resolve --stream identity.dlq --id ${seed.dead.id}`));
      assert.match(resolve.stdout, /was already reprocessed/);
      assert.ok((await blockedKeys(m.store)).includes(seed.aggregateKey), 'a later resolve keeps the block');
      // What the consumer does once it applied the reprocessed event.
      assert.equal(await m.store.parking.unblock(GROUP, seed.aggregateKey), true);
      const listed = JSON.parse(ok(await m.run('list --stream identity.dlq --json')).stdout) as ListJson;
      assert.equal(
        listed.find((entry) => entry.id === seed.dead.id),
        undefined,
      );
    });

    it('bulk resolve releases every halted aggregate it closes; bulk reprocess leaves them', async () => {
      const m = mode();
      const resolving = [
        await haltBehind(m, 2, 'user.bulk-resolve'),
        await haltBehind(m, 1, 'user.bulk-resolve'),
      ];
      const resolved = ok(await m.run('resolve --stream identity.dlq --event-type user.bulk-resolve'));
      assert.match(resolved.stdout, /^resolved 2 of 2 dead letters in identity\.dlq /m);
      assert.match(
        resolved.stdout,
        /^released 2 halted aggregates \(3 waiting events\): the waiting events follow in order$/m,
      );
      const blocked = await blockedKeys(m.store);
      for (const seed of resolving) {
        assert.ok(!blocked.includes(seed.aggregateKey));
        assert.deepEqual(await parkedIds(m.store, seed.aggregateKey), seed.waiting);
      }

      const reprocessing = [
        await haltBehind(m, 3, 'user.bulk-reprocess'),
        await haltBehind(m, 1, 'user.bulk-reprocess'),
      ];
      const result = ok(
        await m.run('reprocess --stream identity.dlq --event-type user.bulk-reprocess --json'),
      );
      const summary = JSON.parse(result.stdout) as {
        done: number;
        halted: { aggregates: number; waiting_behind: number; released: boolean };
      };
      assert.equal(summary.done, 2);
      assert.deepEqual(summary.halted, { aggregates: 2, waiting_behind: 4, released: false });
      const still = await blockedKeys(m.store);
      for (const seed of reprocessing) assert.ok(still.includes(seed.aggregateKey));
    });
  });
};

const hasPostgresRedis = await skipUnless('postgres', 'redis');

describe('production mode (Postgres + Redis)', { skip: hasPostgresRedis }, () => {
  const db = useTestDatabase();
  const redis = useTestRedis();
  let bus: Bus;
  before(() => {
    bus = createRedisBus(new Redis(redis.url), { keyPrefix: redis.prefix });
  });
  after(() => bus.close());
  const mode = (): Mode => ({
    bus,
    store: db.store,
    run: mmDlq({ redisUrl: redis.url, prefix: redis.prefix, databaseUrl: db.url }),
  });
  describeHalted('Postgres + Redis', false, mode);

  it('reprocess reports what waited behind the dead letter even when a consumer lifts the block at once', async () => {
    const m = mode();
    const seed = await haltBehind(m, 3);
    // A fast consumer: applies the reprocessed copy the moment it appears, and lifts the block.
    const watcher = new Redis(redis.url);
    const [last] = await watcher.xrevrange(`${redis.prefix}${TOPIC}`, '+', '-', 'COUNT', 1);
    const lifted = (async () => {
      await watcher.xread('BLOCK', 10_000, 'STREAMS', `${redis.prefix}${TOPIC}`, last?.[0] ?? '0-0');
      return m.store.parking.unblock(GROUP, seed.aggregateKey);
    })();
    try {
      const reprocessed = ok(await m.run(`reprocess --stream identity.dlq --id ${seed.dead.id}`));
      assert.equal(await lifted, true, 'the block was lifted as soon as the copy was published');
      assert.match(
        reprocessed.stdout,
        new RegExp(`^3 events wait behind it \\(aggregate ${seed.aggregateKey}, `, 'm'),
      );
    } finally {
      watcher.disconnect();
    }
  });

  it('purge releases what the purged dead letters halted', async () => {
    const m = mode();
    const aggregateId = uuidv7();
    const aggregateKey = `user/${aggregateId}`;
    // An old id needs a stream of its own: Redis only appends after the newest id.
    const event = userEvent({ aggregateId, topic: 'billing', eventType: 'invoice.created' });
    const at = new Date(Date.now() - 40 * 86_400_000).toISOString();
    const fields = deadLetterFields(toStreamFields(event), {
      stage: 'consumer',
      originStream: 'billing',
      originId: '1-0',
      consumerGroup: GROUP,
      error: new Error('old failure'),
      attempts: 5,
      firstFailedAt: at,
      failedAt: at,
    });
    const id = `${Date.parse(at)}-0`;
    await redis.client.xadd(`${redis.prefix}billing.dlq`, id, ...Object.entries(fields).flat());
    await db.store.parking.block({
      group: GROUP,
      aggregateKey,
      eventId: event.eventId,
      deadLetterStream: 'billing.dlq',
      deadLetterId: id,
    });
    const purged = ok(await m.run('purge --stream billing.dlq --older-than 30d --yes'));
    assert.match(purged.stdout, /^purged 1 of 1 /m);
    assert.match(purged.stdout, /^released 1 halted aggregate \(0 waiting events\)/m);
    assert.ok(!(await blockedKeys(db.store)).includes(aggregateKey));
  });

  it('with the database unreachable, list still shows the dead letters, their counts not checked', async () => {
    const seed = await haltBehind(mode(), 1);
    const unreachable = mmDlq({
      redisUrl: redis.url,
      prefix: redis.prefix,
      databaseUrl: 'postgres://nobody@127.0.0.1:1/none',
    });
    const listed = ok(await unreachable('list --stream identity.dlq --json'));
    const entry = (JSON.parse(listed.stdout) as ListJson).find((row) => row.id === seed.dead.id);
    assert.equal(entry?.waiting_behind, null);
    assert.match(listed.stderr, /events waiting behind each dead letter not checked: database unavailable/);
  });

  it('without the database, resolve says nothing was released; a rerun with it releases', async () => {
    const m = mode();
    const seed = await haltBehind(m, 2);
    const bare = mmDlq({ redisUrl: redis.url, prefix: redis.prefix });
    const listed = ok(await bare('list --stream identity.dlq'));
    assert.doesNotMatch(listed.stdout, /WAITING/);
    assert.match(
      listed.stderr,
      /events waiting behind each dead letter not checked: no --database-url given/,
    );
    const first = ok(await bare(`resolve --stream identity.dlq --id ${seed.dead.id}`));
    assert.match(first.stderr, /were not released: no --database-url given; run it again with the database/);
    assert.ok((await blockedKeys(db.store)).includes(seed.aggregateKey), 'still blocked');
    const rerun = ok(await m.run(`resolve --stream identity.dlq --id ${seed.dead.id}`));
    assert.match(rerun.stdout, /was already resolved/);
    assert.match(
      rerun.stdout,
      new RegExp(`^released aggregate ${seed.aggregateKey}, group ${GROUP}: 2 waiting`, 'm'),
    );
    assert.ok(!(await blockedKeys(db.store)).includes(seed.aggregateKey));
  });
});

describe('local mode (one SQLite file)', () => {
  let dir: string;
  let file: string;
  let ports: Awaited<ReturnType<typeof openLocalPorts>>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mm-dlq-halted-'));
    file = join(dir, 'local.db');
    ports = await openLocalPorts({ file, logger: createLogger({ level: 'error', sink: () => {} }) });
  });
  after(async () => {
    await ports.close();
    rmSync(dir, { recursive: true, force: true });
  });
  describeHalted('local file', false, () => ({
    bus: ports.bus,
    store: ports.store,
    run: (command) => {
      const args =
        typeof command === 'string' ? command.split(' ').filter((word) => word !== '') : [...command];
      return runBinary('mm-dlq', [...args, '--local', file]);
    },
  }));
});
