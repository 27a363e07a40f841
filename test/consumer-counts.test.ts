// Consumer counts an operator can trust, in both modes: duplicates have their own counter and are not
// successes; last_processed_event_id comes from the group's state, so it survives a restart and the
// runbook's replay block (replay --from that id) works right after one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseReplayFrom, runReplay } from '../src/consumer/replay.ts';
import { userEvent } from './helpers/consumer-events.ts';
import { eventually } from './helpers/eventually.ts';
import { skipUnless } from './helpers/services.ts';
import { GROUP, localPorts, type ModePorts, productionPorts, runConsumer } from './helpers/two-modes.ts';

const LABELS = `topic="identity",consumer_group="${GROUP}"`;

const countsCase = (open: () => Promise<ModePorts>) => () => {
  let ports: ModePorts;
  before(async () => {
    ports = await open();
  });
  after(() => ports.cleanup());

  it('counts duplicates apart from successes, and knows the last processed id after a restart', async () => {
    const first = await runConsumer(ports);
    const events = [userEvent(), userEvent(), userEvent()];
    for (const event of events) await ports.bus.add('identity', event.fields);
    await eventually(async () => (await first.metrics()).events_processed_success === 3);
    const again = await ports.bus.add('identity', (events[0] as { fields: Record<string, string> }).fields);
    await eventually(async () => (await first.metrics()).events_duplicates === 1);
    const metrics = await first.metrics();
    assert.equal(metrics.events_processed_success, 3);
    assert.equal(metrics.success_rate, 100);
    const text = await first.prometheus();
    assert.match(text, new RegExp(`^events_duplicates_total\\{${LABELS}\\} 1$`, 'm'));
    assert.match(text, new RegExp(`^events_processed_success\\{${LABELS}\\} 3$`, 'm'));
    await first.stop();

    const restarted = await runConsumer(ports, { name: 'after-restart' });
    try {
      await eventually(async () => (await restarted.metrics()).last_processed_event_id === again);
      const fresh = await restarted.metrics();
      assert.deepEqual(fresh.last_processed_event_ids, { identity: again });
      assert.deepEqual([fresh.events_processed_success, fresh.events_duplicates], [0, 0]);
      // The runbook's replay block, with the id the metrics gave.
      const report = await runReplay(
        { bus: ports.bus, ledger: ports.store.ledger },
        {
          group: GROUP,
          topic: 'identity',
          from: parseReplayFrom(String(fresh.last_processed_event_id)),
          dryRun: false,
        },
      );
      assert.deepEqual([report.redeliver, report.alreadyApplied], [1, 1]);
      await eventually(async () => (await restarted.metrics()).events_duplicates === 1);
      assert.equal((await restarted.metrics()).events_processed_success, 0);
    } finally {
      await restarted.stop();
    }
  });
};

describe(
  'consumer counts (production)',
  { skip: await skipUnless('postgres', 'redis') },
  countsCase(productionPorts),
);
describe('consumer counts (local)', countsCase(localPorts));
