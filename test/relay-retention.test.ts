// Retention that warns before it drops anything, in both modes: trimming runs on a timer (a burst is
// trimmed without new events), --stream-max-age spares what a group has not acknowledged, a hard limit
// is announced (health degraded, fill ratio >= 0.8, naming the group) before it trims, then every
// entry it trims is counted per group and logged; a group with a backlog and no live consumer is dead.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { uuidv7 } from '../src/core/ids.ts';
import type { Bus } from '../src/ports/bus.ts';
import type { NewOutboxEvent } from '../src/ports/outbox.ts';
import type { RelayOptions } from '../src/relay/relay.ts';
import { eventually } from './helpers/eventually.ts';
import { jsonMetrics, readStream, startTestRelay, type TestRelay } from './helpers/relay.ts';
import { skipUnless } from './helpers/services.ts';
import { localPorts, type ModePorts, productionPorts } from './helpers/two-modes.ts';

const S = 'identity';

const events = (count: number): NewOutboxEvent[] =>
  Array.from({ length: count }, (_, i) => ({
    eventId: uuidv7(),
    topic: S,
    eventType: 'user.updated',
    aggregateType: 'user',
    aggregateId: `a${i % 7}`,
    payload: { n: i },
  }));

type Health = {
  status: string;
  checks: Record<string, { status: string; reason?: string } & Record<string, unknown>>;
};

/** The value of the Prometheus series `name` whose labels include all of `labels`; undefined when absent. */
const series = (text: string, name: string, labels: Record<string, string>): number | undefined => {
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const has = Object.entries(labels).every(([k, v]) => (match[2] ?? '').includes(`${k}="${v}"`));
    if (has) return Number(match[3]);
  }
  return undefined;
};

const modes: Array<[string, () => Promise<ModePorts>, false | string]> = [
  ['production', productionPorts, await skipUnless('postgres', 'redis')],
  ['local', localPorts, false],
];

for (const [mode, open, skip] of modes) {
  describe(`relay retention (${mode})`, { skip }, () => {
    let ports: ModePorts;
    let bus: Bus;
    let running: TestRelay | undefined;
    let published = 0;

    afterEach(async () => {
      await running?.relay.stop();
      running = undefined;
      await ports.cleanup();
    });

    const setup = async (options: Partial<RelayOptions>): Promise<TestRelay> => {
      ports = await open();
      bus = await ports.openBus();
      published = 0;
      running = await startTestRelay(
        { store: ports.store, bus: ports.bus },
        { batchSize: 50, pollIntervalMs: 20, trimIntervalMs: 50, streamHardMax: 0, ...options },
      );
      return running;
    };
    const relay = () => running?.relay ?? assert.fail('no relay');
    const prometheus = async () => (await relay().app.request('/metrics/prometheus')).text();
    const health = async () => (await (await relay().app.request('/health/detailed')).json()) as Health;

    const publish = async (count: number): Promise<void> => {
      await ports.store.withTransaction((tx) => tx.outbox.insert(events(count)));
      published += count;
      await eventually(async () => (await jsonMetrics(relay())).publish_success_total === published, 15_000, {
        message: `${published} events published`,
      });
    };
    /** Reads up to `count` new entries for `group`, acknowledging the first `ack` of them. */
    const consume = async (group: string, count: number, ack = count): Promise<string[]> => {
      const read = await bus.readGroup({ group, consumer: `${group}-1`, streams: [S], count });
      const ids = (read[0]?.entries ?? []).map((e) => e.id);
      if (ack > 0) await bus.ack(S, group, ids.slice(0, ack));
      return ids;
    };

    it('trims a burst down to --stream-maxlen on its timer once it is acknowledged, without new events', async () => {
      await setup({ streamMaxLen: 100 });
      await bus.createGroup(S, 'reader', { startId: '0' });
      await publish(400);
      assert.equal(await bus.len(S), 400, 'nothing is trimmed while the group still owes it');
      while ((await consume('reader', 500)).length > 0) {}
      // No event is published from here on: only the timer can trim.
      await eventually(async () => (await bus.len(S)) <= 100, 10_000, { message: 'stream back at the cap' });
      assert.equal(series(await prometheus(), 'stream_trimmed_unconsumed_total', { group: 'reader' }), 0);
    });

    it('trims entries older than --stream-max-age, sparing what a group has not acknowledged', async () => {
      await setup({ streamMaxLen: 0, streamMaxAge: 300 });
      await bus.createGroup(S, 'fast', { startId: '0' });
      await bus.createGroup(S, 'slow', { startId: '0' });
      await publish(20);
      const all = (await readStream(bus, S)).map((e) => e.id);
      await consume('fast', 100);
      const slowRead = await consume('slow', 10, 4); // 4 acknowledged, 6 pending, 10 not delivered
      assert.equal(slowRead.length, 10);
      await eventually(async () => (await bus.len(S)) === 16, 10_000, {
        message: 'the 4 acknowledged entries aged out',
      });
      // A sweep that ran once every entry was older than the limit still kept what slow owes.
      const newest = Number((all[all.length - 1] ?? '0-0').split('-')[0]);
      await eventually(async () => {
        const measured = (await health()).checks.retention?.measured_at;
        return typeof measured === 'string' && Date.parse(measured) > newest + 300;
      });
      assert.deepEqual(
        (await readStream(bus, S)).map((e) => e.id),
        all.slice(4),
      );
      const pending = await bus.readGroup({
        group: 'slow',
        consumer: 'slow-1',
        streams: [S],
        count: 10,
        history: true,
      });
      assert.deepEqual(
        pending[0]?.entries.map((e) => e.id),
        slowRead.slice(4),
        'pending entries stay readable',
      );

      await bus.ack(S, 'slow', slowRead);
      await consume('slow', 100);
      await eventually(async () => (await bus.len(S)) === 0, 10_000, {
        message: 'everything aged out once acknowledged',
      });
      assert.equal(series(await prometheus(), 'stream_trimmed_unconsumed_total', { group: 'slow' }), 0);
    });

    it('warns (health degraded, fill ratio >= 0.8, naming the group) before the hard cap trims, then counts and logs it per group', async () => {
      await setup({ streamMaxLen: 50, streamHardMax: 200 });
      await bus.createGroup(S, 'stuck', { startId: '0' });
      await bus.createGroup(S, 'fine', { startId: '0' });
      await publish(170);
      while ((await consume('fine', 500)).length > 0) {}

      // The sweep after fine caught up names the group that still holds the stream back.
      const heldByStuck =
        /stream identity is at 85% of --stream-hard-max \(170 of 200 entries\), held back by consumer group stuck/;
      await eventually(
        async () => heldByStuck.test((await health()).checks.retention?.reason ?? ''),
        10_000,
        {
          message: 'retention degraded at 85% of the hard cap, naming stuck',
        },
      );
      const before = await health();
      assert.equal(before.status, 'degraded');
      assert.match(
        before.checks.retention?.reason ?? '',
        /stream identity is at 85% of --stream-hard-max \(170 of 200 entries\), held back by consumer group stuck/,
      );
      const text = await prometheus();
      assert.equal(
        series(text, 'stream_hard_limit_fill_ratio', { stream: S, limit: 'entries', group: 'stuck' }),
        0.85,
      );
      // Nothing was lost yet: the warning came first.
      assert.equal(await bus.len(S), 170);
      assert.equal(series(text, 'stream_trimmed_unconsumed_total', { stream: S, group: 'stuck' }), 0);
      assert.ok(!running?.logs().some((line) => line.includes('hit its hard cap')));

      await publish(60);
      while ((await consume('fine', 500)).length > 0) {}
      await eventually(async () => (await bus.len(S)) <= 200, 10_000);
      const length = await bus.len(S);
      const after = await prometheus();
      assert.equal(
        series(after, 'stream_trimmed_unconsumed_total', { stream: S, group: 'stuck' }),
        230 - length,
      );
      assert.equal(
        series(after, 'stream_trimmed_unconsumed_total', { stream: S, group: 'fine' }),
        0,
        'fine had acknowledged them',
      );
      const loud = running?.logs().filter((line) => line.includes('hit its hard cap of 200 entries')) ?? [];
      assert.ok(loud.length > 0);
      assert.match(loud[0] ?? '', /"level":"error"/);
      assert.match(loud[0] ?? '', /consumer group stuck had not acknowledged/);
      assert.ok(!loud.some((line) => line.includes('group fine')));
    });

    it('keeps a stream near --stream-max-bytes once acknowledged, and --stream-hard-max-bytes trims counted per group', async () => {
      await setup({ streamMaxLen: 0, streamMaxBytes: 20_000, streamHardMaxBytes: 60_000 });
      await bus.createGroup(S, 'reader', { startId: '0' });
      await publish(150); // under the hard byte cap in both modes
      while ((await consume('reader', 500)).length > 0) {}
      await eventually(async () => (await bus.streamBytes(S)) <= 20_000 * 1.2, 10_000, {
        message: 'stream back near the soft byte limit',
      });
      assert.ok((await bus.len(S)) > 0);
      assert.equal(series(await prometheus(), 'stream_trimmed_unconsumed_total', { group: 'reader' }), 0);

      await bus.createGroup(S, 'stuck', { startId: '$' });
      await publish(600);
      while ((await consume('reader', 500)).length > 0) {}
      await eventually(async () => (await bus.streamBytes(S)) <= 60_000, 10_000, {
        message: 'hard byte cap holds',
      });
      const trimmed =
        series(await prometheus(), 'stream_trimmed_unconsumed_total', { stream: S, group: 'stuck' }) ?? 0;
      assert.ok(trimmed > 0, 'the hard byte cap trimmed entries stuck owed');
      const length = await bus.len(S);
      const kept = (await readStream(bus, S)).length;
      assert.equal(kept, length);
      assert.ok(
        running
          ?.logs()
          .some((line) =>
            /hit its hard cap of 60000 bytes.*consumer group stuck had not acknowledged/.test(line),
          ),
      );
    });

    it('reports a group with a backlog and no live consumer for --dead-group-after, and clears it once caught up', async () => {
      await setup({ streamMaxLen: 100, deadGroupAfterMs: 200 });
      await bus.createGroup(S, 'gone', { startId: '0' });
      await bus.createGroup(S, 'idle', { startId: '0' });
      await publish(10);
      await bus.heartbeat('gone', 'gone-1', Date.now());
      await consume('gone', 3, 0);
      while ((await consume('idle', 100)).length > 0) {} // caught up: nothing owed, never dead

      await eventually(
        async () =>
          /consumer group gone has a backlog on identity and no live consumer/.test(
            (await health()).checks.retention?.reason ?? '',
          ),
        10_000,
        { message: 'dead group reported' },
      );
      const checks = (await health()).checks;
      assert.equal(checks.retention?.status, 'degraded');
      assert.doesNotMatch(checks.retention?.reason ?? '', /idle/);
      const text = await prometheus();
      assert.equal(series(text, 'consumer_group_dead', { group: 'gone' }), 1);
      assert.equal(series(text, 'consumer_group_dead', { group: 'idle' }), 0);

      const owed = await bus.readGroup({
        group: 'gone',
        consumer: 'gone-1',
        streams: [S],
        count: 10,
        history: true,
      });
      await bus.ack(
        S,
        'gone',
        (owed[0]?.entries ?? []).map((e) => e.id),
      );
      while ((await consume('gone', 100)).length > 0) {}
      await eventually(async () => (await health()).checks.retention?.status === 'healthy', 10_000);
      assert.equal(series(await prometheus(), 'consumer_group_dead', { group: 'gone' }), 0);
    });
  });
}
