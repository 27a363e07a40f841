// The bench's verdicts: ratio targets judged against a line of the same run, a verdict for every
// target, and a plan whose every throughput and latency target is such a ratio.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { measurementsFor } from './plan.ts';
import { atLeast, atMost, judge, type Line, noMoreThan } from './results.ts';

const RATIO_TEXT = /[0-9.]+ ?x( |$)/;

const raw: Line = { name: 'baseline: raw drain', figure: 'rate', unit: 'events/s', key: 'raw drain' };
const relay: Line = { name: 'relay', figure: 'rate', unit: 'events/s', target: atLeast(0.9, 'raw drain') };

describe('judge', () => {
  it('compares a ratio target with the named line of the same run', () => {
    const [, met] = judge([
      { line: raw, value: 10_000 },
      { line: relay, value: 9_500 },
    ]);
    assert.deepEqual(met, {
      name: 'relay',
      value: 9_500,
      unit: 'events/s',
      baseline: 10_000,
      ratio: 0.95,
      target: '>= 0.9x raw drain',
      met: true,
    });
    assert.match(met?.target ?? '', RATIO_TEXT);
    const [, missed] = judge([
      { line: raw, value: 10_000 },
      { line: relay, value: 8_996 },
    ]);
    assert.equal(missed?.met, false);
    assert.equal(missed?.ratio, 0.9, 'shown as 0.900 but judged unrounded');
  });

  it('judges an upper bound on a ratio, such as latency against the raw p99', () => {
    const p99: Line = { name: 'p99', figure: 'p99', unit: 'ms', digits: 1, target: atMost(3, 'raw p99') };
    const rawP99: Line = { name: 'raw p99', figure: 'p99', unit: 'ms', digits: 1, key: 'raw p99' };
    const verdicts = (value: number) =>
      judge([
        { line: rawP99, value: 10 },
        { line: p99, value },
      ])[1]?.met;
    assert.equal(verdicts(29.9), true);
    assert.equal(verdicts(30.1), false);
  });

  it('gives every target a verdict: a figure that could not be measured misses it', () => {
    const rss: Line = { name: 'rss', figure: 'rss', unit: 'MB', target: noMoreThan(150) };
    const [rssResult, , relayResult] = judge([
      { line: rss, value: Number.NaN },
      { line: raw, value: 10_000 },
      { line: relay, value: Number.NaN },
    ]);
    assert.equal(rssResult?.met, false);
    assert.equal(rssResult?.target, '<= 150 MB');
    assert.equal(relayResult?.met, false);
    assert.equal(judge([{ line: raw, value: 1 }])[0]?.met, null);
  });

  it('refuses a target that names no line of the run', () => {
    assert.throws(() => judge([{ line: relay, value: 1 }]), /names "raw drain"/);
  });
});

describe('plan', () => {
  for (const mode of ['quick', 'full'] as const) {
    it(`${mode}: every throughput and latency target is a ratio to a line of the same run`, () => {
      const lines = measurementsFor(mode).flatMap((m) => m.lines);
      const keys = new Set(lines.flatMap((line) => (line.key ? [line.key] : [])));
      const targeted = lines.filter((line) => line.target !== undefined);
      assert.ok(targeted.length >= 10);
      for (const line of targeted) {
        const target = line.target;
        if (target === undefined || 'limit' in target) {
          assert.ok(!['events/s', 'ms'].includes(line.unit), `${line.name} has a plain limit`);
          continue;
        }
        assert.ok(keys.has(target.of), `${line.name}: no line "${target.of}" in a ${mode} run`);
      }
    });
  }
});
