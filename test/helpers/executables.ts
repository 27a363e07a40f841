// The single executables (dist/bin/*): built when missing or older than the sources, and copied
// into directories that hold nothing else, to run as on a machine without Node; and the pipeline
// check both the executables and the Deno bundles pass.
import { execFile } from 'node:child_process';
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BinaryName, Launch } from './binaries.ts';
import { eventually } from './eventually.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

export const executablePath = (name: BinaryName): string => join(root, 'dist', 'bin', name);

/** `node build.mjs --bin --if-stale`: a no-op when dist/bin matches the sources. */
export const ensureExecutables = async (): Promise<void> => {
  await promisify(execFile)(process.execPath, ['build.mjs', '--bin', '--if-stale'], {
    cwd: root,
    timeout: 10 * 60_000,
  });
};

export type Sandbox = {
  /** The directory holding only the copied executables (and what they write). */
  readonly dir: string;
  /** HOME for the executables: empty, so the SQLite addon cache starts fresh. */
  readonly home: string;
  /** Launch options: run `./<name>` from `dir` with only PATH=/nonexistent and HOME. */
  launch(name: BinaryName, env?: Record<string, string>): Launch & { env: Record<string, string> };
  remove(): void;
};

export const createSandbox = (names: readonly BinaryName[]): Sandbox => {
  const base = mkdtempSync(join(tmpdir(), 'mm-exe-'));
  const dir = join(base, 'run');
  const home = join(base, 'home');
  mkdirSync(dir);
  mkdirSync(home);
  for (const name of names) {
    try {
      linkSync(executablePath(name), join(dir, name)); // 100 MB each: no copy when on one file system
    } catch {
      copyFileSync(executablePath(name), join(dir, name));
    }
  }
  return {
    dir,
    home,
    launch: (name, env = {}) => ({
      via: { executable: `./${name}` },
      cwd: dir,
      cleanEnv: true,
      env: { PATH: '/nonexistent', HOME: home, ...env },
    }),
    remove: () => rmSync(base, { recursive: true, force: true }),
  };
};

export const packageVersion = (): string =>
  (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

export const sqliteAddonFile = join(root, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node');

/** POSTs a user to mm-backend and waits until mm-consumer has consumed the event the relay published. */
export const expectWriteToReachConsumer = async (
  backendUrl: string,
  consumerUrl: string,
  email: string,
): Promise<void> => {
  const created = await fetch(`${backendUrl}/api/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email }),
  });
  if (created.status !== 201) throw new Error(`POST /api/users answered ${created.status}`);
  await eventually(
    async () => {
      const metrics = (await (await fetch(`${consumerUrl}/metrics`)).json()) as {
        events_consumed_total: Record<string, number>;
        events_processed_success: number;
      };
      return (metrics.events_consumed_total.identity ?? 0) >= 1 && metrics.events_processed_success >= 1;
    },
    20_000,
    { message: 'the user.created event consumed', intervalMs: 100 },
  );
};
