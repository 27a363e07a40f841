// A second process on a local-mode SQLite file, for tests of what several processes share.
// Usage (Node with tsx, or Deno): sqlite-child.ts <command> <file> [args...]; prints JSON lines.
import { openLocalPorts } from '../../src/adapters/sqlite/local-ports.ts';
import { uuidv7 } from '../../src/core/ids.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { drainOutbox } from '../../src/relay/drain-outbox.ts';

const [command, file, ...args] = process.argv.slice(2);
if (!command || !file) throw new Error('usage: sqlite-child.ts <command> <file> [args...]');
const print = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};
const local = await openLocalPorts({ file, logger: silentLogger });
const { store, bus } = local;

const errorName = async (attempt: () => Promise<unknown>): Promise<string> => {
  try {
    await attempt();
    return 'none';
  } catch (error) {
    return (error as Error).name;
  }
};

switch (command) {
  case 'migrate':
    print(await store.migrate());
    break;
  case 'add': {
    const [stream = 'identity', count = '1'] = args;
    const outcomes = await bus.addBatch(
      Array.from({ length: Number(count) }, (_, i) => ({
        stream,
        fields: { n: String(i + 1), from: 'child' },
      })),
    );
    print(outcomes.map((o) => ('id' in o ? o.id : o.error.message)));
    break;
  }
  case 'insert': {
    const events = Array.from({ length: Number(args[0] ?? 1) }, (_, i) => ({
      eventId: uuidv7(),
      topic: 'identity',
      eventType: 'user.created',
      aggregateType: 'user',
      aggregateId: `child-${i}`,
      payload: { i },
    }));
    await store.withTransaction((tx) => tx.outbox.insert(events));
    print(events.map((e) => e.eventId));
    break;
  }
  case 'hold-drain': {
    const result = await drainOutbox(store.outbox, { limit: 1000 }, async (rows) => {
      print({ draining: rows.length });
      await new Promise((resolve) => setTimeout(resolve, Number(args[0] ?? 1000)));
      return { retry: [] };
    });
    print(result);
    break;
  }
  case 'smoke': {
    // What the other driver must agree on: entries, groups and rows written by another process,
    // and the same error classes.
    const entries = await bus.range('identity');
    await bus.createGroup('identity', 'g');
    const reads = await bus.readGroup({ group: 'g', consumer: 'c', streams: ['identity'], count: 100 });
    const added = await bus.add('identity', { n: 'from-child' });
    const id = uuidv7();
    await store.withTransaction(async (tx) => {
      await tx.users.insert({ id, email: `${id}@example.com`, displayName: 'Child' });
      await tx.ledger.claim([
        { eventId: id, consumerGroup: 'g', eventType: 'user.created', streamId: added, result: 'applied' },
      ]);
    });
    print({
      runtime: typeof (globalThis as { Deno?: unknown }).Deno === 'object' ? 'deno' : 'node',
      entries: entries.map((e) => e.fields.n),
      delivered: reads[0]?.entries.length ?? 0,
      groups: await bus.groups('identity'),
      added,
      duplicateEmail: await errorName(() =>
        store.withTransaction((tx) =>
          tx.users.insert({ id: uuidv7(), email: `${id.toUpperCase()}@EXAMPLE.com`, displayName: 'x' }),
        ),
      ),
      badResult: await errorName(() =>
        store.withTransaction((tx) =>
          tx.query(
            'insert into event_ledger (event_id, consumer_group, event_type, stream_id, result) values ($1, $2, $3, $4, $5)',
            [uuidv7(), 'g', 't.x', '1-0', 'maybe'],
          ),
        ),
      ),
    });
    break;
  }
  default:
    throw new Error(`unknown command ${command}`);
}
await local.close();
