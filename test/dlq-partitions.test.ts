// mm-dlq reprocess with partitions: a dead letter goes back to its aggregate's partition stream under
// the count recorded now, whatever stream (and count) it failed on; the dead-letter stream stays one.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisBus } from '../src/adapters/redis/bus.ts';
import { deadLetterFields } from '../src/core/dead-letter.ts';
import { toStreamFields } from '../src/core/envelope.ts';
import { streamOfAggregate } from '../src/core/partitions.ts';
import type { Bus } from '../src/ports/bus.ts';
import { DLQ, GROUP, mmDlq, TOPIC, userEvent } from './dlq-fixtures.ts';
import { useTestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

describe('mm-dlq reprocess onto partition streams', { skip: await skipUnless('redis') }, () => {
  const redis = useTestRedis({ perTest: true });
  let bus: Bus;
  let run: ReturnType<typeof mmDlq>;

  // A fresh prefix per test: each starts without a recorded count.
  beforeEach(() => {
    bus = createRedisBus(new Redis(redis.url), { keyPrefix: redis.prefix });
    run = mmDlq({ redisUrl: redis.url, prefix: redis.prefix });
  });
  afterEach(() => bus.close());

  /** A consumer-stage dead letter of an event read from `origin` (a partition stream of 2). */
  const deadOn = async (aggregateId: string, origin: string) => {
    const event = userEvent({ aggregateId });
    const originId = await bus.add(origin, toStreamFields(event));
    const at = new Date().toISOString();
    const fields = deadLetterFields(toStreamFields(event), {
      stage: 'consumer',
      originStream: origin,
      originId,
      consumerGroup: GROUP,
      error: new Error('handler failed'),
      attempts: 5,
      firstFailedAt: at,
      failedAt: at,
    });
    return { id: await bus.add(DLQ, fields), event };
  };

  it('one by id and in bulk: each to its partition stream under the current count', async () => {
    // The events failed while the topic had 2 partitions; it has 3 now.
    const aggregates = ['u1', 'u2', 'u3', 'u4', 'u5'];
    const dead = [];
    for (const a of aggregates) dead.push(await deadOn(a, streamOfAggregate(TOPIC, a, 2)));
    await bus.setPartitions(TOPIC, 3);

    const first = dead[0] as (typeof dead)[number];
    const one = await run(`reprocess --stream ${DLQ} --id ${first.id} --json`);
    assert.equal(one.code, 0, one.stderr);
    const wanted = streamOfAggregate(TOPIC, 'u1', 3);
    assert.equal(JSON.parse(one.stdout).origin_stream, wanted);
    const [back] = await bus.range(wanted, { reverse: true, count: 1 });
    assert.equal(back?.fields.event_id, first.event.eventId);

    const bulk = await run(`reprocess --stream ${DLQ} --all --json`);
    assert.equal(bulk.code, 0, bulk.stderr);
    for (const { event } of dead.slice(1)) {
      const stream = streamOfAggregate(TOPIC, event.aggregateId, 3);
      const entries = await bus.range(stream);
      assert.ok(
        entries.some(
          (e) => e.fields.event_id === event.eventId && e.fields.headers?.includes('reprocessed_from'),
        ),
        `${event.aggregateId}'s event is back on ${stream}`,
      );
    }
    assert.equal(await bus.len(DLQ), 0);
    assert.equal(await bus.len(TOPIC), 0, 'nothing on the unpartitioned stream');
  });

  it('without a recorded count, exits 66 naming where it looked, its dry run too, and publishes nothing', async () => {
    const { id } = await deadOn('u2', TOPIC);
    for (const command of [
      `reprocess --stream ${DLQ} --id ${id}`,
      `reprocess --stream ${DLQ} --id ${id} --dry-run`,
    ]) {
      const result = await run(command);
      assert.equal(result.code, 66, `${command}: ${result.stdout}${result.stderr}`);
      assert.match(
        result.stderr,
        new RegExp(`topic ${TOPIC} has no recorded partition count in Redis 127\\.0\\.0\\.1:\\d+`),
      );
    }
    assert.equal((await bus.range(TOPIC)).length, 1, 'only the original entry');
    const still = await run(`list --stream ${DLQ} --json`);
    assert.equal(JSON.parse(still.stdout).length, 1, 'the dead letter stays open');
  });

  it('a dry run names the partition stream the current count sends the event to', async () => {
    const { id } = await deadOn('u4', streamOfAggregate(TOPIC, 'u4', 2));
    await bus.setPartitions(TOPIC, 3);
    const dry = await run(`reprocess --stream ${DLQ} --id ${id} --dry-run`);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`would publish to ${streamOfAggregate(TOPIC, 'u4', 3)}:`));
  });
});
