import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flagSwitch, integer, oneOf, text } from './setting-parsers.ts';
import { defaultsOf, defineSettings, describeSetting, resolveSettings } from './settings.ts';

const table = defineSettings({
  size: { flag: '--size <n>', env: 'T_SIZE', default: 5, parse: integer(1, 10), help: 'how many' },
  mode: { flag: '--mode <m>', env: 'T_MODE', default: 'fast', parse: oneOf(['fast', 'slow']), help: 'pace' },
  label: { flag: '--label <text>', parse: text, help: 'a label' },
  loud: { flag: '--loud', env: 'T_LOUD', default: false, parse: flagSwitch, help: 'shout' },
  from: { flag: '--from <where>', required: true, parse: text, help: 'where to start' },
});

describe('settings tables', () => {
  it('takes the flag over the environment over the default; an empty variable is unset', () => {
    const problems: string[] = [];
    const env = { T_SIZE: '7', T_MODE: '', T_LOUD: 'yes' };
    assert.deepEqual(resolveSettings(table, { size: '3', from: 'a' }, env, problems), {
      size: 3,
      mode: 'fast',
      label: undefined,
      loud: true,
      from: 'a',
    });
    assert.equal(resolveSettings(table, { from: 'a' }, env, problems).size, 7);
    assert.equal(resolveSettings(table, { from: 'a', loud: true }, { T_LOUD: '0' }, problems).loud, true);
    assert.equal(resolveSettings(table, { from: 'a' }, { T_LOUD: 'off' }, problems).loud, false);
    assert.deepEqual(problems, []);
  });

  it('names every bad value at once, and where it came from', () => {
    const problems: string[] = [];
    const values = resolveSettings(table, { size: '11' }, { T_MODE: 'warp', T_LOUD: 'maybe' }, problems);
    assert.deepEqual(problems, [
      '--size must be an integer 1..10, got "11"',
      '--mode (env T_MODE) must be one of fast, slow, got "warp"',
      '--loud (env T_LOUD) must be one of 1, true, yes, on, 0, false, no, off, got "maybe"',
      '--from is required: where to start',
    ]);
    assert.equal(values.size, 5, 'the default stands in for a bad value');
  });

  it('keeps passwords out of problems', () => {
    const problems: string[] = [];
    const urls = defineSettings({ url: { flag: '--url <u>', parse: integer(0), help: 'x' } });
    resolveSettings(urls, { url: 'redis://user:secret@host' }, {}, problems);
    assert.doesNotMatch(problems.join(''), /secret/);
  });

  it('derives defaults and help lines from the same entries', () => {
    assert.deepEqual(defaultsOf(table), { size: 5, mode: 'fast', loud: false });
    assert.equal(describeSetting(table.size), 'how many [1..10] (env T_SIZE, default 5)');
    assert.equal(describeSetting(table.mode), 'pace [fast|slow] (env T_MODE, default fast)');
    assert.equal(describeSetting(table.label), 'a label');
    assert.equal(describeSetting(table.loud), 'shout (env T_LOUD)');
    assert.equal(describeSetting(table.from), 'where to start (required)');
  });

  it('will not compile a default its parser cannot produce', () => {
    defineSettings({
      // @ts-expect-error: a text default for an integer setting
      size: { flag: '--size <n>', default: 'five', parse: integer(1), help: 'how many' },
    });
  });
});
