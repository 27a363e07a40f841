// A replay never undoes an operator's dead-letter decision, in both modes: entries dead-lettered for
// the group (open or resolved) are held back (acknowledged, not applied, not dead-lettered again)
// unless --include-dead-letters; --dry-run says how many and why; a reprocessed copy still applies.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { describeReplay, parseReplayFrom, runReplay } from '../src/consumer/replay.ts';
import { systemClock } from '../src/core/clock.ts';
import { prepareDlqCommand } from '../src/dlq/commands.ts';
import { contextStyle, memoryOutput } from '../src/dlq/io.ts';
import { filePlace } from '../src/dlq/model/place.ts';
import { userEvent } from './helpers/consumer-events.ts';
import { eventually } from './helpers/eventually.ts';
import { skipUnless } from './helpers/services.ts';
import { GROUP, localPorts, type ModePorts, productionPorts, runConsumer } from './helpers/two-modes.ts';

const replayCase = (open: () => Promise<ModePorts>) => () => {
  let ports: ModePorts;
  before(async () => {
    ports = await open();
  });
  after(() => ports.cleanup());

  const dlq = async (command: 'resolve' | 'reprocess', id: string): Promise<void> => {
    const output = memoryOutput();
    const code = await prepareDlqCommand(command, { stream: 'identity.dlq', id })({
      bus: ports.bus,
      place: filePlace('test'),
      store: ports.store,
      parking: ports.store.parking,
      io: output.io,
      style: contextStyle(output.io),
      clock: systemClock,
      actor: 'test',
    });
    assert.equal(code, 0, output.stdout() + output.stderr());
  };
  const replay = (options: { dryRun: boolean; includeDeadLetters?: boolean }) =>
    runReplay(
      { bus: ports.bus, ledger: ports.store.ledger },
      { group: GROUP, topic: 'identity', from: parseReplayFrom('start'), ...options },
    );

  it('holds back open and resolved dead letters of the group, and says so in a dry run', async () => {
    const consumer = await runConsumer(ports, { maxDeliveries: 1 });
    try {
      const broken = { payload: { broken: true } };
      for (const event of [userEvent(), userEvent(broken), userEvent(broken), userEvent()])
        await ports.bus.add('identity', event.fields);
      await eventually(async () => (await ports.bus.len('identity.dlq')) === 2);
      await eventually(async () => (await consumer.metrics()).events_processed_success === 2);
      const [first] = await ports.bus.range('identity.dlq', { count: 1 });
      await dlq('resolve', first?.id as string);

      const dry = await replay({ dryRun: true });
      assert.deepEqual([dry.redeliver, dry.alreadyApplied, dry.deadLetters], [4, 2, { open: 1, closed: 1 }]);
      assert.match(
        describeReplay(dry).join('\n'),
        /2 of them were dead-lettered for markdown-lint-consumer \(1 open, 1 closed\): they would be held back \(acknowledged, not applied, not dead-lettered again\); --include-dead-letters delivers them/,
      );
      const failuresBefore = (await consumer.metrics()).events_processed_failure;

      await replay({ dryRun: false });
      await eventually(async () => (await consumer.metrics()).events_duplicates === 4);
      const metrics = await consumer.metrics();
      assert.deepEqual(
        [metrics.events_processed_success, metrics.events_processed_failure],
        [2, failuresBefore],
      );
      assert.equal(await ports.bus.len('identity.dlq'), 1);
      assert.equal(consumer.logs().filter((line) => line.includes('to DLQ')).length, 2);

      // The open one, reprocessed: its copy has a new stream id and is not held (it fails again here).
      const [open] = await ports.bus.range('identity.dlq', { count: 1 });
      await dlq('reprocess', open?.id as string);
      await eventually(async () => (await ports.bus.len('identity.dlq')) === 1);
      await eventually(async () => consumer.logs().filter((line) => line.includes('to DLQ')).length === 3);

      const included = await replay({ dryRun: false, includeDeadLetters: true });
      assert.equal(included.holdsDeadLetters, false);
      await eventually(async () => consumer.logs().filter((line) => line.includes('to DLQ')).length >= 5);
    } finally {
      await consumer.stop();
    }
  });
};

describe(
  'replay over dead letters (production)',
  { skip: await skipUnless('postgres', 'redis') },
  replayCase(productionPorts),
);
describe('replay over dead letters (local)', replayCase(localPorts));
