// A real Prometheus (the Debian binary) scrapes backend, relay and two consumers in local mode with
// ops/prometheus/prometheus.yml's jobs and alerts.yml's rules; after traffic and dead letters, every
// PromQL query of ops/RUNBOOK.md and of the Grafana dashboard returns data, every alert expression
// evaluates (and the series behind it exist), and the first-dead-letter alert really fires.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { addBackdatedEntry } from './helpers/backdated-entry.ts';
import { userEvent } from './helpers/consumer-events.ts';
import { eventually } from './helpers/eventually.ts';
import {
  FAULT_GATE,
  faultyConsumer,
  getJson,
  type LocalStack,
  oversizedUser,
  RELAY_MAX_EVENT_BYTES,
  startLocalStack,
} from './helpers/local-stack.ts';
import {
  alertOperands,
  alertRules,
  dashboardQueries,
  opsPath,
  promqlQueries,
  readOps,
} from './helpers/ops-files.ts';
import { type PrometheusServer, skipUnlessCommands, startPrometheus } from './helpers/prometheus.ts';
import { promtoolAccepts } from './helpers/promtool.ts';

const LAG_TOPIC = 'lagprobe';
const LAG_GROUP = 'lag-probe';

type ScrapeConfig = { job_name: string; static_configs: Array<{ targets: string[] }> };

/** ops/prometheus/prometheus.yml with a 1 s interval, absolute rule files and the stack's ports. */
const prometheusConfig = (targets: Record<string, string[]>): string => {
  const config = parse(readOps('prometheus/prometheus.yml')) as {
    global: Record<string, string>;
    rule_files: string[];
    scrape_configs: ScrapeConfig[];
  };
  config.global = { ...config.global, scrape_interval: '1s', evaluation_interval: '1s' };
  config.rule_files = config.rule_files.map((file) => opsPath(`prometheus/${file}`));
  for (const job of config.scrape_configs) {
    const wanted = targets[job.job_name];
    if (!wanted) throw new Error(`prometheus.yml scrapes a job the test does not know: ${job.job_name}`);
    job.static_configs = [{ targets: wanted }];
  }
  assert.deepEqual(
    config.scrape_configs.map((job) => job.job_name).sort(),
    Object.keys(targets).sort(),
    'prometheus.yml scrapes backend, relay and consumers',
  );
  return stringify(config);
};

describe('Prometheus on a local-mode stack', { skip: skipUnlessCommands('prometheus', 'promtool') }, () => {
  let stack: LocalStack;
  let prometheus: PrometheusServer;

  before(async () => {
    stack = await startLocalStack({
      relayArgs: ['--max-event-bytes', String(RELAY_MAX_EVENT_BYTES), '--max-attempts', '1'],
      consumers: [
        faultyConsumer('consumer-1'),
        {
          name: LAG_GROUP,
          // Its handler fails the entry: it stays pending (redelivered only after 30 s), no
          // transaction stays open, so the SQLite file is free for the other writers.
          args: [
            '--group',
            LAG_GROUP,
            '--topics',
            LAG_TOPIC,
            '--handler',
            FAULT_GATE,
            '--block-ms',
            '100',
            '--max-deliveries',
            '1000',
          ],
        },
      ],
      // An entry that has waited two minutes and fails: lag over the 60 s threshold.
      beforeStart: (file) => {
        addBackdatedEntry(
          file,
          LAG_TOPIC,
          120_000,
          userEvent({ topic: LAG_TOPIC, headers: { fail_until_delivery: '1000000' } }).fields,
        );
      },
    });
    const at = (port: number): string => `127.0.0.1:${port}`;
    prometheus = await startPrometheus(
      prometheusConfig({
        'mm-backend': [at(stack.backend.port)],
        'mm-relay': [at(stack.relay.port)],
        'mm-consumer': stack.consumers.map((c) => at(c.port)),
      }),
    );
  });

  after(async () => {
    await prometheus?.stop();
    await stack?.stop();
  });

  const resultCount = async (expr: string): Promise<number> => {
    const answer = await prometheus.query(expr);
    assert.equal(answer.status, 'success', `${expr}: ${answer.error}`);
    return answer.data?.result.length ?? 0;
  };
  const values = async (expr: string): Promise<Array<{ labels: Record<string, string>; value: number }>> =>
    ((await prometheus.query(expr)).data?.result ?? []).map((r) => ({
      labels: r.metric,
      value: Number(r.value[1]),
    }));

  it('answers every runbook and dashboard query, and evaluates every alert, from real scrapes', async () => {
    // Every target scraped at least once before anything moves, so increase() sees the counters rise.
    await eventually(async () => (await resultCount('up{job=~"mm-.*"} == 1')) === 4, 20_000, {
      message: 'four targets up',
    });
    const [bad] = await Promise.all([
      stack.createUser({ email: 'fail@example.com', display_name: 'fail on purpose' }),
      stack.createUser(oversizedUser()),
      ...Array.from({ length: 20 }, (_, i) =>
        stack.createUser({ email: `user${i}@example.com`, display_name: `User ${i}` }),
      ),
    ]);
    const [relay, consumer] = [stack.relay, stack.consumers[0]];
    assert.ok(bad && relay && consumer);
    await eventually(
      async () =>
        ((await getJson(`${relay.url}/metrics`)).events_dlq_total as Record<string, number>).identity === 1,
      10_000,
      { message: 'the relay dead-letters the oversized event' },
    );
    await eventually(
      async () =>
        ((await getJson(`${consumer.url}/metrics`)).events_dlq_total as Record<string, number>).identity ===
        1,
      10_000,
      { message: 'the consumer dead-letters the failing event' },
    );

    const runbook = promqlQueries(readOps('RUNBOOK.md'));
    const dashboard = dashboardQueries();
    assert.ok(runbook.length >= 8, `the runbook's PromQL blocks hold its queries (${runbook.length})`);
    assert.ok(dashboard.length >= 6, 'the dashboard has its panels');
    const queries = [...new Set([...runbook, ...dashboard])];
    const empty = async (): Promise<string[]> => {
      const counts = await Promise.all(queries.map(resultCount));
      return queries.filter((_, i) => counts[i] === 0);
    };
    let missing: string[] = [];
    await eventually(
      async () => {
        missing = await empty();
        return missing.length === 0;
      },
      20_000,
      { message: 'every query returns data' },
    ).catch(() => assert.deepEqual(missing, [], 'queries that returned no data'));

    for (const rule of alertRules()) {
      await resultCount(rule.expr); // parses and evaluates
      for (const series of alertOperands(rule.expr)) {
        assert.ok((await resultCount(series)) > 0, `${rule.alert}: ${series} has data`);
      }
    }

    // The values behind the queries are the stack's own.
    assert.deepEqual(await values('dlq_backlog'), [
      {
        labels: {
          __name__: 'dlq_backlog',
          instance: `127.0.0.1:${stack.backend.port}`,
          job: 'mm-backend',
          topic: 'identity',
        },
        value: 2,
      },
    ]);
    const lagging = await values('consumer_lag_seconds > 60');
    assert.deepEqual(
      lagging.map((s) => s.labels.consumer_group),
      [LAG_GROUP],
      'only the held group is over 60 s',
    );
    const stages = (await values('increase(events_dlq_total[10m]) > 0')).map((s) => s.labels.stage).sort();
    assert.deepEqual(stages, ['consumer', 'relay']);
    const published = await values('sum(rate(events_published_total[5m])) by (topic)');
    assert.deepEqual(
      published.map((s) => s.labels.topic),
      ['identity'],
    );
    assert.ok((published[0]?.value ?? 0) > 0, 'events were published');

    const rules = (await prometheus.api('rules')) as {
      data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> };
    };
    const ruleStates = rules.data.groups.flatMap((g) => g.rules);
    assert.equal(ruleStates.length, alertRules().length);
    for (const rule of ruleStates) assert.equal(rule.health, 'ok', `${rule.name}: ${rule.lastError}`);
    await eventually(
      async () => {
        const alerts = (await prometheus.api('alerts')) as {
          data: { alerts: Array<{ labels: Record<string, string>; state: string }> };
        };
        const firing = alerts.data.alerts
          .filter((a) => a.labels.alertname === 'DeadLetterFirstInWindow' && a.state === 'firing')
          .map((a) => `${a.labels.topic}/${a.labels.stage}`)
          .sort();
        return firing.join(',') === 'identity/consumer,identity/relay';
      },
      10_000,
      { message: 'DeadLetterFirstInWindow fires for both stages' },
    );
  });

  it('serves exposition text that promtool accepts on every service', async () => {
    for (const service of [stack.backend, stack.relay, ...stack.consumers]) {
      const response = await fetch(`${service.url}/metrics/prometheus`);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      promtoolAccepts(await response.text());
    }
  });
});
