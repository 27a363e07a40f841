// A released parked event that fails for good is dead-lettered, then removed from parking (two
// stores). A consumer that dies between the two steps leaves it parked with its dead letter written;
// the next one must not dead-letter it a second time, in both modes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { aggregateKeyOf } from '../src/core/partitions.ts';
import type { Store } from '../src/ports/store.ts';
import { userEvent } from './helpers/consumer-events.ts';
import { eventually } from './helpers/eventually.ts';
import { skipUnless } from './helpers/services.ts';
import { GROUP, localPorts, type ModePorts, productionPorts, runConsumer } from './helpers/two-modes.ts';

/** The store with its removal from parking failing while `dead` holds: the process is as good as gone. */
const dyingAtParkingRemoval = (store: Store, dead: { now: boolean }): Store => ({
  ...store,
  parking: {
    ...store.parking,
    remove: async (group, eventIds) => {
      if (dead.now && eventIds.length > 0) throw new Error('process died before the parking row was removed');
      return store.parking.remove(group, eventIds);
    },
  },
});

const crashCase = (open: () => Promise<ModePorts>) => () => {
  let ports: ModePorts;
  before(async () => {
    ports = await open();
  });
  after(() => ports.cleanup());

  it('a released event dead-lettered just before the process died is not dead-lettered again', async () => {
    // Parked by an earlier run behind a failure of its aggregate; its payload fails validation for good.
    const bad = userEvent({ payload: 'not a user' });
    await ports.store.parking.park([
      {
        group: GROUP,
        aggregateKey: aggregateKeyOf({ aggregateType: 'user', aggregateId: bad.userId }),
        stream: 'identity',
        streamId: '1-0',
        eventId: bad.eventId,
        outboxId: null,
        fields: bad.fields,
      },
    ]);
    const dead = { now: true };
    const first = await runConsumer(
      { ...ports, store: dyingAtParkingRemoval(ports.store, dead) },
      { onDeadLetter: 'continue', drainMs: 300 },
    );
    await eventually(async () => (await ports.bus.len('identity.dlq')) === 1);
    await eventually(() =>
      first.logs().some((line) => line.includes('remove dead letters from parking failed')),
    );
    await first.stop();
    dead.now = false;
    assert.equal(await ports.store.parking.count(GROUP), 1, 'the dead-lettered event is still parked');

    const restarted = await runConsumer(ports, { onDeadLetter: 'continue', name: 'after-the-crash' });
    try {
      await eventually(async () => (await ports.store.parking.count(GROUP)) === 0, 10_000, {
        message: 'the parked copy leaves parking',
      });
      const letters = await ports.bus.range('identity.dlq');
      assert.deepEqual(
        letters.map((l) => [l.fields.event_id, l.fields.dlq_origin_id, l.fields.dlq_consumer_group]),
        [[bad.eventId, '1-0', GROUP]],
        'one dead letter for the event',
      );
      assert.equal(
        await ports.store.ledger.find(bad.eventId).then((rows) => rows.length),
        0,
        'never applied',
      );
    } finally {
      await restarted.stop();
    }
  });
};

describe(
  'a dead-lettered parked event across a crash (production)',
  { skip: await skipUnless('postgres', 'redis') },
  crashCase(productionPorts),
);
describe('a dead-lettered parked event across a crash (local)', crashCase(localPorts));
