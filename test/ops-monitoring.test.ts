// The monitoring files: ops/prometheus/prometheus.yml (jobs, ports, rules; promtool check config) and
// the Grafana dashboard (a valid dashboard holding the runbook's queries as written).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { dashboard, dashboardQueries, opsPath, promqlQueries, readOps } from './helpers/ops-files.ts';
import { skipUnlessPromtool } from './helpers/promtool.ts';

describe('ops/prometheus/prometheus.yml', () => {
  it('scrapes backend, relay and both consumers on the runbook ports, with the alert rules', () => {
    const config = parse(readOps('prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: Array<{
        job_name: string;
        metrics_path: string;
        static_configs: Array<{ targets: string[] }>;
      }>;
    };
    assert.deepEqual(config.rule_files, ['alerts.yml']);
    assert.deepEqual(
      Object.fromEntries(
        config.scrape_configs.map((job) => {
          assert.equal(job.metrics_path, '/metrics/prometheus', job.job_name);
          return [job.job_name, job.static_configs.flatMap((s) => s.targets)];
        }),
      ),
      {
        'mm-backend': ['127.0.0.1:8000'],
        'mm-relay': ['127.0.0.1:8080'],
        'mm-consumer': ['127.0.0.1:8081', '127.0.0.1:8082'],
      },
    );
  });

  it('promtool check config accepts both scrape configs', { skip: skipUnlessPromtool() }, () => {
    for (const file of ['prometheus/prometheus.yml', 'prometheus/compose-prometheus.yml']) {
      const result = spawnSync('promtool', ['check', 'config', opsPath(file)], { encoding: 'utf8' });
      assert.equal(result.status, 0, `${file}: ${result.stdout}${result.stderr}`);
    }
  });
});

describe('ops/grafana/mm-dashboard.json', () => {
  const board = dashboard();

  it('is a Grafana dashboard: schemaVersion, uid, a Prometheus data source variable', () => {
    assert.equal(typeof board.schemaVersion, 'number');
    assert.ok(board.schemaVersion >= 30);
    assert.match(board.uid, /^[a-z0-9-]{1,40}$/);
    assert.ok(board.title.length > 0);
    assert.deepEqual(
      board.templating.list.map((v) => [v.name, v.type, v.query]),
      [['datasource', 'datasource', 'prometheus']],
    );
  });

  it('has panels with ids, places that do not overlap, the data source and PromQL targets', () => {
    const ids = new Set<number>();
    const cells = new Set<string>();
    for (const panel of board.panels) {
      assert.ok(!ids.has(panel.id), `panel id ${panel.id} is unique`);
      ids.add(panel.id);
      assert.ok(['timeseries', 'stat'].includes(panel.type), panel.title);
      // The data source variable of the templating list, as Grafana writes it.
      assert.deepEqual(panel.datasource, { type: 'prometheus', uid: '$' + '{datasource}' }, panel.title);
      const { x, y, w, h } = panel.gridPos;
      assert.ok(x >= 0 && w > 0 && x + w <= 24 && h > 0 && y >= 0, `${panel.title} fits the 24-column grid`);
      for (let col = x; col < x + w; col += 1) {
        for (let row = y; row < y + h; row += 1) {
          assert.ok(!cells.has(`${col},${row}`), `${panel.title} overlaps another panel`);
          cells.add(`${col},${row}`);
        }
      }
      assert.ok(panel.targets.length > 0, panel.title);
      assert.equal(new Set(panel.targets.map((t) => t.refId)).size, panel.targets.length, panel.title);
      for (const target of panel.targets) assert.ok(target.expr.trim().length > 0, panel.title);
    }
  });

  it("holds the runbook's Grafana queries as written, plus DLQ backlog and end-to-end latency p99", () => {
    const runbook = readOps('RUNBOOK.md');
    const grafanaSection = runbook.slice(runbook.indexOf('#### Grafana Dashboard Queries'));
    const grafana = promqlQueries(grafanaSection.slice(0, grafanaSection.indexOf('\n## ')));
    for (const query of [
      'sum(rate(events_published_total[5m])) by (topic)',
      'max(consumer_lag_seconds) by (consumer_group)',
      '(sum(rate(events_processed_failure[5m])) / sum(rate(events_consumed_total[5m]))) * 100',
      'max(outbox_backlog)',
    ]) {
      assert.ok(grafana.includes(query), `the runbook lists ${query}`);
    }
    const queries = dashboardQueries();
    for (const query of grafana) assert.ok(queries.includes(query), `the dashboard has ${query}`);
    assert.ok(queries.some((q) => q.includes('dlq_backlog')));
    assert.ok(
      queries.some((q) => /^histogram_quantile\(0\.99, .*event_end_to_end_latency_seconds_bucket/.test(q)),
    );
  });
});
