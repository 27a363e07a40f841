// The relay's pure parts: stream fields from an outbox row, the size limit, the id ring, the doorbell.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStreamFields } from '../src/core/envelope.ts';
import type { OutboxRow } from '../src/ports/outbox.ts';
import { createIdRing } from '../src/relay/id-ring.ts';
import { entryBytes, isOversized, rowStreamFields } from '../src/relay/row-fields.ts';
import { createWakeSignal } from '../src/relay/wake-signal.ts';

const row: OutboxRow = {
  id: '42',
  eventId: '01a2253b-3644-72d7-a0c5-41d93a047a1c',
  topic: 'identity',
  eventType: 'user.created',
  aggregateType: 'user',
  aggregateId: 'u-1',
  payloadJson: '{"display_name": "Zoë"}',
  headersJson: '{"correlation_id": "c"}',
  occurredAt: '2026-11-29T02:30:11.598Z',
  attempts: 0,
  firstFailedAt: null,
  lastError: null,
};

describe('relay units', () => {
  it('builds the envelope fields from the stored JSON text, readable by every consumer', () => {
    const fields = rowStreamFields(row);
    assert.equal(fields.payload, row.payloadJson);
    assert.equal(fields.outbox_id, '42');
    const envelope = parseStreamFields(fields);
    assert.deepEqual(envelope.payload, { display_name: 'Zoë' });
    assert.equal(envelope.schemaVersion, 1);
  });

  it('measures entries in UTF-8 bytes and flags only those over the limit', () => {
    const fields = rowStreamFields(row);
    const bytes = entryBytes(fields);
    const chars = Object.entries(fields).reduce((n, [k, v]) => n + k.length + v.length, 0);
    assert.equal(bytes, chars + 1, 'ë takes two bytes');
    assert.equal(isOversized(fields, bytes), false);
    assert.equal(isOversized(fields, bytes - 1), true);
    assert.equal(isOversized(fields, bytes * 3), false);
  });

  it('knows where a cap of N entries starts once it has seen N ids', () => {
    const ring = createIdRing(3);
    for (const id of ['1-0', '2-0']) ring.push(id);
    assert.equal(ring.boundary(), undefined);
    ring.push('3-0');
    assert.equal(ring.boundary(), '1-0');
    ring.push('4-0');
    ring.push('5-0');
    assert.equal(ring.boundary(), '3-0');
    assert.equal(createIdRing(0).boundary(), undefined);
  });

  it('keeps a ring that came while nobody waited, wakes a waiter, and honours an abort', async () => {
    const bell = createWakeSignal();
    const outcome = (wait: Promise<void>): Promise<string> =>
      Promise.race([
        wait.then(() => 'woke'),
        new Promise<string>((r) => setTimeout(() => r('still waiting'), 2_000)),
      ]);
    bell.ring();
    assert.equal(await outcome(bell.wait(60_000)), 'woke', 'a ring kept from before');
    const waiting = bell.wait(60_000);
    bell.ring();
    assert.equal(await outcome(waiting), 'woke');
    const idle = new AbortController();
    assert.equal(await outcome(bell.wait(60_000, idle.signal)), 'still waiting', 'a ring is used once');
    idle.abort();
    const abort = new AbortController();
    const aborted = bell.wait(60_000, abort.signal);
    abort.abort();
    assert.equal(await outcome(aborted), 'woke');
    bell.clear();
  });
});
