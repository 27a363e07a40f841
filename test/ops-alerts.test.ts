// The alert rules: promtool checks them and runs their unit tests (ops/prometheus/alerts.test.yml);
// every alert the runbook asks for exists with a summary, a description and a runbook section; every
// alert has a case where it fires and one where it stays quiet, and breaking an alert breaks its test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { alertRules, opsPath, readOps } from './helpers/ops-files.ts';
import { skipUnlessPromtool } from './helpers/promtool.ts';

type RuleTest = {
  name: string;
  alert_rule_test?: Array<{ alertname: string; eval_time: string; exp_alerts: unknown[] }>;
};

const promtool = (...args: string[]): { code: number | null; output: string } => {
  const result = spawnSync('promtool', args, { encoding: 'utf8' });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
};

describe('alert rules, statically', () => {
  it('has the alerts the runbook asks for, on the series the services emit', () => {
    const byName = new Map(alertRules().map((rule) => [rule.alert, rule]));
    const expect = (name: string, ...parts: string[]): void => {
      const rule = byName.get(name);
      assert.ok(rule, `alert ${name}`);
      for (const part of parts) assert.ok(rule.expr.includes(part), `${name}: ${rule.expr} has ${part}`);
    };
    expect('ConsumerLagHigh', 'consumer_lag_seconds', 'consumer_group', '> 60');
    expect('DeadLetterFirstInWindow', 'increase(events_dlq_total[10m])', '> 0');
    expect('DlqBacklogHigh', 'dlq_backlog', '> 50');
    expect('ProcessingErrorRateHigh', 'events_processed_failure', 'events_consumed_total', '* 100 > 5');
    expect('OutboxBacklogHigh', 'outbox_backlog', '> 1000');
    expect('OutboxStale', 'outbox_oldest_age_seconds');
    expect('OutboxPartitionsUnowned', 'sum(relay_partitions_owned)', 'max(relay_partitions)', '<');
    expect('ServiceDown', 'up{job=~"mm-.*"}', '== 0');
    expect('UnconsumedEntriesTrimmed', 'stream_trimmed_unconsumed_total', 'group');
    expect('StreamNearHardLimit', 'stream_hard_limit_fill_ratio', 'group', '>= 0.8');
    expect('ConsumerGroupDead', 'consumer_group_dead', 'group');
  });

  it('gives every alert a severity, a summary, a description and a runbook section', () => {
    for (const rule of alertRules()) {
      assert.match(rule.labels?.severity ?? '', /^(warning|critical)$/, rule.alert);
      for (const key of ['summary', 'description', 'runbook_url']) {
        assert.ok((rule.annotations?.[key] ?? '').length > 10, `${rule.alert}: ${key}`);
      }
      assert.match(rule.annotations?.runbook_url ?? '', /^ops\/RUNBOOK\.md#[a-z0-9-]+$/, rule.alert);
    }
  });

  it('tests every alert firing and staying quiet', () => {
    const tests = (parse(readOps('prometheus/alerts.test.yml')) as { tests: RuleTest[] }).tests;
    const cases = tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const rule of alertRules()) {
      const own = cases.filter((c) => c.alertname === rule.alert);
      assert.ok(
        own.some((c) => c.exp_alerts.length > 0),
        `${rule.alert} has a case where it fires`,
      );
      assert.ok(
        own.some((c) => c.exp_alerts.length === 0),
        `${rule.alert} has a case where it stays quiet`,
      );
    }
  });
});

describe('alert rules under promtool', { skip: skipUnlessPromtool() }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mm-alerts-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('promtool check rules: every rule parses', () => {
    const { code, output } = promtool('check', 'rules', opsPath('prometheus/alerts.yml'));
    assert.equal(code, 0, output);
    assert.match(output, new RegExp(`SUCCESS: ${alertRules().length} rules found`));
  });

  it('promtool test rules: each alert fires when it should and stays quiet when it should not', () => {
    const { code, output } = promtool('test', 'rules', opsPath('prometheus/alerts.test.yml'));
    assert.equal(code, 0, output);
    assert.match(output, /SUCCESS/);
  });

  it('the unit tests catch an alert that never fires, and one that always fires', () => {
    copyFileSync(opsPath('prometheus/alerts.test.yml'), join(dir, 'alerts.test.yml'));
    const original = parse(readOps('prometheus/alerts.yml')) as {
      groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
    };
    for (const rule of alertRules()) {
      for (const [mutation, expr] of [
        ['never fires', 'vector(0) > 1'],
        ['always fires', 'vector(1)'],
      ] as const) {
        const mutated = structuredClone(original);
        for (const group of mutated.groups)
          for (const r of group.rules) if (r.alert === rule.alert) r.expr = expr;
        writeFileSync(join(dir, 'alerts.yml'), stringify(mutated));
        const { code } = promtool('test', 'rules', join(dir, 'alerts.test.yml'));
        assert.notEqual(code, 0, `${rule.alert} ${mutation}: promtool test rules still passes`);
      }
    }
  });
});
