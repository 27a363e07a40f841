// Runs the built bundles (dist/*.mjs) as a user would: subprocesses with flags, logs and signals;
// also under Deno, or a single executable (dist/bin/*) in a directory of its own.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { eventually } from './eventually.ts';
import { freePort } from './free-port.ts';

export type BinaryName = 'mm-backend' | 'mm-relay' | 'mm-consumer' | 'mm-dlq';

export const bundlePath = (name: BinaryName): string => {
  const path = fileURLToPath(new URL(`../../dist/${name}.mjs`, import.meta.url));
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build first`);
  return path;
};

const deno = fileURLToPath(new URL('../../node_modules/.bin/deno', import.meta.url));

/** How to start a binary: `node dist/<name>.mjs` unless told otherwise. */
export type Launch = {
  /** `deno run -A dist/<name>.mjs`, or this file (a single executable) with no interpreter. */
  readonly via?: 'deno' | { readonly executable: string };
  /** A copy of the bundle to run instead of dist/<name>.mjs (under node or Deno). */
  readonly bundle?: string;
  readonly cwd?: string;
  /** Pass only `env`, inherit nothing (like `env -i`). */
  readonly cleanEnv?: boolean;
};

const commandFor = (name: BinaryName, launch: Launch): { file: string; args: string[] } => {
  const bundle = launch.bundle ?? bundlePath(name);
  if (launch.via === 'deno') return { file: deno, args: ['run', '-A', '--quiet', bundle] };
  if (launch.via) return { file: launch.via.executable, args: [] };
  return { file: process.execPath, args: [bundle] };
};

const environment = (launch: Launch, env: Record<string, string> | undefined): NodeJS.ProcessEnv =>
  launch.cleanEnv ? { ...env } : { ...process.env, ...env };

const running = new Set<ChildProcess>();

export type RunningBinary = {
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  output(): string;
  /** Parsed JSON log lines (non-JSON lines are left out). */
  logLines(): Array<Record<string, unknown>>;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited(): Promise<number | null>;
};

export type StartOptions = Launch & {
  readonly env?: Record<string, string>;
  /** Waits for GET /health on the chosen port unless false. */
  readonly waitForHealth?: boolean;
  readonly port?: number;
};

export const startBinary = async (
  name: BinaryName,
  args: readonly string[],
  options: StartOptions = {},
): Promise<RunningBinary> => {
  const port = options.port ?? (await freePort());
  const command = commandFor(name, options);
  const child = spawn(command.file, [...command.args, ...args, '--port', String(port)], {
    env: environment(options, options.env),
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const binary: RunningBinary = {
    pid: child.pid ?? 0,
    port,
    url,
    output: () => output,
    logLines: () =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
    waitForLog: async (pattern, timeoutMs = 10_000) => {
      await eventually(() => pattern.test(output), timeoutMs, { message: `log line ${pattern}` });
    },
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exit;
    },
    exited: () => exit,
  };
  if (options.waitForHealth !== false) {
    await eventually(
      async () => {
        if (child.exitCode !== null)
          throw new Error(`${name} exited with ${child.exitCode}: ${output.slice(-500)}`);
        return (await fetch(`${url}/health`)).ok;
      },
      15_000,
      { message: `${name} /health`, intervalMs: 100 },
    );
  }
  return binary;
};

export type Completed = { readonly code: number | null; readonly stdout: string; readonly stderr: string };

export const runBinary = (
  name: BinaryName,
  args: readonly string[],
  options: Launch & { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): Promise<Completed> =>
  new Promise((resolve, reject) => {
    const command = commandFor(name, options);
    const child = spawn(command.file, [...command.args, ...args], {
      env: environment(options, options.env),
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} ${args.join(' ')} timed out; stderr: ${stderr.slice(-500)}`));
    }, options.timeoutMs ?? 60_000);
    // 'close', not 'exit': the output may still be in the pipes when the process has exited.
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });

/** For afterEach: fails when a test left a started binary running, then kills it. */
export const assertNoBinariesLeft = (): void => {
  const left = [...running];
  for (const child of left) child.kill('SIGKILL');
  running.clear();
  if (left.length > 0) throw new Error(`${left.length} started binaries were left running`);
};
