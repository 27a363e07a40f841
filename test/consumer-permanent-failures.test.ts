// Permanent failures go to the DLQ on the first failure (PermanentError, ValidationError, a value
// that cannot even be described); other failures keep their retries up to --max-deliveries.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { loadHandlerModule } from '../src/consumer/handler-module.ts';
import { addEntries, readStream, userEvent } from './helpers/consumer-events.ts';
import { type RunningConsumer, startConsumer } from './helpers/consumer-harness.ts';
import { eventually } from './helpers/eventually.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { useTestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

describe('mm-consumer permanent failures', { skip: await skipUnless('postgres', 'redis') }, () => {
  const db = useTestDatabase();
  const redis = useTestRedis({ perTest: true });
  const running: RunningConsumer[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.stop()));
  });

  it('dead-letters permanent failures at once and retries the others', async () => {
    const handlers = await loadHandlerModule('fixtures/handlers/permanent-failures.mjs', process.cwd());
    const events = {
      permanent: userEvent({ headers: { throw: 'permanent' } }),
      validation: userEvent({ headers: { throw: 'validation' } }),
      undescribable: userEvent({ headers: { throw: 'undescribable' } }),
      plain: userEvent({ headers: { throw: 'plain' } }),
      fine: userEvent(),
    };
    await addEntries(
      redis.client,
      `${redis.prefix}identity`,
      Object.values(events).map((e) => e.fields),
    );
    const consumer = await startConsumer(
      { store: db.store, redisUrl: redis.url, keyPrefix: redis.prefix },
      { handlers, claimIdleMs: 200, maxDeliveries: 3 },
    );
    running.push(consumer);
    const dlq = `${redis.prefix}identity.dlq`;
    await eventually(async () => (await redis.client.xlen(dlq)) === 4, 15_000, {
      message: 'four dead letters',
    });
    const letters = new Map((await readStream(redis.client, dlq)).map((e) => [e.fields.event_id, e.fields]));
    for (const name of ['permanent', 'validation', 'undescribable'] as const) {
      const letter = letters.get(events[name].eventId);
      assert.equal(letter?.dlq_attempts, '1', `${name}: dead-lettered on the first failure`);
    }
    assert.equal(letters.get(events.permanent.eventId)?.dlq_error_class, 'PermanentError');
    assert.equal(letters.get(events.validation.eventId)?.dlq_error_class, 'ValidationError');
    assert.match(letters.get(events.undescribable.eventId)?.dlq_error_message ?? '', /cannot be described/);
    // The ordinary failure used its deliveries.
    assert.equal(letters.get(events.plain.eventId)?.dlq_attempts, '3');
    const logs = consumer.logs().join('');
    assert.equal(logs.split(`Failed to process event ${events.permanent.eventId}`).length - 1, 1);
  });
});
