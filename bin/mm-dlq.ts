#!/usr/bin/env node
// mm-dlq: the dead-letter toolkit (list, inspect, reprocess, resolve, report, purge, export).
import { existsSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { type Command, Command as Program } from 'commander';
import { versionLine } from '../src/core/build-info.ts';
import { addSettings, createProgram, flagsOf, runCli } from '../src/core/cli.ts';
import { systemClock } from '../src/core/clock.ts';
import { localDeployment } from '../src/core/config.ts';
import { createLogger, type Logger } from '../src/core/logger.ts';
import { runExport } from '../src/dlq/commands/export.ts';
import { type DlqCommand, prepareDlqCommand } from '../src/dlq/commands.ts';
import { wantsColor } from '../src/dlq/format/style.ts';
import { contextStyle, type DlqContext, type Output } from '../src/dlq/io.ts';
import { filePlace, redisPlace } from '../src/dlq/model/place.ts';
import { exportOptions } from '../src/dlq/options.ts';
import { type DlqCommandName, type DlqFlags, dlqSettings, loadDlqConnection } from '../src/dlq/settings.ts';
import type { connect as connectPorts } from '../src/wiring/connect.ts';

const program = createProgram(new Program('mm-dlq'))
  .description(
    'Dead-letter toolkit: list, inspect, reprocess, resolve, report and purge <topic>.dlq entries.',
  )
  .version(versionLine('mm-dlq'), '-V, --version');

const osUser = (): string => {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? 'unknown';
  }
};

const terminalOutput = (): Output => {
  const isTTY = process.stdout.isTTY === true;
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    isTTY,
    errIsTTY: process.stderr.isTTY === true,
    color: wantsColor(isTTY, process.env.NO_COLOR),
    // A pseudo-terminal may report 0 columns: fall back to COLUMNS, then a wide default.
    columns: (isTTY && process.stdout.columns) || Number(process.env.COLUMNS) || 160,
  };
};

const confirmOnTerminal = async (question: string): Promise<boolean> => {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(question)).trim());
  } finally {
    prompt.close();
  }
};

// Never create, migrate or write the file they read (a read-only file is fine).
const readOnlyCommands = new Set<DlqCommand>(['list', 'inspect', 'report']);

type Runner = (ctx: DlqContext, logger: Logger) => Promise<number>;

// Loaded when a command runs, so --help and --version start without the clients' modules.
const connect: typeof connectPorts = async (...args) =>
  (await import('../src/wiring/connect.ts')).connect(...args);

/** Connects to where the dead letters are, runs the command, closes; usage errors come first. */
const withContext = (flags: DlqFlags, run: Runner, readOnly: boolean): Promise<number> => {
  const config = loadDlqConnection(flags, process.env);
  const logger = createLogger({
    level: config.logLevel,
    service: 'dlq',
    file: config.logFile,
    sink: (line) => void process.stderr.write(line),
  });
  return (async () => {
    const ports = await connect(config.deployment, { logger, role: 'mm-dlq', maxDbConnections: 2, readOnly });
    const { deployment } = config;
    const place =
      deployment.kind === 'local'
        ? filePlace(resolve(deployment.file))
        : redisPlace(deployment.redisUrl, deployment.keyPrefix);
    const io = terminalOutput();
    try {
      return await run(
        {
          bus: ports.bus,
          place,
          store: ports.store,
          parking: ports.store?.parking,
          io,
          style: contextStyle(io),
          clock: systemClock,
          actor: typeof flags.actor === 'string' ? flags.actor : osUser(),
          confirm: process.stdin.isTTY && process.stderr.isTTY ? confirmOnTerminal : undefined,
        },
        logger,
      );
    } finally {
      await ports.close();
      logger.close();
    }
  })();
};

const action = (name: DlqCommand) => (_options: unknown, command: Command) =>
  runCli('mm-dlq', async () => {
    const flags = flagsOf(command, dlqSettings(name));
    const run = prepareDlqCommand(name, flags);
    return withContext(flags, (ctx) => run(ctx), readOnlyCommands.has(name));
  });

const command = (name: DlqCommandName, description: string): Command =>
  addSettings(program.command(name), dlqSettings(name)).description(description);

command('list', 'the newest open dead letters, newest first').action(action('list'));
command('inspect', 'every field of one dead letter, open or closed, and its ledger state').action(
  action('inspect'),
);
command('reprocess', 'put dead letters back on their origin stream, then close them').action(
  action('reprocess'),
);
command('resolve', 'close dead letters without republishing them').action(action('resolve'));
command('report', 'new, closed and open dead letters over a window, by type, stage and error').action(
  action('report'),
);
command('purge', 'close old dead letters as purged (they stay in the audit)').action(action('purge'));
command(
  'export',
  'copy one dead letter (and its original event) into a new local file, to replay it offline',
).action((_options, cmd: Command) =>
  runCli('mm-dlq', async () => {
    const flags = flagsOf(cmd, dlqSettings('export'));
    const options = exportOptions(flags);
    const target = localDeployment(options.to, process.env);
    return withContext(
      flags,
      (ctx, logger) =>
        runExport(ctx, options, {
          exists: () => existsSync(options.to),
          open: () => connect(target, { logger, role: 'mm-dlq-export' }),
          discard: () => {
            for (const suffix of ['', '-wal', '-shm']) rmSync(`${options.to}${suffix}`, { force: true });
          },
        }),
      true,
    );
  }),
);

program.parse();
