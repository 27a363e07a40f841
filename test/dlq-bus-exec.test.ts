// The Bus operation a DLQ close stands on: exec with requireEntry and idFields, on Redis.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisBus } from '../src/adapters/redis/bus.ts';
import type { Bus } from '../src/ports/bus.ts';
import { createTestRedis, type TestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

describe('bus exec for DLQ closes (redis)', { skip: await skipUnless('redis') }, () => {
  let redis: TestRedis;
  let bus: Bus;
  before(async () => {
    redis = await createTestRedis();
    bus = createRedisBus(new Redis(redis.url), { keyPrefix: redis.prefix });
  });
  after(async () => {
    await bus.close();
    await redis.cleanup();
  });

  it('writes an entry, a record naming its id and a removal as one step', async () => {
    const dead = await bus.add('t.dlq', { event_id: 'e1' });
    const result = await bus.exec(
      [
        { op: 'add', stream: 't', fields: { event_id: 'e1' } },
        {
          op: 'add',
          stream: 't.dlq.audit',
          fields: { action: 'reprocessed' },
          idFields: { new_stream_id: 0 },
        },
        { op: 'del', stream: 't.dlq', ids: [dead] },
      ],
      { requireEntry: { stream: 't.dlq', id: dead } },
    );
    assert.equal(result.applied, true);
    const [published] = await bus.range('t');
    const [audit] = await bus.range('t.dlq.audit');
    assert.equal(result.addedIds[0], published?.id);
    assert.deepEqual(audit?.fields, { action: 'reprocessed', new_stream_id: published?.id });
    assert.equal(await bus.len('t.dlq'), 0);
  });

  it('writes nothing when the required entry is gone', async () => {
    const before = [await bus.len('t'), await bus.len('t.dlq.audit')];
    const result = await bus.exec(
      [
        { op: 'add', stream: 't', fields: { event_id: 'e1' } },
        {
          op: 'add',
          stream: 't.dlq.audit',
          fields: { action: 'reprocessed' },
          idFields: { new_stream_id: 0 },
        },
      ],
      { requireEntry: { stream: 't.dlq', id: '1-0' } },
    );
    assert.deepEqual(result, { applied: false, addedIds: [] });
    assert.deepEqual([await bus.len('t'), await bus.len('t.dlq.audit')], before);
  });

  it('refuses an idFields reference to an add that does not come earlier', async () => {
    await assert.rejects(
      bus.exec([{ op: 'add', stream: 't', fields: { a: '1' }, idFields: { self: 0 } }]),
      /not an earlier add/,
    );
  });
});
