import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAge, formatElapsed, formatTime } from './age.ts';
import { barLength, renderBars } from './bars.ts';
import { renderProgress } from './progress.ts';
import { createStyle, wantsColor } from './style.ts';
import { renderTable } from './table.ts';
import { cut, oneLine, printable } from './text.ts';

const ESC = '\u001b';

describe('text', () => {
  it('makes untrusted text printable: no escape codes, one line', () => {
    assert.equal(oneLine(`bad\u001b[31m red\nsecond\tline`), 'bad [31m red second line');
    assert.equal(printable(`a\u001bb\r\nc`), 'a?b\nc');
  });
  it('cuts with an ellipsis only when needed', () => {
    assert.equal(cut('abcdef', 6), 'abcdef');
    assert.equal(cut('abcdef', 4), 'abc…');
    assert.equal(cut('abcdef', 0), '');
  });
});

describe('ages', () => {
  it('uses at most two units', () => {
    assert.equal(formatAge(-5), '0s');
    assert.equal(formatAge(45_000), '45s');
    assert.equal(formatAge(12 * 60_000 + 5_000), '12m');
    assert.equal(formatAge(3 * 3_600_000), '3h');
    assert.equal(formatAge(3 * 3_600_000 + 5 * 60_000), '3h 5m');
    assert.equal(formatAge(2 * 86_400_000 + 4 * 3_600_000 + 1), '2d 4h');
  });
  it('formats elapsed times and instants', () => {
    assert.equal(formatElapsed(850), '850 ms');
    assert.equal(formatElapsed(5_012), '5.0 s');
    assert.equal(formatElapsed(125_000), '2m 5s');
    assert.equal(formatTime(Date.UTC(2024, 4, 1, 13, 4, 5, 678)), '2024-05-01 13:04:05Z');
  });
});

describe('tables', () => {
  const columns = [
    { header: 'ID' },
    { header: 'N', align: 'right' as const },
    { header: 'ERROR', shrink: 1, min: 5 },
  ];
  it('aligns columns and leaves the last one unpadded', () => {
    const text = renderTable(
      columns,
      [
        ['1-0', '5', 'boom'],
        ['10-0', '12', 'bang'],
      ],
      { width: 80 },
    );
    assert.equal(text, 'ID     N  ERROR\n1-0    5  boom\n10-0  12  bang');
  });
  it('cuts shrinkable columns to the width, lowest priority number first', () => {
    const text = renderTable(columns, [['1-0', '5', 'x'.repeat(100)]], { width: 20 });
    for (const line of text.split('\n')) assert.ok(line.length <= 20, line);
    assert.match(text, /x…$/);
  });
  it('never shrinks below the minimum, even if the table then overflows', () => {
    const text = renderTable(columns, [['1700000000000-0', '5', 'x'.repeat(50)]], { width: 10 });
    assert.match(text.split('\n')[1] ?? '', /xxxx…$/);
  });
  it('flattens cells to one printable line', () => {
    const text = renderTable(columns, [['1-0', '1', `two\nlines ${ESC}[1m`]], { width: 80 });
    assert.ok(!text.includes(ESC));
    assert.equal(text.split('\n').length, 2);
  });
});

describe('bars', () => {
  it('scales to the largest value and shows any non-zero value', () => {
    assert.equal(barLength(0, 10, 40), 0);
    assert.equal(barLength(10, 10, 40), 40);
    assert.equal(barLength(1, 1000, 40), 1);
  });
  it('draws label, value and bar', () => {
    const text = renderBars(
      [
        { label: '10:00', value: 4 },
        { label: '11:00', value: 0 },
        { label: '12:00', value: 2 },
      ],
      { width: 30, char: '#' },
    );
    assert.deepEqual(text.split('\n'), ['10:00  4 ####################', '11:00  0', '12:00  2 ##########']);
  });
});

describe('progress', () => {
  it('shows counts, percent and rate within the width', () => {
    const line = renderProgress({ done: 400, total: 1000, elapsedMs: 2000, label: 'reprocess' }, 80);
    assert.match(line, /^reprocess \[█+░+\] 400\/1000 40% 200\/s 2\.0 s$/);
    assert.ok(line.length < 80);
  });
});

describe('style', () => {
  it('colours only on a terminal without NO_COLOR', () => {
    assert.equal(wantsColor(true, undefined), true);
    assert.equal(wantsColor(true, ''), true);
    assert.equal(wantsColor(true, '1'), false);
    assert.equal(wantsColor(false, undefined), false);
    assert.equal(createStyle(false).red('x'), 'x');
    assert.equal(createStyle(true).red('x'), `${ESC}[31mx${ESC}[39m`);
  });
});
