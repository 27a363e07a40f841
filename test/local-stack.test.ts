// `mm-backend stack` (what `npm start` runs): backend, relay and consumer in one process on a local
// file, no Postgres or Redis; --demo makes health, metrics and `mm-dlq report` show real dead letters;
// Ctrl-C drains and exits 0.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { bundlePath, runBinary } from './helpers/binaries.ts';
import { eventually } from './helpers/eventually.ts';
import { freePort } from './helpers/free-port.ts';

const env = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', REDIS_URL: 'redis://127.0.0.1:1' };

type Stack = { child: ChildProcess; output: () => string; exited: Promise<number | null> };

const startStack = (args: readonly string[]): Stack => {
  const child = spawn(process.execPath, [bundlePath('mm-backend'), 'stack', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
};

const getJson = async (url: string): Promise<{ status: number; body: Record<string, unknown> }> => {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

describe('mm-backend stack: the three services in one local process', () => {
  let dir: string;
  let file: string;
  const started: Stack[] = [];
  const servers: Server[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mm-stack-'));
    file = join(dir, 'mm-local.db');
  });

  afterEach(() => {
    const left = started.splice(0).filter((s) => s.child.exitCode === null && s.child.signalCode === null);
    for (const stack of left) stack.child.kill('SIGKILL');
    for (const server of servers.splice(0)) server.close();
    rmSync(dir, { recursive: true, force: true });
    assert.equal(left.length, 0, 'a started stack was left running');
  });

  it('serves health and metrics on each port, shows the demo dead letters, and stops on Ctrl-C', async () => {
    const [backend, relay, consumer] = [await freePort(), await freePort(), await freePort()];
    const stack = startStack([
      '--local',
      file,
      '--demo',
      '--backend-port',
      String(backend),
      '--relay-port',
      String(relay),
      '--consumer-port',
      String(consumer),
    ]);
    started.push(stack);
    await eventually(() => /mm is running in local mode/.test(stack.output()), 15_000, { message: 'banner' });
    assert.match(stack.output(), new RegExp(`backend +http://127\\.0\\.0\\.1:${backend}`));
    assert.match(stack.output(), /mm-dlq\.mjs report --hours 24 --local /);

    const urls = { backend, relay, consumer };
    for (const [service, port] of Object.entries(urls)) {
      const base = `http://127.0.0.1:${port}`;
      const live = await getJson(`${base}/health`);
      assert.equal(live.status, 200);
      assert.equal(live.body.service, service);
      const detailed = await getJson(`${base}/health/detailed`);
      assert.equal(detailed.body.service, service);
      assert.equal((detailed.body.checks as Record<string, { kind?: string }>).database?.kind, 'sqlite');
      const prometheus = await fetch(`${base}/metrics/prometheus`);
      assert.equal(prometheus.status, 200);
      assert.match(await prometheus.text(), /^# HELP /m);
    }
    const backendMetrics = await getJson(`http://127.0.0.1:${backend}/monitoring/metrics`);
    assert.equal((backendMetrics.body.outbox_rows_written_total as Record<string, number>).identity, 7);

    // Both dead letters arrive within seconds: one from the relay, one from the consumer.
    await eventually(() => /demo: now try/.test(stack.output()), 30_000, { message: 'demo dead letters' });
    const report = await runBinary('mm-dlq', ['report', '--local', file, '--json'], { env });
    assert.equal(report.code, 0, report.stderr);
    const stages = (
      JSON.parse(report.stdout) as { streams: Array<{ by_stage: Array<{ stage: string; open: number }> }> }
    ).streams[0]?.by_stage.map((s) => [s.stage, s.open]);
    assert.deepEqual(stages?.sort(), [
      ['consumer', 1],
      ['relay', 1],
    ]);
    const relayMetrics = await getJson(`http://127.0.0.1:${relay}/metrics`);
    assert.deepEqual(relayMetrics.body.events_dlq_total, { identity: 1 });
    const consumerMetrics = await getJson(`http://127.0.0.1:${consumer}/metrics`);
    assert.deepEqual(consumerMetrics.body.events_dlq_total, { identity: 1 });
    assert.ok(Number(consumerMetrics.body.events_processed_success) >= 7);

    stack.child.kill('SIGINT');
    assert.equal(await stack.exited, 0, stack.output().slice(-2_000));
    assert.match(stack.output(), /stopped: backend, relay and consumer drained and closed/);
    const db = new Database(file, { readonly: true });
    try {
      const profiles = db.prepare('SELECT count(*) AS n FROM lint_profiles').get() as { n: number };
      assert.equal(profiles.n, 5, 'the five demo users have profiles (one renamed, one disabled)');
    } finally {
      db.close();
    }
  });

  it('npm start: runs the stack, and Ctrl-C (to the whole process group) drains it and exits 0', async () => {
    const [backend, relay, consumer] = [await freePort(), await freePort(), await freePort()];
    const root = fileURLToPath(new URL('..', import.meta.url));
    // Its own process group, so the SIGINT reaches npm, the shell and the stack like a terminal's Ctrl-C.
    const npm = spawn('npm', ['start', '--', '--local', file], {
      cwd: root,
      detached: true,
      env: {
        ...process.env,
        ...env,
        MM_BACKEND_PORT: String(backend),
        MM_RELAY_PORT: String(relay),
        MM_CONSUMER_PORT: String(consumer),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    npm.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    npm.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    started.push({ child: npm, output: () => output, exited });
    await eventually(() => /Ctrl-C stops all three/.test(output), 30_000, { message: 'npm start banner' });
    assert.equal((await getJson(`http://127.0.0.1:${consumer}/health`)).status, 200);
    process.kill(-(npm.pid ?? 0), 'SIGINT');
    assert.equal(await exited, 0, output.slice(-2_000));
    assert.match(output, /stopped: backend, relay and consumer drained and closed/);
  });

  it('names the flag to use when a port is taken, and exits 69 as every service does', async () => {
    const busy = createServer();
    servers.push(busy);
    const taken = await new Promise<number>((resolve) =>
      busy.listen(0, '127.0.0.1', () => resolve((busy.address() as { port: number }).port)),
    );
    const stack = startStack([
      '--local',
      file,
      '--backend-port',
      String(await freePort()),
      '--relay-port',
      String(taken),
      '--consumer-port',
      String(await freePort()),
    ]);
    started.push(stack);
    assert.equal(await stack.exited, 69);
    assert.match(
      stack.output(),
      new RegExp(
        `relay cannot listen on port ${taken} .*the address is in use by another process.*use --relay-port`,
      ),
    );
  });
});
