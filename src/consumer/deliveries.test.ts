import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openLocalPorts } from '../adapters/sqlite/local-ports.ts';
import { silentLogger } from '../core/logger.ts';
import type { Bus } from '../ports/bus.ts';
import { createDeliverySource } from './deliveries.ts';

describe('delivery source', () => {
  let local: Awaited<ReturnType<typeof openLocalPorts>>;
  let bus: Bus;
  before(async () => {
    local = await openLocalPorts({ file: ':memory:', logger: silentLogger });
    bus = local.bus;
  });
  after(() => local.close());

  it('reads at most --batch-size entries however many partition streams it reads', async () => {
    const streams = ['orders:0', 'orders:1', 'orders:2', 'orders:3'];
    for (const stream of streams) {
      await bus.createGroup(stream, 'g', { startId: '0' });
      for (let i = 0; i < 10; i += 1) await bus.add(stream, { n: String(i) });
    }
    const source = createDeliverySource(
      bus,
      { group: 'g', name: 'c', batchSize: 8, blockMs: 0, startId: '0' },
      silentLogger,
    );
    const first = await source.readNew(streams, undefined, 0);
    assert.equal(first.length, 8, 'two of each of the four streams');
    assert.deepEqual(
      streams.map((s) => first.filter((d) => d.stream === s).length),
      [2, 2, 2, 2],
    );
    // One stream alone gets the whole batch.
    assert.equal((await source.readNew(['orders:0'], undefined, 0)).length, 8);
  });
});
