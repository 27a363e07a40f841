import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRespReader, isReplyError, type RespReply } from './resp-reader.ts';

// An XREADGROUP reply with an entry deleted while pending (null fields), a bulk string holding
// CR LF and multi-byte text, then an error, an integer, a null array and an empty array.
const wire = Buffer.from(
  [
    '*1\r\n*2\r\n$6\r\nstream\r\n*2\r\n',
    '*2\r\n$3\r\n1-0\r\n*4\r\n$1\r\na\r\n$9\r\nx\r\ny ✓z\r\n$1\r\nb\r\n$0\r\n\r\n',
    '*2\r\n$3\r\n2-0\r\n*-1\r\n',
    '-NOGROUP No such key\r\n',
    ':42\r\n',
    '*-1\r\n',
    '*0\r\n',
  ].join(''),
);
const expected: RespReply[] = [
  [
    [
      'stream',
      [
        ['1-0', ['a', 'x\r\ny ✓z', 'b', '']],
        ['2-0', null],
      ],
    ],
  ],
  { error: 'NOGROUP No such key' },
  '42',
  null,
  [],
];

describe('RESP reader', () => {
  it('parses nested arrays, nulls, errors, integers and binary-safe bulk strings', () => {
    const reader = createRespReader();
    reader.expect(expected.length);
    assert.deepEqual(reader.push(wire), expected);
    assert.ok(isReplyError(expected[1]));
    assert.ok(!isReplyError(expected[0]) && !isReplyError(null) && !isReplyError('x'));
  });

  it('waits for the last byte whatever the chunking', () => {
    for (let split = 1; split < wire.length; split += 1) {
      const reader = createRespReader();
      reader.expect(expected.length);
      assert.equal(reader.push(wire.subarray(0, split)), undefined, `complete after ${split} bytes`);
      assert.deepEqual(reader.push(wire.subarray(split)), expected, `split at ${split}`);
    }
    const reader = createRespReader();
    reader.expect(expected.length);
    let replies: RespReply[] | undefined;
    for (const byte of wire) replies = reader.push(Buffer.from([byte]));
    assert.deepEqual(replies, expected);
  });

  it('grows past its first buffer for large replies and serves the next wait', () => {
    const value = 'v'.repeat(70_000);
    const big = Buffer.from(`*2\r\n$${value.length}\r\n${value}\r\n+OK\r\n`);
    const reader = createRespReader();
    reader.expect(1);
    assert.equal(reader.push(big.subarray(0, 50_000)), undefined);
    assert.deepEqual(reader.push(big.subarray(50_000)), [[value, 'OK']]);
    reader.expect(1);
    assert.deepEqual(reader.push(Buffer.from('$-1\r\n')), [null]);
  });

  it('rejects bytes that are not RESP', () => {
    const reader = createRespReader();
    reader.expect(1);
    assert.throws(() => reader.push(Buffer.from('HTTP/1.1 400\r\n')), /unexpected RESP reply type H/);
    reader.reset();
    reader.expect(1);
    assert.throws(() => reader.push(Buffer.from('$x1\r\n')), /malformed RESP length/);
  });
});
