import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditFields, closingRecord, parseAuditRecord } from './audit-record.ts';

const entry = { event_id: 'e1', payload: '{"a":1}', dlq_stage: 'relay', dlq_error_class: 'Error' };
const closing = {
  action: 'resolved' as const,
  dlqId: '5-0',
  actor: 'ana',
  note: 'dup',
  at: '2024-01-01T00:00:00.000Z',
};

describe('audit records', () => {
  it('keep the audit fields first and the entry verbatim', () => {
    const fields = auditFields(entry, closing);
    assert.deepEqual(Object.keys(fields).slice(0, 5), ['action', 'dlq_id', 'actor', 'note', 'at']);
    const record = parseAuditRecord({ id: '9-0', fields: { ...fields, new_stream_id: '8-0' } });
    assert.deepEqual(record, {
      auditId: '9-0',
      action: 'resolved',
      dlqId: '5-0',
      actor: 'ana',
      note: 'dup',
      at: '2024-01-01T00:00:00.000Z',
      forced: false,
      newStreamId: '8-0',
      entry,
    });
  });
  it('keep an entry whose fields clash with audit names whole', () => {
    const raw = { action: 'mine', note: 'theirs', junk: 'x' };
    const record = parseAuditRecord({ id: '9-0', fields: auditFields(raw, closing) });
    assert.deepEqual(record?.entry, raw);
    assert.equal(record?.action, 'resolved');
  });
  it('mark forced re-publishes, which do not count as the close', () => {
    const forced = parseAuditRecord({
      id: '10-0',
      fields: auditFields(entry, { ...closing, action: 'reprocessed', forced: true }),
    });
    const first = parseAuditRecord({ id: '9-0', fields: auditFields(entry, closing) });
    assert.equal(forced?.forced, true);
    assert.equal(closingRecord([forced!, first!])?.auditId, '9-0');
  });
  it('ignore entries that are not audit records', () => {
    assert.equal(parseAuditRecord({ id: '1-0', fields: { action: 'deleted', dlq_id: '1-0' } }), undefined);
    assert.equal(parseAuditRecord({ id: '1-0', fields: { action: 'resolved' } }), undefined);
  });
});
