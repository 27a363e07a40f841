// Stale consumer names do not pile up, in both modes: a name with nothing pending and no heartbeat for
// --stale-consumer-ms is removed from the group and logged (a dead name's pending entries are taken
// over by the partition's owner first, so it goes too); live consumers stay; a hot standby never
// reads, so it holds a heartbeat but no name in the group; health counts live consumers apart from
// registered names; a clean stop takes its own name out.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bus } from '../src/ports/bus.ts';
import { userEvent } from './helpers/consumer-events.ts';
import { eventually } from './helpers/eventually.ts';
import { skipUnless } from './helpers/services.ts';
import { GROUP, localPorts, type ModePorts, productionPorts, runConsumer } from './helpers/two-modes.ts';

const STALE_MS = 600;

/** A consumer name that read one entry through the group; acknowledged unless `keepPending`. */
const ghost = async (bus: Bus, name: string, keepPending = false): Promise<void> => {
  const reads = await bus.readGroup({ group: GROUP, consumer: name, streams: ['identity'], count: 1 });
  const ids = reads.flatMap((read) => read.entries.map((entry) => entry.id));
  assert.equal(ids.length, 1);
  if (!keepPending) await bus.ack('identity', GROUP, ids);
};

const names = async (bus: Bus): Promise<string[]> =>
  (await bus.consumers('identity', GROUP)).map((c) => c.name);

const staleCase = (open: () => Promise<ModePorts>) => () => {
  let ports: ModePorts;
  before(async () => {
    ports = await open();
  });
  after(() => ports.cleanup());

  it('removes names nobody holds once their entries are taken over, keeps live ones, counts both in health', async () => {
    const { bus } = ports;
    for (let i = 0; i < 4; i += 1) await bus.add('identity', userEvent().fields);
    await bus.createGroup('identity', GROUP);
    await ghost(bus, 'ghost-never-beat');
    await ghost(bus, 'ghost-busy', true);
    await ghost(bus, 'ghost-old-beat');
    await bus.heartbeat(GROUP, 'ghost-old-beat', Date.now() - 3_600_000);
    await ghost(bus, 'ghost-crashed');
    await bus.heartbeat(GROUP, 'ghost-crashed', Date.now());

    const active = await runConsumer(ports, { name: 'active', staleConsumerMs: STALE_MS });
    const standby = await runConsumer(ports, { name: 'standby', staleConsumerMs: STALE_MS });
    try {
      // ghost-crashed beat at the same time as the standby started: it goes, the standby stays.
      await eventually(async () => (await names(bus)).join() === 'active');
      const logs = [...active.logs(), ...standby.logs()].join('\n');
      for (const gone of ['ghost-never-beat', 'ghost-old-beat', 'ghost-crashed', 'ghost-busy'])
        assert.match(
          logs,
          new RegExp(`removed stale consumer ${gone} from group ${GROUP} on identity: nothing pending`),
        );
      assert.deepEqual(Object.keys(await bus.heartbeats(GROUP)).sort(), ['active', 'standby']);

      await eventually(async () => {
        const check = ((await active.health()).checks as Record<string, Record<string, unknown>>)
          .consumer_group;
        return check?.consumers === 2 && check.registered_consumers === 1;
      });

      await standby.stop();
      assert.deepEqual(await names(bus), ['active']);
      assert.deepEqual(Object.keys(await bus.heartbeats(GROUP)), ['active']);
    } finally {
      await standby.stop();
      await active.stop();
    }
  });
};

describe(
  'stale consumer names (production)',
  { skip: await skipUnless('postgres', 'redis') },
  staleCase(productionPorts),
);
describe('stale consumer names (local)', staleCase(localPorts));
