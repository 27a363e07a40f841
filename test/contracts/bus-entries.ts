// Bus contract cases: adding entries, reading ranges, deleting and trimming.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PermanentError } from '../../src/core/errors.ts';
import { compareStreamIds, isStreamId, streamIdTime } from '../../src/core/ids.ts';
import { type BusKit, G, ids, S, values } from './bus-kit.ts';

export const busEntriesCases = (t: BusKit): void => {
  const { fill, readNew } = t;

  describe('adding entries', () => {
    it('gives <ms>-<seq> ids near the current time and keeps the fields verbatim', async () => {
      const before = Date.now();
      const fields = { event_id: 'e1', payload: '{"a":[1,2]}', empty: '', text: 'naïve ✓ 你好' };
      const id = await t.bus.add(S, fields);
      assert.ok(isStreamId(id), id);
      assert.ok(streamIdTime(id) >= before - 1000 && streamIdTime(id) <= Date.now() + 1000);
      assert.deepEqual(await t.bus.range(S), [{ id, fields }]);
    });

    it('gives strictly increasing ids, also many within one millisecond', async () => {
      const added = await fill(200);
      for (let i = 1; i < added.length; i++) {
        assert.equal(compareStreamIds(added[i - 1] as string, added[i] as string), -1);
      }
      assert.deepEqual(ids(await t.bus.range(S)), added);
    });

    it('never goes back after the newest entry is deleted', async () => {
      const [, last] = await fill(2);
      assert.equal(await t.bus.del(S, [last as string]), 1);
      const next = await t.bus.add(S, { n: '3' });
      assert.equal(compareStreamIds(last as string, next), -1);
    });

    it('never goes back after the stream is trimmed empty', async () => {
      const added = await fill(3);
      assert.equal(await t.bus.trim(S, { maxLen: 0 }), 3);
      assert.equal(await t.bus.len(S), 0);
      const next = await t.bus.add(S, { n: '4' });
      assert.equal(compareStreamIds(added[2] as string, next), -1);
    });

    it('refuses an entry without fields', async () => {
      await assert.rejects(t.bus.add(S, {}));
      assert.equal(await t.bus.len(S), 0);
    });

    it('adds a batch in order with an outcome per entry, one bad entry failing alone', async () => {
      const outcomes = await t.bus.addBatch([
        { stream: S, fields: { n: '1' } },
        { stream: 'other', fields: { n: 'x' } },
        { stream: S, fields: {} },
        { stream: S, fields: { n: '2' } },
      ]);
      assert.equal(outcomes.length, 4);
      assert.ok('id' in (outcomes[0] as object) && 'id' in (outcomes[1] as object));
      assert.ok('error' in (outcomes[2] as object));
      assert.ok((outcomes[2] as { error: Error }).error instanceof PermanentError);
      assert.deepEqual(values(await t.bus.range(S)), ['1', '2']);
      assert.deepEqual(values(await t.bus.range('other')), ['x']);
      assert.deepEqual(await t.bus.addBatch([]), []);
    });
  });

  describe('reading ranges', () => {
    it('counts entries, 0 for a stream that does not exist', async () => {
      assert.equal(await t.bus.len('missing'), 0);
      await fill(4);
      assert.equal(await t.bus.len(S), 4);
    });

    it('returns entries oldest first, at most count', async () => {
      const added = await fill(5);
      assert.deepEqual(ids(await t.bus.range(S)), added);
      assert.deepEqual(ids(await t.bus.range(S, { count: 2 })), added.slice(0, 2));
      assert.deepEqual(await t.bus.range('missing'), []);
    });

    it('honours inclusive and ( exclusive bounds', async () => {
      const [a, b, c, d, e] = (await fill(5)) as [string, string, string, string, string];
      assert.deepEqual(ids(await t.bus.range(S, { start: b, end: d })), [b, c, d]);
      assert.deepEqual(ids(await t.bus.range(S, { start: `(${b}`, end: `(${d}` })), [c]);
      assert.deepEqual(ids(await t.bus.range(S, { start: `(${a}`, count: 2 })), [b, c]);
      assert.deepEqual(ids(await t.bus.range(S, { end: `(${b}` })), [a]);
      assert.deepEqual(ids(await t.bus.range(S, { start: `(${e}` })), []);
      assert.deepEqual(ids(await t.bus.range(S, { start: d, end: b })), []);
    });

    it('reads newest first in reverse, the bounds keeping their meaning', async () => {
      const [a, b, c, d] = (await fill(4)) as [string, string, string, string];
      assert.deepEqual(ids(await t.bus.range(S, { reverse: true })), [d, c, b, a]);
      assert.deepEqual(ids(await t.bus.range(S, { reverse: true, count: 1 })), [d]);
      assert.deepEqual(ids(await t.bus.range(S, { reverse: true, start: b, end: `(${d}` })), [c, b]);
    });

    it('accepts millisecond-only bounds', async () => {
      const added = await fill(3);
      const first = added[0] as string;
      const ms = String(streamIdTime(first));
      const sameMs = added.filter((id) => String(streamIdTime(id)) === ms);
      assert.deepEqual(ids(await t.bus.range(S, { start: ms, end: ms })), sameMs);
      const later = added.filter((id) => streamIdTime(id) > Number(ms));
      assert.deepEqual(ids(await t.bus.range(S, { start: String(Number(ms) + 1) })), later);
    });
  });

  describe('deleting and trimming', () => {
    it('deletes the entries that exist and says how many', async () => {
      const [a, b, c] = (await fill(3)) as [string, string, string];
      assert.equal(await t.bus.del(S, [a, c, '1-1', a]), 2);
      assert.deepEqual(ids(await t.bus.range(S)), [b]);
      assert.equal(await t.bus.del('missing', [a]), 0);
      assert.equal(await t.bus.del(S, []), 0);
    });

    it('trims by MAXLEN to the newest entries', async () => {
      const added = await fill(6);
      assert.equal(await t.bus.trim(S, { maxLen: 10 }), 0);
      assert.equal(await t.bus.trim(S, { maxLen: 2 }), 4);
      assert.deepEqual(ids(await t.bus.range(S)), added.slice(4));
      assert.equal(await t.bus.trim('missing', { maxLen: 0 }), 0);
    });

    it('trims by MINID everything strictly older', async () => {
      const added = await fill(5);
      assert.equal(await t.bus.trim(S, { minId: added[2] as string }), 2);
      assert.deepEqual(ids(await t.bus.range(S)), added.slice(2));
      assert.equal(await t.bus.trim(S, { minId: added[2] as string }), 0);
      assert.equal(await t.bus.trim('missing', { minId: added[2] as string }), 0);
    });

    it('reports a stream size in bytes that grows with its entries and shrinks when trimmed', async () => {
      assert.equal(await t.bus.streamBytes(S), 0, 'a stream that does not exist takes nothing');
      const big = 'x'.repeat(2_000);
      for (let i = 0; i < 50; i++) await t.bus.add(S, { n: String(i), payload: big });
      const full = await t.bus.streamBytes(S);
      assert.ok(full >= 50 * 2_000, `50 entries of 2 kB take at least 100 kB, said ${full}`);
      assert.ok(full < 50 * 2_000 * 4, `and not wildly more, said ${full}`);
      await t.bus.trim(S, { maxLen: 10 });
      const trimmed = await t.bus.streamBytes(S);
      assert.ok(trimmed < full / 2, `10 of 50 entries left take less than half, said ${trimmed} of ${full}`);
    });

    it('leaves pending entries pending when trimming', async () => {
      await t.bus.createGroup(S, G);
      await fill(3);
      await readNew('c1', 2);
      assert.equal(await t.bus.trim(S, { maxLen: 0 }), 3);
      assert.equal((await t.bus.pending(S, G)).count, 2);
    });
  });
};
