import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeReads, type RawReads } from './read-replies.ts';

describe('XREADGROUP replies', () => {
  it('decodes entries in order, leaving out those deleted while pending, keys without the prefix', () => {
    const reply: RawReads = [
      [
        'p:s',
        [
          ['1-0', ['a', 'x\r\ny ✓', 'b', '']],
          ['2-0', null],
          ['3-1', ['a', '2', 'événement', '3']],
        ],
      ],
      ['p:t', []],
    ];
    assert.deepEqual(
      decodeReads(reply, (k) => k.slice(2)),
      [
        {
          stream: 's',
          entries: [
            { id: '1-0', fields: { a: 'x\r\ny ✓', b: '' } },
            { id: '3-1', fields: { a: '2', événement: '3' } },
          ],
        },
        { stream: 't', entries: [] },
      ],
    );
    assert.deepEqual(
      decodeReads(null, (k) => k),
      [],
    );
  });
});
