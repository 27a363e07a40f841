import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deadLetterFields } from '../../core/dead-letter.ts';
import { toStreamFields } from '../../core/envelope.ts';
import { ValidationError } from '../../core/errors.ts';
import { dlqStream } from './names.ts';
import { originStreamOf, originTopicOf, reprocessStreamOf, republish } from './republish.ts';

const dlq = dlqStream('identity.dlq');
const event = {
  eventId: '01890a5d-ac96-774b-bcce-b302099a8057',
  eventType: 'user.created',
  topic: 'identity',
  aggregateType: 'user',
  aggregateId: 'u1',
  payload: { id: 'u1' },
  occurredAt: '2024-01-01T00:00:00.000Z',
  outboxId: '42',
  headers: { correlation_id: 'c1', reprocess_count: 1 },
  schemaVersion: 1,
};
const original = toStreamFields(event);
const dead = deadLetterFields(original, {
  stage: 'relay',
  originStream: 'identity',
  error: new Error('too big'),
  attempts: 2,
  firstFailedAt: '2024-01-01T00:00:01.000Z',
  failedAt: '2024-01-01T00:00:02.000Z',
});

describe('republish', () => {
  it('puts back the original fields verbatim, without dlq_*, with reprocess headers', () => {
    const out = republish(dead, '1700000000000-0', dlq, 0);
    assert.equal(out.stream, 'identity');
    assert.deepEqual(Object.keys(out.fields), Object.keys(original));
    for (const name of Object.keys(original))
      if (name !== 'headers') assert.equal(out.fields[name], original[name]);
    assert.deepEqual(JSON.parse(out.fields.headers ?? ''), {
      correlation_id: 'c1',
      reprocess_count: 2,
      reprocessed_from: '1700000000000-0',
    });
    assert.equal(out.reprocessCount, 2);
  });
  it('counts earlier forced re-publishes of the same dead letter', () => {
    assert.equal(republish(dead, '1-0', dlq, 2).reprocessCount, 4);
  });
  it('adds headers to an entry that had none, and refuses headers that are not an object', () => {
    const { headers: _, ...noHeaders } = dead;
    assert.deepEqual(JSON.parse(republish(noHeaders, '1-0', dlq, 0).fields.headers ?? ''), {
      reprocessed_from: '1-0',
      reprocess_count: 1,
    });
    assert.throws(() => republish({ ...dead, headers: '[1]' }, '1-0', dlq, 0), ValidationError);
    assert.throws(() => republish({ ...dead, headers: '{broken' }, '1-0', dlq, 0), ValidationError);
  });
  it('goes to the recorded origin, else the topic, never to another DLQ', () => {
    assert.equal(originStreamOf({ dlq_origin_stream: 'billing' }, dlq), 'billing');
    assert.equal(originStreamOf({}, dlq), 'identity');
    assert.throws(() => originStreamOf({ dlq_origin_stream: 'identity.dlq' }, dlq), ValidationError);
    assert.throws(() => originStreamOf({ dlq_origin_stream: 'identity.dlq:1' }, dlq), ValidationError);
  });
  it("goes to the aggregate's partition stream under the count recorded now, whatever it failed under", () => {
    const fromPartition = { ...dead, dlq_origin_stream: 'identity:3' };
    assert.equal(originStreamOf(fromPartition, dlq), 'identity:3');
    assert.equal(originTopicOf(fromPartition, dlq), 'identity');
    assert.equal(reprocessStreamOf(fromPartition, dlq, 1), 'identity');
    assert.equal(republish(fromPartition, '1-0', dlq, 0).stream, 'identity');
    // md5('u1') starts e4774cd (239563981): mod 4 = 1, mod 3 = 1, mod 2 = 1, mod 7 = 6.
    assert.equal(republish(dead, '1-0', dlq, 0, 4).stream, 'identity:1');
    assert.equal(republish(fromPartition, '1-0', dlq, 0, 7).stream, 'identity:6');
    const anonymous = Object.fromEntries(Object.entries(fromPartition).filter(([k]) => k !== 'aggregate_id'));
    assert.throws(() => reprocessStreamOf(anonymous, dlq, 4), /no aggregate_id/);
  });
});
