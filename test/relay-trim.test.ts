// Trimming: streams stay near --stream-maxlen, but never lose an entry a consumer group has not
// acknowledged; only --stream-hard-max does that, and it is counted per group and logged.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { uuidv7 } from '../src/core/ids.ts';
import type { Bus } from '../src/ports/bus.ts';
import type { NewOutboxEvent } from '../src/ports/outbox.ts';
import { eventually } from './helpers/eventually.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { useTestRedis } from './helpers/redis.ts';
import { createTestBus, jsonMetrics, readStream, startTestRelay, type TestRelay } from './helpers/relay.ts';
import { skipUnless } from './helpers/services.ts';

const events = (count: number): NewOutboxEvent[] =>
  Array.from({ length: count }, (_, i) => ({
    eventId: uuidv7(),
    topic: 'identity',
    eventType: 'user.updated',
    aggregateType: 'user',
    aggregateId: `a${i % 17}`,
    payload: { n: i },
  }));

describe('mm-relay trimming', { skip: await skipUnless('postgres', 'redis') }, () => {
  const db = useTestDatabase();
  const redis = useTestRedis({ perTest: true });
  let bus: Bus;
  let running: TestRelay | undefined;
  let published = 0;

  afterEach(async () => {
    await running?.relay.stop();
    running = undefined;
    await bus.close();
  });
  const setup = async (options: Parameters<typeof startTestRelay>[1]): Promise<void> => {
    bus = createTestBus(redis.url, redis.prefix);
    published = 0;
    running = await startTestRelay(
      { store: db.store, bus },
      { batchSize: 50, pollIntervalMs: 20, trimIntervalMs: 0, ...options },
    );
  };
  /**
   * Writes `count` events and waits until the relay has published (and committed) all of them. The
   * relay trims right after a batch, so once a later publish returns, earlier trims are complete.
   */
  const publish = async (count: number): Promise<void> => {
    await db.store.withTransaction((tx) => tx.outbox.insert(events(count)));
    published += count;
    const relay = running?.relay ?? assert.fail('no relay');
    await eventually(async () => (await jsonMetrics(relay)).publish_success_total === published, 15_000, {
      message: `${published} events published`,
    });
  };

  it('never trims entries a slow consumer group has not acknowledged, and caps once it has', async () => {
    await setup({ streamMaxLen: 100, streamHardMax: 0 });
    await bus.createGroup('identity', 'slow', { startId: '0' });
    await bus.createGroup('identity', 'fast', { startId: '0' });
    await publish(60);
    const [slowRead] = await bus.readGroup({
      group: 'slow',
      consumer: 's1',
      streams: ['identity'],
      count: 20,
    });
    const pendingIds = (slowRead?.entries ?? []).map((e) => e.id);
    assert.equal(pendingIds.length, 20);
    const catchUp = async (group: string): Promise<void> => {
      for (;;) {
        const [read] = await bus.readGroup({
          group,
          consumer: `${group}-1`,
          streams: ['identity'],
          count: 500,
        });
        const ids = (read?.entries ?? []).map((e) => e.id);
        if (ids.length === 0) return;
        await bus.ack('identity', group, ids);
      }
    };
    await catchUp('fast');

    await publish(600);
    await catchUp('fast');
    await publish(50);
    await publish(1);
    const kept = await readStream(bus, 'identity');
    assert.equal(kept.length, 711, 'the slow group still needs every entry from its first pending one');
    const history = await bus.readGroup({
      group: 'slow',
      consumer: 's1',
      streams: ['identity'],
      count: 100,
      history: true,
    });
    assert.deepEqual(
      history[0]?.entries.map((e) => e.id),
      pendingIds,
      'pending entries are still readable',
    );

    await bus.ack('identity', 'slow', pendingIds);
    await catchUp('slow');
    await catchUp('fast');
    await publish(10);
    await publish(1);
    const length = await bus.len('identity');
    assert.ok(length >= 100 && length <= 110, `stream capped near 100 once acknowledged, holds ${length}`);
    const metrics = await running?.relay.app.request('/metrics/prometheus');
    const text = await (metrics?.text() ?? '');
    assert.match(text, /\nstream_trimmed_unconsumed_total\{stream="identity",group="slow"\} 0\n/);
    assert.match(text, /\nstream_trimmed_unconsumed_total\{stream="identity",group="fast"\} 0\n/);
  });

  it('keeps every entry of a stream no group reads yet, for the consumer that starts later at 0', async () => {
    await setup({ streamMaxLen: 100, streamHardMax: 0 });
    await publish(400);
    await publish(10);
    await publish(1);
    assert.equal(await bus.len('identity'), 411);
    await bus.createGroup('identity', 'late', { startId: '0' });
    const read = await bus.readGroup({ group: 'late', consumer: 'c', streams: ['identity'], count: 1_000 });
    assert.equal(read[0]?.entries.length, 411);
  });

  it('applies --stream-hard-max to unacknowledged entries only as a counted, logged last resort', async () => {
    await setup({ streamMaxLen: 50, streamHardMax: 200 });
    await bus.createGroup('identity', 'stuck', { startId: '0' });
    await publish(300);
    await publish(10);
    await publish(1);
    const relay = running?.relay ?? assert.fail('no relay');
    const trimmedCount = async (): Promise<number> => {
      const text = await (await relay.app.request('/metrics/prometheus')).text();
      return Number(
        /\nstream_trimmed_unconsumed_total\{stream="identity",group="stuck"\} (\d+)\n/.exec(text)?.[1],
      );
    };
    // Everything removed was owed to the stuck group, and all of it was counted.
    await eventually(async () => (await trimmedCount()) === 311 - (await bus.len('identity')), 5_000);
    const length = await bus.len('identity');
    assert.ok(length <= 211, `hard cap holds the stream near 200, it has ${length}`);
    const loud = running?.logs().filter((line) => line.includes('hit its hard cap of 200 entries')) ?? [];
    assert.ok(loud.length > 0);
    assert.match(loud[0] ?? '', /"level":"error"/);
    assert.match(loud[0] ?? '', /consumer group stuck had not acknowledged \(0 pending/);
  });

  it('counts and logs a hard-cap trim of a stream no group has read yet', async () => {
    await setup({ streamMaxLen: 50, streamHardMax: 200 });
    await publish(300);
    await publish(1);
    const relay = running?.relay ?? assert.fail('no relay');
    const text = await (await relay.app.request('/metrics/prometheus')).text();
    const counted = Number(
      /\nstream_trimmed_unconsumed_total\{stream="identity",group=""\} (\d+)\n/.exec(text)?.[1],
    );
    assert.equal(counted, 301 - (await bus.len('identity')));
    assert.ok(counted > 0);
    const loud = running?.logs().filter((line) => line.includes('no consumer group has read them yet')) ?? [];
    assert.ok(loud.length > 0);
  });
});
