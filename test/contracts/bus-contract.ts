// The Bus contract: every behaviour of src/ports/bus.ts that the relay, the consumer and the DLQ tool
// rely on, run unchanged against Redis and the SQLite stream shim. Where they differ, the shim is wrong.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { NoGroupError, PermanentError } from '../../src/core/errors.ts';
import { compareStreamIds, isStreamId, streamIdTime } from '../../src/core/ids.ts';
import type { Bus, StreamEntry } from '../../src/ports/bus.ts';
import { eventually } from '../helpers/eventually.ts';

export type BusFixture = {
  readonly bus: Bus;
  /** Another client on the same streams, as a second process (or a restarted one) would be. */
  peer(): Promise<Bus>;
  /** Closes what the fixture opened (peers included) and removes its data. */
  cleanup(): Promise<void>;
};

export type BusFactory = () => Promise<BusFixture>;

const S = 'identity';
const G = 'markdown-lint-consumer';

const ids = (entries: readonly StreamEntry[]): string[] => entries.map((e) => e.id);
const values = (entries: readonly StreamEntry[]): string[] => entries.map((e) => e.fields.n ?? '?');

export const describeBusContract = (
  name: string,
  factory: BusFactory,
  options: { skip?: string | false } = {},
): void => {
  describe(`Bus contract: ${name}`, { skip: options.skip ?? false }, () => {
    let fixture: BusFixture;
    let bus: Bus;
    const fixtures: BusFixture[] = [];

    beforeEach(async () => {
      fixture = await factory();
      fixtures.push(fixture);
      bus = fixture.bus;
    });

    afterEach(async () => {
      await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
    });

    /** Adds entries `n=1..count` to `stream` and returns their ids. */
    const fill = async (count: number, stream = S): Promise<string[]> => {
      const outcomes = await bus.addBatch(
        Array.from({ length: count }, (_, i) => ({ stream, fields: { n: String(i + 1) } })),
      );
      return outcomes.map((o) => {
        assert.ok('id' in o, 'every entry is added');
        return o.id;
      });
    };

    const readNew = (consumer: string, count = 100, streams = [S]) =>
      bus.readGroup({ group: G, consumer, streams, count });

    const readHistory = (client: Bus, consumer: string, count = 100) =>
      client.readGroup({ group: G, consumer, streams: [S], count, history: true });

    describe('adding entries', () => {
      it('gives <ms>-<seq> ids near the current time and keeps the fields verbatim', async () => {
        const before = Date.now();
        const fields = { event_id: 'e1', payload: '{"a":[1,2]}', empty: '', text: 'naïve ✓ 你好' };
        const id = await bus.add(S, fields);
        assert.ok(isStreamId(id), id);
        assert.ok(streamIdTime(id) >= before - 1000 && streamIdTime(id) <= Date.now() + 1000);
        assert.deepEqual(await bus.range(S), [{ id, fields }]);
      });

      it('gives strictly increasing ids, also many within one millisecond', async () => {
        const added = await fill(200);
        for (let i = 1; i < added.length; i++) {
          assert.equal(compareStreamIds(added[i - 1] as string, added[i] as string), -1);
        }
        assert.deepEqual(ids(await bus.range(S)), added);
      });

      it('never goes back after the newest entry is deleted', async () => {
        const [, last] = await fill(2);
        assert.equal(await bus.del(S, [last as string]), 1);
        const next = await bus.add(S, { n: '3' });
        assert.equal(compareStreamIds(last as string, next), -1);
      });

      it('never goes back after the stream is trimmed empty', async () => {
        const added = await fill(3);
        assert.equal(await bus.trim(S, { maxLen: 0 }), 3);
        assert.equal(await bus.len(S), 0);
        const next = await bus.add(S, { n: '4' });
        assert.equal(compareStreamIds(added[2] as string, next), -1);
      });

      it('refuses an entry without fields', async () => {
        await assert.rejects(bus.add(S, {}));
        assert.equal(await bus.len(S), 0);
      });

      it('adds a batch in order with an outcome per entry, one bad entry failing alone', async () => {
        const outcomes = await bus.addBatch([
          { stream: S, fields: { n: '1' } },
          { stream: 'other', fields: { n: 'x' } },
          { stream: S, fields: {} },
          { stream: S, fields: { n: '2' } },
        ]);
        assert.equal(outcomes.length, 4);
        assert.ok('id' in (outcomes[0] as object) && 'id' in (outcomes[1] as object));
        assert.ok('error' in (outcomes[2] as object));
        assert.ok((outcomes[2] as { error: Error }).error instanceof PermanentError);
        assert.deepEqual(values(await bus.range(S)), ['1', '2']);
        assert.deepEqual(values(await bus.range('other')), ['x']);
        assert.deepEqual(await bus.addBatch([]), []);
      });
    });

    describe('reading ranges', () => {
      it('counts entries, 0 for a stream that does not exist', async () => {
        assert.equal(await bus.len('missing'), 0);
        await fill(4);
        assert.equal(await bus.len(S), 4);
      });

      it('returns entries oldest first, at most count', async () => {
        const added = await fill(5);
        assert.deepEqual(ids(await bus.range(S)), added);
        assert.deepEqual(ids(await bus.range(S, { count: 2 })), added.slice(0, 2));
        assert.deepEqual(await bus.range('missing'), []);
      });

      it('honours inclusive and ( exclusive bounds', async () => {
        const [a, b, c, d, e] = (await fill(5)) as [string, string, string, string, string];
        assert.deepEqual(ids(await bus.range(S, { start: b, end: d })), [b, c, d]);
        assert.deepEqual(ids(await bus.range(S, { start: `(${b}`, end: `(${d}` })), [c]);
        assert.deepEqual(ids(await bus.range(S, { start: `(${a}`, count: 2 })), [b, c]);
        assert.deepEqual(ids(await bus.range(S, { end: `(${b}` })), [a]);
        assert.deepEqual(ids(await bus.range(S, { start: `(${e}` })), []);
        assert.deepEqual(ids(await bus.range(S, { start: d, end: b })), []);
      });

      it('reads newest first in reverse, the bounds keeping their meaning', async () => {
        const [a, b, c, d] = (await fill(4)) as [string, string, string, string];
        assert.deepEqual(ids(await bus.range(S, { reverse: true })), [d, c, b, a]);
        assert.deepEqual(ids(await bus.range(S, { reverse: true, count: 1 })), [d]);
        assert.deepEqual(ids(await bus.range(S, { reverse: true, start: b, end: `(${d}` })), [c, b]);
      });

      it('accepts millisecond-only bounds', async () => {
        const added = await fill(3);
        const first = added[0] as string;
        const ms = String(streamIdTime(first));
        const sameMs = added.filter((id) => String(streamIdTime(id)) === ms);
        assert.deepEqual(ids(await bus.range(S, { start: ms, end: ms })), sameMs);
        const later = added.filter((id) => streamIdTime(id) > Number(ms));
        assert.deepEqual(ids(await bus.range(S, { start: String(Number(ms) + 1) })), later);
      });
    });

    describe('deleting and trimming', () => {
      it('deletes the entries that exist and says how many', async () => {
        const [a, b, c] = (await fill(3)) as [string, string, string];
        assert.equal(await bus.del(S, [a, c, '1-1', a]), 2);
        assert.deepEqual(ids(await bus.range(S)), [b]);
        assert.equal(await bus.del('missing', [a]), 0);
        assert.equal(await bus.del(S, []), 0);
      });

      it('trims by MAXLEN to the newest entries', async () => {
        const added = await fill(6);
        assert.equal(await bus.trim(S, { maxLen: 10 }), 0);
        assert.equal(await bus.trim(S, { maxLen: 2 }), 4);
        assert.deepEqual(ids(await bus.range(S)), added.slice(4));
        assert.equal(await bus.trim('missing', { maxLen: 0 }), 0);
      });

      it('trims by MINID everything strictly older', async () => {
        const added = await fill(5);
        assert.equal(await bus.trim(S, { minId: added[2] as string }), 2);
        assert.deepEqual(ids(await bus.range(S)), added.slice(2));
        assert.equal(await bus.trim(S, { minId: added[2] as string }), 0);
        assert.equal(await bus.trim('missing', { minId: added[2] as string }), 0);
      });

      it('leaves pending entries pending when trimming', async () => {
        await bus.createGroup(S, G);
        await fill(3);
        await readNew('c1', 2);
        assert.equal(await bus.trim(S, { maxLen: 0 }), 3);
        assert.equal((await bus.pending(S, G)).count, 2);
      });
    });

    describe('consumer groups', () => {
      it('creates the group and the stream with it (MKSTREAM)', async () => {
        assert.deepEqual(await bus.createGroup(S, G), { created: true });
        assert.equal(await bus.len(S), 0);
        assert.deepEqual(await bus.groups(S), [
          { name: G, consumers: 0, pending: 0, lastDeliveredId: '0-0', entriesRead: null, lag: 0 },
        ]);
        assert.deepEqual(await bus.streamsEndingWith(S), [S]);
      });

      it('reports an existing group as created: false and leaves it as it was', async () => {
        await fill(2);
        await bus.createGroup(S, G);
        const [, second] = (await readNew('c1', 2)).flatMap((r) => ids(r.entries));
        assert.deepEqual(await bus.createGroup(S, G, { startId: '0' }), { created: false });
        const [info] = await bus.groups(S);
        assert.equal(info?.lastDeliveredId, second);
        assert.equal(info?.pending, 2);
      });

      it('starts a group at 0 (everything) or at $ (only what comes next)', async () => {
        await fill(2);
        await bus.createGroup(S, G);
        await bus.createGroup(S, 'late', { startId: '$' });
        const late = await bus.readGroup({ group: 'late', consumer: 'c', streams: [S], count: 10 });
        assert.deepEqual(late, []);
        const id = await bus.add(S, { n: '3' });
        const again = await bus.readGroup({ group: 'late', consumer: 'c', streams: [S], count: 10 });
        assert.deepEqual(
          again.flatMap((r) => ids(r.entries)),
          [id],
        );
        assert.deepEqual(values((await readNew('c'))[0]?.entries ?? []), ['1', '2', '3']);
      });

      it('lists groups by name with their counters, none for a missing stream', async () => {
        assert.deepEqual(await bus.groups('missing'), []);
        await fill(3);
        await bus.createGroup(S, 'b-group');
        await bus.createGroup(S, 'a-group');
        const infos = await bus.groups(S);
        assert.deepEqual(
          infos.map((g) => g.name),
          ['a-group', 'b-group'],
        );
        assert.deepEqual(infos[0], {
          name: 'a-group',
          consumers: 0,
          pending: 0,
          lastDeliveredId: '0-0',
          entriesRead: null,
          lag: 3,
        });
      });

      it('moves a group back with SETID so entries are delivered again', async () => {
        const [a, b, c] = (await fill(3)) as [string, string, string];
        await bus.createGroup(S, G);
        await readNew('c1', 3);
        await bus.setGroupId(S, G, a);
        const [info] = await bus.groups(S);
        assert.equal(info?.lastDeliveredId, a);
        assert.equal(info?.entriesRead, null);
        const again = await readNew('c2', 10);
        assert.deepEqual(ids(again[0]?.entries ?? []), [b, c]);
        const pending = await bus.pendingRange(S, G, { count: 10 });
        assert.deepEqual(
          pending.map((p) => [p.id, p.consumer, p.deliveries]),
          [
            [a, 'c1', 1],
            [b, 'c2', 1],
            [c, 'c2', 1],
          ],
        );
      });

      it('destroys a group with its pending entries; a missing group is false', async () => {
        await fill(2);
        await bus.createGroup(S, G);
        await readNew('c1');
        assert.equal(await bus.destroyGroup(S, G), true);
        assert.deepEqual(await bus.groups(S), []);
        assert.equal(await bus.destroyGroup(S, G), false);
        await assert.rejects(bus.pending(S, G), NoGroupError);
        assert.equal(await bus.len(S), 2);
      });

      it('fails with NoGroupError where the group or the stream is missing', async () => {
        await bus.add(S, { n: '1' });
        await assert.rejects(readNew('c'), NoGroupError);
        await assert.rejects(readNew('c', 1, ['missing']), NoGroupError);
        await assert.rejects(bus.setGroupId(S, G, '0'), NoGroupError);
        await assert.rejects(bus.setGroupId('missing', G, '0'), NoGroupError);
        await assert.rejects(bus.destroyGroup('missing', G), NoGroupError);
        await assert.rejects(bus.pending(S, G), NoGroupError);
        await assert.rejects(bus.pendingRange(S, G, { count: 1 }), NoGroupError);
        await assert.rejects(bus.autoClaim(S, G, { consumer: 'c', minIdleMs: 0, count: 1 }), NoGroupError);
        assert.equal(await bus.ack(S, G, ['1-0']), 0);
        assert.equal(await bus.ack('missing', G, ['1-0']), 0);
      });
    });

    describe('reading through a group', () => {
      it('delivers new entries in order, at most count, and makes them pending', async () => {
        const added = await fill(5);
        await bus.createGroup(S, G);
        const first = await readNew('c1', 3);
        assert.deepEqual(
          first.map((r) => r.stream),
          [S],
        );
        assert.deepEqual(ids(first[0]?.entries ?? []), added.slice(0, 3));
        assert.deepEqual(values(first[0]?.entries ?? []), ['1', '2', '3']);
        const second = await readNew('c2', 10);
        assert.deepEqual(ids(second[0]?.entries ?? []), added.slice(3));
        assert.deepEqual(await readNew('c1'), []);
        const [info] = await bus.groups(S);
        assert.equal(info?.lastDeliveredId, added[4]);
        assert.equal(info?.pending, 5);
        assert.equal(info?.consumers, 2);
      });

      it('reads several streams at once, leaving out those with nothing new', async () => {
        await bus.createGroup(S, G);
        await bus.createGroup('second', G);
        await bus.createGroup('third', G);
        await fill(2);
        await fill(1, 'third');
        const reads = await readNew('c', 10, [S, 'second', 'third']);
        assert.deepEqual(
          reads.map((r) => [r.stream, values(r.entries)]),
          [
            [S, ['1', '2']],
            ['third', ['1']],
          ],
        );
      });

      it('creates a consumer when it is delivered something or reads its history', async () => {
        await bus.createGroup(S, G);
        await readNew('idle');
        assert.equal((await bus.groups(S))[0]?.consumers, 0);
        await readHistory(bus, 'recovering');
        assert.equal((await bus.groups(S))[0]?.consumers, 1);
        await fill(1);
        await readNew('worker');
        assert.equal((await bus.groups(S))[0]?.consumers, 2);
      });

      it('re-reads only its own pending entries from the start in a history read', async () => {
        const [a, b, c] = (await fill(3)) as [string, string, string];
        await bus.createGroup(S, G);
        await readNew('c1', 2);
        await readNew('c2', 1);
        const history = await readHistory(bus, 'c1');
        assert.deepEqual(
          history.map((r) => r.stream),
          [S],
        );
        assert.deepEqual(ids(history[0]?.entries ?? []), [a, b]);
        assert.deepEqual(values(history[0]?.entries ?? []), ['1', '2']);
        const pending = await bus.pendingRange(S, G, { count: 10, consumer: 'c1' });
        assert.deepEqual(
          pending.map((p) => p.deliveries),
          [2, 2],
        );
        await bus.ack(S, G, [a]);
        assert.deepEqual(ids((await readHistory(bus, 'c1'))[0]?.entries ?? []), [b]);
        assert.deepEqual(ids((await readHistory(bus, 'c2', 1))[0]?.entries ?? []), [c]);
        assert.deepEqual((await readHistory(bus, 'nobody'))[0]?.entries, []);
      });

      it('finds its pending entries again after a restart (another client, same consumer name)', async () => {
        const added = await fill(3);
        await bus.createGroup(S, G);
        await readNew('consumer-1', 3);
        await bus.close();
        const restarted = await fixture.peer();
        const history = await readHistory(restarted, 'consumer-1');
        assert.deepEqual(ids(history[0]?.entries ?? []), added);
        assert.deepEqual(
          await restarted.readGroup({ group: G, consumer: 'consumer-1', streams: [S], count: 10 }),
          [],
        );
      });

      it('leaves entries deleted while pending out of history reads; they stay pending', async () => {
        const [a, b] = (await fill(2)) as [string, string];
        await bus.createGroup(S, G);
        await readNew('c1');
        await bus.del(S, [a]);
        assert.deepEqual(ids((await readHistory(bus, 'c1'))[0]?.entries ?? []), [b]);
        assert.deepEqual(
          (await bus.pendingRange(S, G, { count: 10 })).map((p) => p.id),
          [a, b],
        );
      });
    });

    describe('acknowledging and pending lists', () => {
      it('acknowledges pending entries once each, ignoring unknown ids', async () => {
        const [a, b, c] = (await fill(3)) as [string, string, string];
        await bus.createGroup(S, G);
        await readNew('c1', 2);
        assert.equal(await bus.ack(S, G, [a, a, c, '1-1']), 1);
        assert.equal(await bus.ack(S, G, [a]), 0);
        assert.equal(await bus.ack(S, G, []), 0);
        assert.deepEqual(
          (await bus.pendingRange(S, G, { count: 10 })).map((p) => p.id),
          [b],
        );
      });

      it('summarises the pending list per consumer', async () => {
        await bus.createGroup(S, G);
        assert.deepEqual(await bus.pending(S, G), { count: 0, minId: null, maxId: null, consumers: {} });
        const added = await fill(4);
        await readNew('c1', 1);
        await readNew('c2', 3);
        assert.deepEqual(await bus.pending(S, G), {
          count: 4,
          minId: added[0],
          maxId: added[3],
          consumers: { c1: 1, c2: 3 },
        });
      });

      it('lists pending entries in id order with owner, deliveries and idle time', async () => {
        const added = await fill(4);
        await bus.createGroup(S, G);
        await readNew('c1', 1);
        await readNew('c2', 3);
        const all = await bus.pendingRange(S, G, { count: 10 });
        assert.deepEqual(
          all.map((p) => [p.id, p.consumer, p.deliveries]),
          added.map((id, i) => [id, i === 0 ? 'c1' : 'c2', 1]),
        );
        for (const p of all) assert.ok(p.idleMs >= 0 && p.idleMs < 60_000);
        assert.deepEqual(
          (await bus.pendingRange(S, G, { count: 2 })).map((p) => p.id),
          added.slice(0, 2),
        );
        assert.deepEqual(
          (await bus.pendingRange(S, G, { count: 10, consumer: 'c1' })).map((p) => p.id),
          added.slice(0, 1),
        );
        assert.deepEqual(
          (await bus.pendingRange(S, G, { start: `(${added[1]}`, end: added[3], count: 10 })).map(
            (p) => p.id,
          ),
          added.slice(2),
        );
      });

      it('filters the pending list by idle time', async () => {
        await fill(2);
        await bus.createGroup(S, G);
        await readNew('c1');
        assert.deepEqual(await bus.pendingRange(S, G, { count: 10, minIdleMs: 60_000 }), []);
        const idle = await eventually(async () => {
          const found = await bus.pendingRange(S, G, { count: 10, minIdleMs: 25 });
          return found.length === 2 ? found : undefined;
        }, 5_000);
        assert.ok(idle);
        for (const p of idle) assert.ok(p.idleMs >= 25);
      });
    });

    describe('claiming', () => {
      it('hands idle entries to another consumer, counting the delivery', async () => {
        const added = await fill(3);
        await bus.createGroup(S, G);
        await readNew('dead', 3);
        const claimed = await bus.autoClaim(S, G, { consumer: 'alive', minIdleMs: 0, count: 10 });
        assert.equal(claimed.next, '0-0');
        assert.deepEqual(ids(claimed.entries), added);
        assert.deepEqual(values(claimed.entries), ['1', '2', '3']);
        assert.deepEqual(claimed.deleted, []);
        const pending = await bus.pendingRange(S, G, { count: 10 });
        assert.deepEqual(
          pending.map((p) => [p.consumer, p.deliveries]),
          added.map(() => ['alive', 2]),
        );
        assert.deepEqual(ids((await readHistory(bus, 'alive'))[0]?.entries ?? []), added);
        assert.deepEqual((await bus.pending(S, G)).consumers, { alive: 3 });
      });

      it('leaves entries that are not idle long enough', async () => {
        await fill(2);
        await bus.createGroup(S, G);
        await readNew('busy');
        const claimed = await bus.autoClaim(S, G, { consumer: 'other', minIdleMs: 60_000, count: 10 });
        assert.deepEqual(claimed.entries, []);
        assert.equal(claimed.next, '0-0');
        assert.deepEqual((await bus.pending(S, G)).consumers, { busy: 2 });
        assert.equal((await bus.groups(S))[0]?.consumers, 1);
      });

      it('walks the pending list with a cursor, count at a time', async () => {
        const added = await fill(5);
        await bus.createGroup(S, G);
        await readNew('dead');
        const first = await bus.autoClaim(S, G, { consumer: 'c', minIdleMs: 0, count: 2 });
        assert.deepEqual(ids(first.entries), added.slice(0, 2));
        assert.equal(first.next, added[2]);
        const second = await bus.autoClaim(S, G, {
          consumer: 'c',
          minIdleMs: 0,
          count: 2,
          start: first.next,
        });
        assert.deepEqual(ids(second.entries), added.slice(2, 4));
        assert.equal(second.next, added[4]);
        const third = await bus.autoClaim(S, G, {
          consumer: 'c',
          minIdleMs: 0,
          count: 2,
          start: second.next,
        });
        assert.deepEqual(ids(third.entries), added.slice(4));
        assert.equal(third.next, '0-0');
      });

      it('removes and reports pending entries whose entries were deleted', async () => {
        const [a, b, c] = (await fill(3)) as [string, string, string];
        await bus.createGroup(S, G);
        await readNew('dead');
        await bus.del(S, [b]);
        const claimed = await bus.autoClaim(S, G, { consumer: 'alive', minIdleMs: 0, count: 10 });
        assert.deepEqual(ids(claimed.entries), [a, c]);
        assert.deepEqual(claimed.deleted, [b]);
        assert.equal((await bus.pending(S, G)).count, 2);
      });

      it('counts deleted entries against count and resumes after them', async () => {
        const [a, b, c] = (await fill(3)) as [string, string, string];
        await bus.createGroup(S, G);
        await readNew('dead');
        await bus.del(S, [a]);
        const first = await bus.autoClaim(S, G, { consumer: 'alive', minIdleMs: 0, count: 1 });
        assert.deepEqual(first, { next: b, entries: [], deleted: [a] });
        const second = await bus.autoClaim(S, G, {
          consumer: 'alive',
          minIdleMs: 0,
          count: 5,
          start: first.next,
        });
        assert.deepEqual(ids(second.entries), [b, c]);
      });
    });

    describe('lag and entries-read', () => {
      it('follows reads and is untouched by acknowledgements', async () => {
        await fill(5);
        await bus.createGroup(S, G);
        let [info] = await bus.groups(S);
        assert.deepEqual([info?.entriesRead, info?.lag], [null, 5]);
        await readNew('c', 2);
        [info] = await bus.groups(S);
        assert.deepEqual([info?.entriesRead, info?.lag, info?.pending], [2, 3, 2]);
        const pending = await bus.pendingRange(S, G, { count: 10 });
        await bus.ack(
          S,
          G,
          pending.map((p) => p.id),
        );
        [info] = await bus.groups(S);
        assert.deepEqual([info?.entriesRead, info?.lag, info?.pending], [2, 3, 0]);
        await readNew('c');
        [info] = await bus.groups(S);
        assert.deepEqual([info?.entriesRead, info?.lag], [5, 0]);
        await fill(2);
        [info] = await bus.groups(S);
        assert.equal(info?.lag, 2);
      });

      it('keeps counting across trims, and is unknown across a deleted entry until read past it', async () => {
        const added = await fill(5);
        await bus.createGroup(S, G);
        await readNew('c', 2);
        await bus.trim(S, { minId: added[1] as string });
        assert.equal((await bus.groups(S))[0]?.lag, 3);
        await bus.del(S, [added[3] as string]);
        assert.equal((await bus.groups(S))[0]?.lag, null);
        await readNew('c');
        const [info] = await bus.groups(S);
        assert.deepEqual([info?.entriesRead, info?.lag], [5, 0]);
      });
    });

    describe('atomic writes', () => {
      it('applies adds, acks and deletes together and returns the added ids in order', async () => {
        const [a, b] = (await fill(2)) as [string, string];
        await bus.createGroup(S, G);
        await readNew('c');
        const result = await bus.exec([
          { op: 'add', stream: `${S}.dlq`, fields: { n: 'dead-1' } },
          { op: 'ack', stream: S, group: G, ids: [a] },
          { op: 'add', stream: `${S}.dlq`, fields: { n: 'dead-2' } },
          { op: 'del', stream: S, ids: [b] },
        ]);
        assert.equal(result.applied, true);
        assert.deepEqual(ids(await bus.range(`${S}.dlq`)), result.addedIds);
        assert.deepEqual(values(await bus.range(`${S}.dlq`)), ['dead-1', 'dead-2']);
        assert.deepEqual(
          (await bus.pendingRange(S, G, { count: 10 })).map((p) => p.id),
          [b],
        );
        assert.deepEqual(ids(await bus.range(S)), [a]);
      });

      it('applies nothing when the required entry is gone, so an entry is closed exactly once', async () => {
        const dlq = `${S}.dlq`;
        const dead = await bus.add(dlq, { n: 'dead' });
        const close = () =>
          bus.exec(
            [
              { op: 'add', stream: `${dlq}.audit`, fields: { action: 'resolved', dlq_id: dead } },
              { op: 'del', stream: dlq, ids: [dead] },
            ],
            { requireEntry: { stream: dlq, id: dead } },
          );
        const [first, second] = await Promise.all([close(), close()]);
        assert.deepEqual([first.applied, second.applied].sort(), [false, true]);
        assert.deepEqual((first.applied ? second : first).addedIds, []);
        assert.equal(await bus.len(`${dlq}.audit`), 1);
        assert.equal(await bus.len(dlq), 0);
        const none = await bus.exec([{ op: 'add', stream: 'x', fields: { n: '1' } }], {
          requireEntry: { stream: 'missing', id: dead },
        });
        assert.deepEqual(none, { applied: false, addedIds: [] });
        assert.equal(await bus.len('x'), 0);
      });

      it('is never seen half done by another client', async () => {
        const observer = await fixture.peer();
        let done = false;
        const seen: number[] = [];
        const watch = (async () => {
          while (!done) seen.push((await observer.range(S)).length);
        })();
        for (let i = 0; i < 30; i++) {
          await bus.exec([
            { op: 'add', stream: S, fields: { n: `${i}a` } },
            { op: 'add', stream: S, fields: { n: `${i}b` } },
          ]);
        }
        done = true;
        await watch;
        assert.equal(await bus.len(S), 60);
        assert.ok(seen.length > 0);
        assert.deepEqual(
          seen.filter((n) => n % 2 !== 0),
          [],
        );
      });
    });

    describe('blocking reads', () => {
      it('wakes up for an entry another client adds while it waits', async () => {
        await bus.createGroup(S, G);
        const writer = await fixture.peer();
        const read = bus.readGroup({ group: G, consumer: 'c', streams: [S], count: 10, blockMs: 10_000 });
        await delay(30);
        const id = await writer.add(S, { n: 'late' });
        const reads = await read;
        assert.deepEqual(ids(reads[0]?.entries ?? []), [id]);
      });

      it('returns what is there at once, and nothing after blockMs when nothing comes', async () => {
        await bus.createGroup(S, G);
        assert.deepEqual(await readNew('c'), []);
        const empty = await bus.readGroup({ group: G, consumer: 'c', streams: [S], count: 10, blockMs: 60 });
        assert.deepEqual(empty, []);
        await fill(1);
        const ready = await bus.readGroup({
          group: G,
          consumer: 'c',
          streams: [S],
          count: 10,
          blockMs: 10_000,
        });
        assert.deepEqual(values(ready[0]?.entries ?? []), ['1']);
      });

      it('ends a wait early when its signal aborts', { timeout: 5_000 }, async () => {
        await bus.createGroup(S, G);
        const controller = new AbortController();
        const read = bus.readGroup({
          group: G,
          consumer: 'c',
          streams: [S],
          count: 10,
          blockMs: 20_000,
          signal: controller.signal,
        });
        await delay(30);
        controller.abort();
        assert.deepEqual(await read, []);
      });
    });

    describe('streams and isolation', () => {
      it('lists existing streams by suffix, by their logical names', async () => {
        await bus.add('identity.dlq', { n: '1' });
        await bus.add('billing.dlq', { n: '1' });
        await bus.add('identity', { n: '1' });
        await bus.createGroup('orders.dlq', G);
        assert.deepEqual(await bus.streamsEndingWith('.dlq'), ['billing.dlq', 'identity.dlq', 'orders.dlq']);
        assert.deepEqual(await bus.streamsEndingWith('.nothing'), []);
      });

      it('keeps two deployments apart (key prefix, file)', async () => {
        const other = await factory();
        fixtures.push(other);
        await bus.add(S, { n: 'mine' });
        await other.bus.add(S, { n: 'theirs' });
        assert.deepEqual(values(await bus.range(S)), ['mine']);
        assert.deepEqual(values(await other.bus.range(S)), ['theirs']);
        await bus.createGroup(S, G);
        assert.deepEqual(await other.bus.groups(S), []);
        assert.deepEqual(await other.bus.streamsEndingWith(S), [S]);
      });

      it('answers ping', async () => {
        await bus.ping();
      });
    });
  });
};
