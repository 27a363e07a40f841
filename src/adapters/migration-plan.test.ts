import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MmError } from '../core/errors.ts';
import { checksumOf, isUpToDate, planMigrations, reportOf } from './migration-plan.ts';

const first = { name: '001_init.sql', sql: 'create table a (x int);' };
const second = { name: '002_more.sql', sql: 'create table b (y int);' };
const third = { name: '003_last.sql', sql: 'create table c (z int);' };
const recorded = (...applied: Array<{ name: string; sql: string }>): Map<string, string> =>
  new Map(applied.map((m) => [m.name, checksumOf(m.sql)]));

describe('planMigrations', () => {
  it('applies in the given order what is not recorded, each with its checksum', () => {
    const plan = planMigrations([first, second, third], recorded(first));
    assert.deepEqual(
      plan.pending.map((m) => [m.name, m.checksum]),
      [
        [second.name, checksumOf(second.sql)],
        [third.name, checksumOf(third.sql)],
      ],
    );
    assert.deepEqual(plan.alreadyApplied, [first.name]);
    assert.deepEqual(reportOf(plan), { applied: [second.name, third.name], alreadyApplied: [first.name] });
  });

  it('refuses a migration that changed after it was applied', () => {
    const changed = { ...first, sql: 'create table a (x bigint);' };
    assert.throws(
      () => planMigrations([changed, second], recorded(first)),
      (e) =>
        e instanceof MmError &&
        e.code === 'CONFIG' &&
        /001_init\.sql changed after it was applied/.test(e.message),
    );
  });

  it('is up to date only when every migration is recorded unchanged', () => {
    assert.equal(isUpToDate([first, second], recorded(first, second)), true);
    assert.equal(isUpToDate([first, second], recorded(first)), false);
    assert.equal(isUpToDate([first], recorded({ ...first, sql: 'changed' })), false);
  });
});
