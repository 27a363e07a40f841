import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../core/errors.ts';
import {
  filterAt,
  inspectOptions,
  listOptions,
  purgeOptions,
  reportOptions,
  reprocessOptions,
  resolveOptions,
} from './options.ts';

const stream = 'identity.dlq';

describe('mm-dlq options', () => {
  it('list: defaults and filters, --since relative to now', () => {
    const options = listOptions({ stream, since: '2h', eventType: 'user.created' });
    assert.equal(options.count, 20);
    assert.equal(options.json, false);
    const filter = filterAt(options.filter, 10_000_000);
    assert.equal(filter.sinceMs, 10_000_000 - 7_200_000);
    assert.equal(filter.eventType, 'user.created');
  });
  it('rejects bad numbers and durations, all at once', () => {
    assert.throws(
      () => listOptions({ stream, count: '0', since: '2 hours' }),
      (error: Error) =>
        error instanceof UsageError && /--count/.test(error.message) && /--since/.test(error.message),
    );
  });
  it('rejects --error with --fingerprint', () => {
    assert.throws(() => listOptions({ stream, error: 'x', fingerprint: 'abcd' }), /cannot be combined/);
  });
  it('needs --stream and --id where they are required', () => {
    assert.throws(() => inspectOptions({ id: '1-0' }), /--stream is required/);
    assert.throws(() => inspectOptions({ stream }), /--id is required/);
    assert.throws(() => inspectOptions({ stream, id: 'nope' }), /--id must be a stream id/);
  });
  it('reprocess: exactly one way of choosing entries', () => {
    assert.equal(reprocessOptions({ stream, id: '1-0' }).target.kind, 'one');
    const bulk = reprocessOptions({ stream, all: true, limit: '5', rate: '200' });
    assert.deepEqual([bulk.target.kind, bulk.rate, bulk.maxFailures], ['bulk', 200, 10]);
    assert.equal(reprocessOptions({ stream, all: true }).rate, 50);
    assert.throws(() => reprocessOptions({ stream }), /--id ID, --all, or filters/);
    assert.throws(() => reprocessOptions({ stream, id: '1-0', all: true }), /cannot be combined/);
    assert.throws(() => reprocessOptions({ stream, id: '1-0', rate: '5' }), /--rate applies to bulk runs/);
    assert.equal(reprocessOptions({ stream, id: '1-0', dryRun: true }).dryRun, true);
    assert.throws(() => reprocessOptions({ stream, id: '1-0', rate: '5' }), /--rate applies to bulk/);
    assert.throws(
      () => reprocessOptions({ stream, all: true, eventType: 'a.b' }),
      /--all cannot be combined/,
    );
    assert.throws(() => reprocessOptions({ stream, all: true, force: true }), /--force works with --id only/);
    assert.throws(() => reprocessOptions({ stream, all: true, rate: '0' }), /--rate/);
  });
  it('resolve takes a note and filters', () => {
    const options = resolveOptions({ stream, fingerprint: 'ABCDEF012345', note: 'fixed upstream' });
    assert.equal(options.note, 'fixed upstream');
    assert.equal(options.target.kind === 'bulk' && options.target.filter.fingerprint, 'abcdef012345');
  });
  it('report: --stream is optional, --hours a positive integer', () => {
    assert.equal(reportOptions({}).dlq, undefined);
    assert.equal(reportOptions({ stream, hours: '48' }).hours, 48);
    assert.throws(() => reportOptions({ hours: '-1' }), UsageError);
  });
  it('purge needs --older-than and selects by age', () => {
    const options = purgeOptions({ stream, olderThan: '30d' });
    assert.equal(options.olderThanMs, 30 * 86_400_000);
    assert.throws(() => purgeOptions({ stream }), /--older-than is required/);
    assert.throws(() => purgeOptions({ stream, olderThan: '30d', id: '1-0' }), /by age only/);
  });
});
