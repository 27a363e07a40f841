import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createReadDecoder, type RawBufferReads } from './read-replies.ts';

const b = (text: string): Buffer => Buffer.from(text);
const entry = (id: string, flat: string[] | null): [Buffer, Buffer[] | null] => [
  b(id),
  flat ? flat.map(b) : null,
];

describe('XREADGROUP Buffer replies', () => {
  it('decodes entries in order, leaving out those deleted while pending, keys without the prefix', () => {
    const reply: RawBufferReads = [
      [b('p:s'), [entry('1-0', ['a', 'x\r\ny ✓', 'b', '']), entry('2-0', null), entry('3-1', ['a', '2'])]],
      [b('p:t'), []],
    ];
    assert.deepEqual(
      createReadDecoder()(reply, (k) => k.slice(2)),
      [
        {
          stream: 's',
          entries: [
            { id: '1-0', fields: { a: 'x\r\ny ✓', b: '' } },
            { id: '3-1', fields: { a: '2' } },
          ],
        },
        { stream: 't', entries: [] },
      ],
    );
    assert.deepEqual(
      createReadDecoder()(null, (k) => k),
      [],
    );
  });

  it('never mistakes a name for the one seen before at its place, across entries and replies', () => {
    const decode = createReadDecoder();
    const wide = Array.from({ length: 70 }, (_, i) => [`f${i}`, String(i)]).flat();
    const first = decode(
      [[b('s'), [entry('1-0', ['ab', '1', 'événement', '2']), entry('2-0', wide)]]],
      (k) => k,
    );
    const second = decode(
      [[b('s'), [entry('3-0', ['aa', '3', 'évènement', '4']), entry('4-0', ['ab', '5'])]]],
      (k) => k,
    );
    assert.deepEqual(first[0]?.entries[0]?.fields, { ab: '1', événement: '2' });
    assert.deepEqual(
      first[0]?.entries[1]?.fields,
      Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`f${i}`, String(i)])),
    );
    assert.deepEqual(
      second[0]?.entries.map((e) => e.fields),
      [{ aa: '3', évènement: '4' }, { ab: '5' }],
    );
  });
});
