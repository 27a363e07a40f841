// A read whose entries reached the consumer's pending list but whose reply was never handled (lost on
// the way, or read by an owner that lost the partition first) must not be overtaken by a later read:
// before applying a fresh read the consumer handles the older pending entries nobody handled, in
// both modes. Without that, they came back only through the idle reclaim, after later events of
// their aggregates, and a profile ended on an older event.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TransientError } from '../src/core/errors.ts';
import type { Bus } from '../src/ports/bus.ts';
import { userEvent } from './helpers/consumer-events.ts';
import { eventually } from './helpers/eventually.ts';
import { skipUnless } from './helpers/services.ts';
import { localPorts, type ModePorts, productionPorts, runConsumer } from './helpers/two-modes.ts';

/** A bus whose first read that delivers entries loses its reply: the entries stay pending, unseen. */
const losingFirstReply = (bus: Bus, lost: { ids: string[] }): Bus => ({
  ...bus,
  readGroup: async (options) => {
    const reads = await bus.readGroup(options);
    const ids = reads.flatMap((read) => read.entries.map((entry) => entry.id));
    if (lost.ids.length === 0 && !options.history && ids.length > 0) {
      lost.ids.push(...ids);
      throw new TransientError('the reply was lost on its way', { dependency: 'bus' });
    }
    return reads;
  },
});

const lostReadCase = (open: () => Promise<ModePorts>) => () => {
  let ports: ModePorts;
  before(async () => {
    ports = await open();
  });
  after(() => ports.cleanup());

  it('handles the entries of a lost read before a later read of the same aggregate', async () => {
    const lost = { ids: [] as string[] };
    const consumer = await runConsumer(ports, {
      bus: losingFirstReply(await ports.openBus(), lost),
      claimIdleMs: 1_000,
    });
    try {
      const created = userEvent({ email: 'first@example.com' });
      await ports.bus.add('identity', created.fields);
      await eventually(() => lost.ids.length > 0, 10_000, { message: 'the first read lost its reply' });
      const updated = userEvent({
        type: 'user.updated',
        userId: created.userId,
        email: 'second@example.com',
      });
      await ports.bus.add('identity', updated.fields);

      await eventually(async () => (await consumer.metrics()).events_processed_success === 2, 10_000);
      // Past the idle reclaim: nothing comes back late.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const profile = await ports.store.withTransaction((tx) => tx.lintProfiles.get(created.userId));
      assert.equal(profile?.email, 'second@example.com', 'the profile ends on the later event');
      assert.equal((await consumer.metrics()).events_processed_success, 2);
      assert.ok(
        consumer.logs().some((line) => line.includes('older than the last read were never handled')),
        'the consumer says what it found',
      );
      assert.equal((await ports.bus.pending('identity', 'markdown-lint-consumer')).count, 0);
    } finally {
      await consumer.stop();
    }
  });
};

describe(
  'a lost read (production)',
  { skip: await skipUnless('postgres', 'redis') },
  lostReadCase(productionPorts),
);
describe('a lost read (local)', lostReadCase(localPorts));
