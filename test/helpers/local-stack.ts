// A local-mode stack of the built bundles on one temp SQLite file (backend, relay, consumers), each
// logging to its own file like /var/log/markdown-manager/*.log, plus the traffic that makes every
// runbook signal move: users, a relay dead letter, a failing handler, a held event (lag).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningBinary, runBinary, startBinary } from './binaries.ts';
import { eventually } from './eventually.ts';
import { type CreatedUser, postUser } from './users-api.ts';

export type { CreatedUser };

export const NAME_FAULTS = fileURLToPath(new URL('../../fixtures/handlers/name-faults.mjs', import.meta.url));
export const FAULT_GATE = fileURLToPath(new URL('../../fixtures/handlers/fault-gate.mjs', import.meta.url));

/** Fits every ordinary user event (about 450 bytes) and not `oversizedUser()` (about 800). */
export const RELAY_MAX_EVENT_BYTES = 700;

export type ConsumerSpec = { readonly name: string; readonly args: readonly string[] };

export type StackOptions = {
  readonly relayArgs?: readonly string[];
  /** The consumers to start, each logging to `<name>.log`; default: one, `consumer-1`. */
  readonly consumers?: readonly ConsumerSpec[];
  /** Runs before the services start, after the file was migrated. */
  readonly beforeStart?: (file: string) => Promise<void> | void;
};

export type LocalStack = {
  readonly dir: string;
  readonly file: string;
  readonly logDir: string;
  readonly backend: RunningBinary;
  readonly relay: RunningBinary;
  readonly consumers: readonly RunningBinary[];
  logFile(name: string): string;
  createUser(body: Record<string, unknown>): Promise<CreatedUser>;
  stop(): Promise<void>;
};

/** The consumer the runbook describes, with handler faults chosen by display name (fast retries). */
export const faultyConsumer = (name = 'consumer-1', extra: readonly string[] = []): ConsumerSpec => ({
  name,
  args: [
    '--handler',
    NAME_FAULTS,
    '--name',
    name,
    '--max-deliveries',
    '2',
    '--claim-idle-ms',
    '100',
    '--block-ms',
    '100',
    ...extra,
  ],
});

export const startLocalStack = async (options: StackOptions = {}): Promise<LocalStack> => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-stack-'));
  const file = join(dir, 'mm.db');
  const logDir = join(dir, 'log');
  mkdirSync(logDir);
  const logFile = (name: string): string => join(logDir, `${name}.log`);
  const started: RunningBinary[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((service) => service.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const migrated = await runBinary('mm-backend', ['migrate', '--local', file]);
    if (migrated.code !== 0) throw new Error(`migrate failed: ${migrated.stderr}`);
    await options.beforeStart?.(file);
    const local = ['--local', file];
    const start = async (name: Parameters<typeof startBinary>[0], args: string[]): Promise<RunningBinary> => {
      const service = await startBinary(name, args);
      started.push(service);
      return service;
    };
    const [backend, relay, ...consumers] = await Promise.all([
      start('mm-backend', ['serve', ...local, '--log-file', logFile('backend')]),
      start('mm-relay', ['run', ...local, '--log-file', logFile('relay'), ...(options.relayArgs ?? [])]),
      ...(options.consumers ?? [faultyConsumer()]).map((spec) =>
        start('mm-consumer', ['run', ...local, '--log-file', logFile(spec.name), ...spec.args]),
      ),
    ]);
    if (!backend || !relay) throw new Error('stack did not start');
    return {
      dir,
      file,
      logDir,
      backend,
      relay,
      consumers,
      logFile,
      createUser: (body) => postUser(backend.url, body),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
};

/** A user whose event is larger than RELAY_MAX_EVENT_BYTES: the relay dead-letters it. */
export const oversizedUser = (): Record<string, string> => ({
  email: `${'o'.repeat(150)}.${Date.now()}@example.com`,
  display_name: 'x'.repeat(200),
});

export const getJson = async (url: string): Promise<Record<string, unknown>> =>
  (await (await fetch(url)).json()) as Record<string, unknown>;

/** Open dead letters of `identity` as the backend reports them (dlq_backlog). */
export const dlqBacklog = async (stack: LocalStack): Promise<number> =>
  Number(
    ((await getJson(`${stack.backend.url}/monitoring/metrics`)).dlq_backlog as Record<string, number>)
      .identity,
  );

/**
 * Creates a user whose event the faulty consumer holds while `gate` exists, so lag grows; resolves
 * once the handler holds it. Remove the file to let it go.
 */
export const holdConsumer = async (stack: LocalStack, gate: string): Promise<CreatedUser> => {
  writeFileSync(gate, '');
  const user = await stack.createUser({
    email: `hold.${Date.now()}@example.com`,
    display_name: `hold ${gate}`,
  });
  await eventually(() => existsSync(`${gate}.entered`), 10_000, { message: 'the consumer holds the event' });
  return user;
};
