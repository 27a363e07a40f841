// The cases below were read off a Redis 7.0 server (XINFO GROUPS after the same commands).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EntryId } from './ids.ts';
import { entriesReadAfter, groupLag, type StreamCounters } from './lag.ts';

const id = (ms: number): EntryId => ({ ms, seq: 0 });
const zero = id(0);

// XADD 1-0 .. 5-0
const five: StreamCounters = {
  length: 5,
  lastId: id(5),
  firstId: id(1),
  entriesAdded: 5,
  maxDeletedId: zero,
};

describe('group lag', () => {
  it('is 0 on a stream that never had an entry, and the length for a new group at 0', () => {
    assert.equal(
      groupLag(
        { ...five, length: 0, entriesAdded: 0, firstId: zero, lastId: zero },
        {
          lastId: zero,
          entriesRead: null,
        },
      ),
      0,
    );
    assert.equal(groupLag(five, { lastId: zero, entriesRead: null }), 5);
    assert.equal(groupLag(five, { lastId: id(5), entriesRead: null }), 0);
  });

  it('counts exactly after reads, and survives trims', () => {
    const read2 = entriesReadAfter(five, entriesReadAfter(five, null, id(1)), id(2));
    assert.equal(read2, 2);
    const trimmed = { ...five, length: 4, firstId: id(2) };
    assert.equal(groupLag(trimmed, { lastId: id(2), entriesRead: read2 }), 3);
  });

  it('becomes unknown when a deleted entry lies ahead, and exact again at the end', () => {
    // XTRIM MINID 2-0, XDEL 4-0: left 2-0, 3-0, 5-0
    const holed = { ...five, length: 3, firstId: id(2), maxDeletedId: id(4) };
    assert.equal(groupLag(holed, { lastId: id(2), entriesRead: 2 }), null);
    const after3 = entriesReadAfter(holed, 2, id(3));
    assert.equal(after3, null);
    const after5 = entriesReadAfter(holed, after3, id(5));
    assert.equal(after5, 5);
    assert.equal(groupLag(holed, { lastId: id(5), entriesRead: after5 }), 0);
  });

  it('estimates from the first entry after SETID', () => {
    assert.equal(groupLag(five, { lastId: id(1), entriesRead: null }), 4);
    assert.equal(groupLag(five, { lastId: id(2), entriesRead: null }), null);
  });
});
