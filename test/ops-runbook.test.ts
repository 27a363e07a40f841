// ops/RUNBOOK.md cannot drift from the code: every `bash runnable` block runs, in order, against a
// local-mode stack (built bundles, a temp SQLite file, Prometheus scraping it) after dead letters,
// failures and lag were provoked; its example JSON has the keys the live endpoints answer with; every
// mm-* command line in any block uses subcommands and flags the binaries have; every alert's
// runbook_url points at a heading of the runbook.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { type BinaryName, bundlePath } from './helpers/binaries.ts';
import { eventually } from './helpers/eventually.ts';
import {
  dlqBacklog,
  faultyConsumer,
  getJson,
  holdConsumer,
  type LocalStack,
  oversizedUser,
  RELAY_MAX_EVENT_BYTES,
  startLocalStack,
} from './helpers/local-stack.ts';
import {
  alertRules,
  fencedBlocks,
  headingAnchors,
  opsPath,
  ROOT,
  readOps,
  runnableBlocks,
} from './helpers/ops-files.ts';
import { type PrometheusServer, skipUnlessCommands, startPrometheus } from './helpers/prometheus.ts';

const BINARIES: readonly BinaryName[] = ['mm-backend', 'mm-relay', 'mm-consumer', 'mm-dlq'];
const runbook = readOps('RUNBOOK.md');
const blocks = runnableBlocks(runbook);

type Ran = { readonly code: number | null; readonly output: string };

const runBlock = (body: string, cwd: string, env: NodeJS.ProcessEnv): Promise<Ran> =>
  new Promise((resolve) => {
    const child = spawn('bash', ['-eo', 'pipefail', '-c', body], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });

const topLevelKeys = (value: unknown): string[] => Object.keys(value as Record<string, unknown>).sort();

describe('ops/RUNBOOK.md, statically', () => {
  it('documents its runnable convention at the top and has runnable blocks in every part', () => {
    const intro = runbook.slice(0, runbook.indexOf('## Health Check Endpoints'));
    assert.match(intro, /`bash runnable`/);
    assert.ok(blocks.length >= 25, `runnable blocks: ${blocks.length}`);
    const headings = new Set(blocks.map((b) => b.heading));
    for (const heading of [
      'Consumer Services (`localhost:8081`, `localhost:8082`)',
      'Prometheus Integration',
      'DLQ Tool Usage',
      'DLQ Alerting',
      'Recovery Procedures',
      'Database Setup',
      'Cleanup',
      'Log-Based Monitoring',
      'Daily Checks',
      'Weekly Maintenance',
      'High Consumer Lag',
      'DLQ Spike',
      'Service Health Degraded',
      'Event Replay Testing',
      'Idempotency Testing',
      'Consumer Not Processing',
      'High Memory Usage',
      'Processing Failures',
    ]) {
      assert.ok(headings.has(heading), `a runnable block under "${heading}"`);
    }
  });

  it("keeps every section of the operators' runbook", () => {
    const anchors = headingAnchors(runbook);
    for (const anchor of [
      'health-check-endpoints',
      'metrics-collection',
      'prometheus-integration',
      'dlq-dead-letter-queue-management',
      'dlq-alerting',
      'recovery-procedures',
      'idempotency--event-ledger',
      'monitoring-dashboards',
      'log-based-monitoring',
      'dashboard-queries',
      'operational-procedures',
      'incident-response',
      'recovery-drills',
      'redis-failure-recovery',
      'event-replay-testing',
      'idempotency-testing',
      'troubleshooting',
    ]) {
      assert.ok(anchors.has(anchor), `section #${anchor}`);
    }
    assert.doesNotMatch(runbook, /dlq_tool\.py|docker compose stop redis\b|psql -d markdown_manager -f/);
  });

  it("every alert's runbook_url names a heading of the runbook", () => {
    const anchors = headingAnchors(runbook);
    for (const rule of alertRules()) {
      const url = rule.annotations?.runbook_url ?? '';
      const [file, anchor] = url.split('#');
      assert.equal(file, 'ops/RUNBOOK.md', `${rule.alert}: ${url}`);
      assert.ok(anchors.has(anchor ?? ''), `${rule.alert}: #${anchor} is a heading`);
      assert.ok(runbook.includes(`\`${rule.alert}\``), `${rule.alert} is named in the runbook`);
    }
  });

  it('every mm-* command in any shell block uses subcommands and flags the built binaries have', () => {
    const helpOf = new Map<string, string>();
    const help = (binary: string, command: string): string => {
      const key = `${binary} ${command}`;
      if (!helpOf.has(key)) {
        const result = spawnSync(process.execPath, [bundlePath(binary as BinaryName), command, '--help'], {
          encoding: 'utf8',
        });
        helpOf.set(key, result.status === 0 ? result.stdout : '');
      }
      return helpOf.get(key) ?? '';
    };
    let checked = 0;
    for (const block of fencedBlocks(runbook).filter((b) => /^(ba)?sh\b/.test(b.info))) {
      for (const line of block.body.split('\n')) {
        const match =
          /(?:^|[\s;(|&$])(?:\S*\/)?(mm-backend|mm-relay|mm-consumer|mm-dlq) +([a-z]+)\b(.*)$/.exec(line);
        if (!match || line.trim().startsWith('#') || /systemctl|journalctl|useradd|install /.test(line))
          continue;
        const [, binary, command, rest] = match as unknown as [string, string, string, string];
        const text = help(binary, command);
        assert.ok(
          text.startsWith(`Usage: ${binary} ${command}`),
          `line ${block.line}: ${binary} ${command} exists`,
        );
        const own =
          rest
            .replace(/"[^"]*"|'[^']*'/g, '')
            .replace(/#.*$/, '')
            .split(/[|)]/)[0] ?? '';
        for (const flag of own.match(/(?<=\s)--[a-z][a-z-]*/g) ?? []) {
          assert.ok(
            new RegExp(`\\s${flag}\\b`).test(text),
            `line ${block.line}: ${binary} ${command} ${flag}`,
          );
        }
        checked += 1;
      }
    }
    assert.ok(checked >= 30, `mm-* command lines checked: ${checked}`);
  });
});

describe('ops/RUNBOOK.md runnable blocks on a local-mode stack', {
  skip: skipUnlessCommands('bash', 'curl', 'jq', 'grep', 'sqlite3', 'promtool', 'prometheus'),
}, () => {
  let stack: LocalStack;
  let prometheus: PrometheusServer;
  let work: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    stack = await startLocalStack({
      relayArgs: ['--max-event-bytes', String(RELAY_MAX_EVENT_BYTES), '--max-attempts', '1'],
      consumers: [faultyConsumer('consumer-1', ['--lag-warn-s', '1'])],
    });
    const config = parse(readOps('prometheus/prometheus.yml')) as {
      global: Record<string, string>;
      rule_files: string[];
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
    };
    config.global = { scrape_interval: '1s', evaluation_interval: '1s' };
    config.rule_files = config.rule_files.map((file) => opsPath(`prometheus/${file}`));
    const ports: Record<string, number[]> = {
      'mm-backend': [stack.backend.port],
      'mm-relay': [stack.relay.port],
      'mm-consumer': stack.consumers.map((c) => c.port),
    };
    for (const job of config.scrape_configs) {
      job.static_configs = [{ targets: (ports[job.job_name] ?? []).map((p) => `127.0.0.1:${p}`) }];
    }
    prometheus = await startPrometheus(stringify(config));

    // What the blocks look at: users, dead letters of both stages, failures, lag and degraded health.
    for (let i = 0; i < 10; i += 1) await stack.createUser({ email: `user${i}@example.com` });
    for (let i = 0; i < 3; i += 1) await stack.createUser(oversizedUser());
    for (let i = 0; i < 2; i += 1)
      await stack.createUser({ email: `fail${i}@example.com`, display_name: `fail ${i}` });
    await eventually(async () => (await dlqBacklog(stack)) === 5, 15_000, { message: 'five dead letters' });
    const consumer = stack.consumers[0];
    assert.ok(consumer);
    const gate = join(stack.dir, 'gate');
    await holdConsumer(stack, gate);
    await consumer.waitForLog(/consumer markdown-lint-consumer lag \d+\.\ds on identity/, 10_000);
    await eventually(
      async () => (await getJson(`${consumer.url}/health/detailed`)).status === 'degraded',
      5_000,
    );
    rmSync(gate);
    await eventually(
      async () => (await getJson(`${consumer.url}/health/detailed`)).status === 'healthy',
      10_000,
    );
    await eventually(async () => (await prometheus.query('dlq_backlog')).data?.result.length === 1, 10_000);

    // The binaries under the names the runbook uses, and a working directory with ops/ in it.
    work = mkdtempSync(join(tmpdir(), 'mm-runbook-'));
    const bin = join(work, 'bin');
    mkdirSync(bin);
    for (const name of BINARIES) {
      writeFileSync(join(bin, name), `#!/bin/sh\nexec "${process.execPath}" "${bundlePath(name)}" "$@"\n`);
      chmodSync(join(bin, name), 0o755);
    }
    symlinkSync(join(ROOT, 'ops'), join(work, 'ops'));
    const {
      DATABASE_URL: _d,
      REDIS_URL: _r,
      MM_KEY_PREFIX: _k,
      MM_LOG_FILE: _f,
      MM_PORT: _p,
      ...inherited
    } = process.env;
    env = {
      ...inherited,
      PATH: `${bin}:${process.env.PATH}`,
      MM_LOCAL: stack.file,
      BACKEND: `127.0.0.1:${stack.backend.port}`,
      RELAY: `127.0.0.1:${stack.relay.port}`,
      CONSUMER: `127.0.0.1:${consumer.port}`,
      PROMETHEUS: prometheus.url,
      MM_LOG_DIR: stack.logDir,
      NO_COLOR: '1',
    };
  });
  after(async () => {
    await prometheus?.stop();
    await stack?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('example JSON has the keys the live endpoints answer with', async () => {
    const urls: Record<string, string> = {
      backend: stack.backend.url,
      relay: stack.relay.url,
      consumer: stack.consumers[0]?.url ?? '',
    };
    const examples = fencedBlocks(runbook).filter((b) => b.comment?.startsWith('example of GET '));
    assert.ok(examples.length >= 4, 'examples of the metrics and health views');
    for (const example of examples) {
      const [service, path] = (example.comment ?? '').replace('example of GET ', '').split(' ');
      const live = await getJson(`${urls[service ?? '']}${path}`);
      assert.deepEqual(
        topLevelKeys(JSON.parse(example.body)),
        topLevelKeys(live),
        `line ${example.line}: ${service} ${path}`,
      );
    }
  });

  for (const block of blocks) {
    it(`runs the block at line ${block.line} (${block.heading})`, async () => {
      const { code, output } = await runBlock(block.body, work, env);
      assert.equal(
        code,
        0,
        `block at line ${block.line} exited ${code}:\n${block.body}\n--- output ---\n${output.slice(-3000)}`,
      );
    });
  }
});
