// A real Prometheus server (the Debian package's binary) in a temp dir on a free port, and its HTTP
// query API. Outside CI a missing binary skips the suite; in CI it fails it.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.ts';
import { freePort } from './free-port.ts';

const onPath = (command: string): boolean =>
  spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0;

/** Skip reason outside CI when a command is missing; in CI a missing command fails the suite. */
export const skipUnlessCommands = (...commands: string[]): false | string => {
  const missing = commands.filter((command) => !onPath(command));
  if (missing.length === 0) return false;
  const reason = `needs ${missing.join(', ')} on PATH (apt-get install ${missing.includes('prometheus') || missing.includes('promtool') ? 'prometheus' : missing.join(' ')})`;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`CI: ${reason}`);
  return reason;
};

export type QueryResult = {
  readonly status: string;
  readonly error?: string;
  readonly data?: {
    readonly resultType: string;
    readonly result: Array<{ metric: Record<string, string>; value: [number, string] }>;
  };
};

export type PrometheusServer = {
  readonly url: string;
  query(expr: string): Promise<QueryResult>;
  /** GET /api/v1/<path> as JSON. */
  api(path: string): Promise<Record<string, unknown>>;
  output(): string;
  stop(): Promise<void>;
};

/** Starts Prometheus on `configYaml` (rule files must be absolute paths) and waits until ready. */
export const startPrometheus = async (configYaml: string): Promise<PrometheusServer> => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, configYaml);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited: ${output.slice(-800)}`);
        return (await fetch(`${url}/-/ready`)).ok;
      },
      30_000,
      { message: 'prometheus /-/ready', intervalMs: 100 },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const api = async (path: string): Promise<Record<string, unknown>> =>
    (await (await fetch(`${url}/api/v1/${path}`)).json()) as Record<string, unknown>;
  return {
    url,
    query: async (expr) => (await api(`query?query=${encodeURIComponent(expr)}`)) as QueryResult,
    api,
    output: () => output,
    stop,
  };
};
