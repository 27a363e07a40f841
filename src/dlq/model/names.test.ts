import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../core/errors.ts';
import { dlqStream, parseIdArg } from './names.ts';

describe('dlq names', () => {
  it('accepts <topic>.dlq and derives the audit stream and topic', () => {
    assert.deepEqual(dlqStream('identity.dlq'), {
      name: 'identity.dlq',
      audit: 'identity.dlq.audit',
      topic: 'identity',
    });
  });
  it('rejects streams that are not dead-letter streams', () => {
    for (const name of ['identity', 'identity.dlq.audit', '.dlq', 'a.dlq.dlq', 'Bad Name.dlq'])
      assert.throws(() => dlqStream(name), UsageError, name);
  });
  it('takes stream ids and event ids, and nothing else', () => {
    assert.deepEqual(parseIdArg('1700000000000-0'), { kind: 'entry', id: '1700000000000-0' });
    assert.deepEqual(parseIdArg('01890A5D-AC96-774B-BCCE-B302099A8057'), {
      kind: 'event',
      eventId: '01890a5d-ac96-774b-bcce-b302099a8057',
    });
    for (const bad of ['not-an-id', '1700000000000', '1700000000000-', '-0', '99999999999999999999-0', ''])
      assert.throws(() => parseIdArg(bad), UsageError, bad);
  });
});
