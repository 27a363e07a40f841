import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deadLetterFields } from '../../core/dead-letter.ts';
import { renderReport } from '../format/report-render.ts';
import { createStyle } from '../format/style.ts';
import { auditFields, parseAuditRecord } from './audit-record.ts';
import { viewOf } from './dead-letter-view.ts';
import { buildReport, buildStreamReport, HOUR_MS } from './report-model.ts';

const T0 = Date.UTC(2024, 4, 1, 12, 30); // window end
const window = { fromMs: T0 - 24 * HOUR_MS, toMs: T0, hours: 24 };

const fieldsFor = (eventType: string, stage: 'relay' | 'consumer', message: string) =>
  deadLetterFields(
    { event_id: `e-${message}`, event_type: eventType },
    {
      stage,
      originStream: 'identity',
      ...(stage === 'consumer' ? { originId: '1-0', consumerGroup: 'g1' } : {}),
      error: new Error(message),
      attempts: 3,
      firstFailedAt: 'x',
      failedAt: 'x',
    },
  );

const id = (ms: number, seq = 0) => `${ms}-${seq}`;

describe('report model', () => {
  const openOld = id(T0 - 30 * HOUR_MS); // open, before the window
  const openNew = [id(T0 - HOUR_MS), id(T0 - 10 * 60_000)]; // open, in the window
  const closedNew = id(T0 - 5 * HOUR_MS); // in the window, then resolved
  const closedOld = id(T0 - 40 * HOUR_MS); // before the window, purged in it
  const audit = (
    dlqId: string,
    action: 'resolved' | 'purged' | 'reprocessed',
    atMs: number,
    fields: Record<string, string>,
    forced = false,
  ) =>
    parseAuditRecord({
      id: id(atMs),
      fields: auditFields(fields, {
        action,
        dlqId,
        actor: 'a',
        note: '',
        at: new Date(atMs).toISOString(),
        forced,
      }),
    })!;
  const input = {
    stream: 'identity.dlq',
    exists: true,
    openCount: 3,
    oldestOpenId: openOld,
    openInWindow: [
      viewOf(openNew[0]!, fieldsFor('user.created', 'consumer', 'missing id 1')),
      viewOf(openNew[1]!, fieldsFor('user.updated', 'relay', 'too big 7')),
    ],
    audits: [
      audit(closedNew, 'resolved', T0 - 4 * HOUR_MS, fieldsFor('user.created', 'consumer', 'missing id 2')),
      audit(closedOld, 'purged', T0 - 2 * HOUR_MS, fieldsFor('user.created', 'relay', 'old')),
      audit(
        closedNew,
        'reprocessed',
        T0 - 3 * HOUR_MS,
        fieldsFor('user.created', 'consumer', 'missing id 2'),
        true,
      ),
    ],
  };

  it('counts new, closed by action, and the open backlog', () => {
    const report = buildStreamReport(input, window);
    assert.equal(report.new, 3);
    assert.deepEqual(report.closed, { total: 2, reprocessed: 0, resolved: 1, purged: 1 });
    assert.equal(report.forced_republishes, 1);
    assert.deepEqual(report.open, {
      count: 3,
      oldest_id: openOld,
      oldest_at: new Date(T0 - 30 * HOUR_MS).toISOString(),
      oldest_age_seconds: 30 * 3600,
    });
  });

  it('breaks the new ones down by type, stage/group and fingerprint', () => {
    const report = buildStreamReport(input, window);
    assert.deepEqual(report.by_event_type, [
      { event_type: 'user.created', count: 2, open: 1 },
      { event_type: 'user.updated', count: 1, open: 1 },
    ]);
    assert.deepEqual(report.by_stage, [
      { stage: 'consumer', consumer_group: 'g1', count: 2, open: 1 },
      { stage: 'relay', consumer_group: null, count: 1, open: 1 },
    ]);
    // "missing id 1" and "missing id 2" share a fingerprint: numbers are normalised away
    const [top, other] = report.by_fingerprint;
    assert.equal(top?.count, 2);
    assert.equal(top?.open, 1);
    assert.equal(top?.sample_id, openNew[0]);
    assert.equal(top?.first_seen, new Date(T0 - 5 * HOUR_MS).toISOString());
    assert.equal(top?.last_seen, new Date(T0 - HOUR_MS).toISOString());
    assert.equal(other?.count, 1);
  });

  it('samples the newest open entry of a fingerprint even within one millisecond', () => {
    const ms = T0 - HOUR_MS;
    const report = buildStreamReport(
      {
        ...input,
        openInWindow: [0, 1, 2].map((seq) =>
          viewOf(id(ms, seq), fieldsFor('user.created', 'relay', `timed out after ${seq} s`)),
        ),
        audits: [],
      },
      window,
    );
    assert.equal(report.by_fingerprint.length, 1);
    assert.equal(report.by_fingerprint[0]?.sample_id, id(ms, 2));
  });

  it('buckets new dead letters per UTC hour across the window', () => {
    const report = buildStreamReport(input, window);
    assert.equal(report.hourly.length, 25);
    assert.equal(report.hourly[0]?.hour, '2024-04-30T12:00:00.000Z');
    assert.equal(report.hourly.at(-1)?.hour, '2024-05-01T12:00:00.000Z');
    assert.equal(
      report.hourly.reduce((sum, h) => sum + h.count, 0),
      3,
    );
    assert.equal(report.hourly.find((h) => h.hour === '2024-05-01T12:00:00.000Z')?.count, 1);
  });

  it('renders plain text without escape codes, and says when a stream is missing', () => {
    const full = buildReport([buildStreamReport(input, window)], window);
    const text = renderReport(full, { width: 100, style: createStyle(false) });
    assert.ok(!text.includes('\u001b'));
    assert.match(text, /closed {12}2 \(reprocessed 0, resolved 1, purged 1\); 1 forced re-publishes/);
    assert.match(text, /open backlog {6}3, oldest 1d 6h/);
    const missing = buildStreamReport(
      { ...input, exists: false, openCount: 0, oldestOpenId: undefined, openInWindow: [], audits: [] },
      window,
    );
    assert.match(
      renderReport(buildReport([missing], window), { width: 100, style: createStyle(false) }),
      /does not exist/,
    );
    assert.equal(
      renderReport(buildReport([], window), { width: 100, style: createStyle(false) }),
      'no dead-letter streams (*.dlq) found: no dead letters',
    );
  });
});
