// The Bus contract: every behaviour of src/ports/bus.ts that the relay, the consumer and the DLQ tool
// rely on, run unchanged against Redis and the SQLite stream shim. Where they differ, the shim is wrong.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe } from 'node:test';
import type { Bus } from '../../src/ports/bus.ts';
import { busEntriesCases } from './bus-entries.ts';
import { busGroupsCases } from './bus-groups.ts';
import type { BusFactory, BusFixture, BusKit } from './bus-kit.ts';
import { G, S } from './bus-kit.ts';
import { busMembersCases } from './bus-members.ts';
import { busPendingCases } from './bus-pending.ts';
import { busTopicsCases } from './bus-topics.ts';
import { busWritesCases } from './bus-writes.ts';

export type { BusFactory, BusFixture } from './bus-kit.ts';

export const describeBusContract = (
  name: string,
  factory: BusFactory,
  options: { skip?: string | false } = {},
): void => {
  describe(`Bus contract: ${name}`, { skip: options.skip ?? false }, () => {
    let current: BusFixture | undefined;
    const opened: BusFixture[] = [];
    const fixture = (): BusFixture => {
      if (!current) throw new Error('no fixture outside a test');
      return current;
    };

    beforeEach(async () => {
      current = await factory();
      opened.push(current);
    });

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((f) => f.cleanup()));
      current = undefined;
    });

    const kit: BusKit = {
      get bus() {
        return fixture().bus;
      },
      get fixture() {
        return fixture();
      },
      factory,
      track: (other) => {
        opened.push(other);
      },
      fill: async (count, stream = S) => {
        const outcomes = await fixture().bus.addBatch(
          Array.from({ length: count }, (_, i) => ({ stream, fields: { n: String(i + 1) } })),
        );
        return outcomes.map((o) => {
          assert.ok('id' in o, 'every entry is added');
          return o.id;
        });
      },
      readNew: (consumer, count = 100, streams = [S]) =>
        fixture().bus.readGroup({ group: G, consumer, streams, count }),
      readHistory: (client: Bus, consumer, count = 100) =>
        client.readGroup({ group: G, consumer, streams: [S], count, history: true }),
    };

    busEntriesCases(kit);
    busGroupsCases(kit);
    busMembersCases(kit);
    busPendingCases(kit);
    busWritesCases(kit);
    busTopicsCases(kit);
  });
};
