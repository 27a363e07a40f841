import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dlqStream } from '../model/names.ts';
import { closeWrites } from './close.ts';

const dlq = dlqStream('identity.dlq');
const closing = { action: 'reprocessed' as const, dlqId: '5-0', actor: 'a', note: '', at: 't' };

describe('close writes', () => {
  it('reprocess: republish, audit naming the new id, removal (one exec)', () => {
    const writes = closeWrites({
      dlq,
      id: '5-0',
      fields: { event_id: 'e' },
      closing,
      republish: { stream: 'identity', fields: { event_id: 'e' }, reprocessCount: 1 },
      open: true,
    });
    assert.deepEqual(
      writes.map((w) => [w.op, w.stream]),
      [
        ['add', 'identity'],
        ['add', 'identity.dlq.audit'],
        ['del', 'identity.dlq'],
      ],
    );
    assert.deepEqual(writes[1]?.op === 'add' && writes[1].idFields, { new_stream_id: 0 });
  });
  it('resolve: audit and removal only; forced re-publish of a closed entry removes nothing', () => {
    const resolve = closeWrites({
      dlq,
      id: '5-0',
      fields: {},
      closing: { ...closing, action: 'resolved' },
      open: true,
    });
    assert.deepEqual(
      resolve.map((w) => w.op),
      ['add', 'del'],
    );
    const forced = closeWrites({
      dlq,
      id: '5-0',
      fields: {},
      closing: { ...closing, forced: true },
      republish: { stream: 'identity', fields: {}, reprocessCount: 2 },
      open: false,
    });
    assert.deepEqual(
      forced.map((w) => w.op),
      ['add', 'add'],
    );
  });
});
