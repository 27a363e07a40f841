#!/usr/bin/env node
// mm-dlq: the dead-letter toolkit (list, inspect, reprocess, resolve, report, purge, export).
import { existsSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { type Command, Command as Program } from 'commander';
import { versionLine } from '../src/core/build-info.ts';
import { addCommonOptions, runCli, withUsageExits } from '../src/core/cli.ts';
import { systemClock } from '../src/core/clock.ts';
import { type CommonFlags, failOnProblems, resolveCommon } from '../src/core/config.ts';
import { createLogger, type Logger, type LogLevel } from '../src/core/logger.ts';
import { type ExportFlags, exportOptions, runExport } from '../src/dlq/commands/export.ts';
import { type DlqCommand, prepareDlqCommand } from '../src/dlq/commands.ts';
import { wantsColor } from '../src/dlq/format/style.ts';
import { contextStyle, type DlqContext, type Output } from '../src/dlq/io.ts';
import type { DlqFlags } from '../src/dlq/options.ts';
import type { connect as connectPorts } from '../src/wiring/connect.ts';

const program = withUsageExits(new Program('mm-dlq'))
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

type Runner = (ctx: DlqContext, logger: Logger) => Promise<number>;

// Loaded when a command runs, so --help and --version start without the clients' modules.
const connect: typeof connectPorts = async (...args) =>
  (await import('../src/wiring/connect.ts')).connect(...args);

/** Connects to where the dead letters are, runs the command, closes; usage errors come first. */
const withContext = (flags: CommonFlags & { actor?: string }, run: Runner): Promise<number> => {
  const problems: string[] = [];
  const common = resolveCommon(flags, process.env, { port: 0 }, problems);
  failOnProblems(problems);
  // Logs go to stderr and only errors by default: stdout carries tables and JSON.
  const level: LogLevel = flags.logLevel || process.env.MM_LOG_LEVEL ? common.logLevel : 'error';
  const logger = createLogger({
    level,
    file: common.logFile,
    sink: (line) => void process.stderr.write(line),
  });
  return (async () => {
    const ports = await connect(common.deployment, { logger, role: 'mm-dlq', maxDbConnections: 2 });
    const io = terminalOutput();
    try {
      return await run(
        {
          bus: ports.bus,
          store: ports.store,
          io,
          style: contextStyle(io),
          clock: systemClock,
          actor: flags.actor || osUser(),
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

const action = (command: DlqCommand) => (flags: DlqFlags & CommonFlags & { actor?: string }) =>
  runCli('mm-dlq', async () => {
    const run = prepareDlqCommand(command, flags);
    return withContext(flags, (ctx) => run(ctx));
  });

const command = (name: DlqCommand, description: string): Command =>
  addCommonOptions(program.command(name), { http: false })
    .description(description)
    .option('--stream <stream>', 'dead-letter stream, e.g. identity.dlq')
    .option('--json', 'machine-readable output');

const filters = (cmd: Command): Command =>
  cmd
    .option('--event-type <type>', 'only this event type')
    .option('--error <text>', 'only errors containing this text')
    .option('--fingerprint <fp>', 'only this error fingerprint')
    .option('--since <duration>', 'only dead letters from the last 2h, 30m, 7d ...');

const closing = (cmd: Command): Command =>
  cmd
    .option('--note <text>', 'note kept in the audit record')
    .option('--actor <name>', 'who is acting, kept in the audit record (default: the OS user)');

filters(command('list', 'the newest open dead letters, newest first'))
  .option('--count <n>', 'how many to show (default 20)')
  .action(action('list'));

command('inspect', 'every field of one dead letter, open or closed, and its ledger state')
  .option('--id <id>', 'stream id of the dead letter (or the event id)')
  .action(action('inspect'));

closing(filters(command('reprocess', 'put dead letters back on their origin stream, then close them')))
  .option('--id <id>', 'one dead letter (stream id, or the event id)')
  .option('--all', 'every open dead letter of the stream')
  .option('--force', 'publish again even if the entry was already closed')
  .option('--limit <n>', 'at most this many (bulk)')
  .option('--rate <n>', 'per second (bulk, default 50)')
  .option('--dry-run', 'show per consumer group what would be applied, change nothing')
  .option(
    '--max-failures <n>',
    'stop once this many reprocessed events came back to the DLQ (default 10, 0: never)',
  )
  .action(action('reprocess'));

closing(filters(command('resolve', 'close dead letters without republishing them')))
  .option('--id <id>', 'one dead letter (stream id, or the event id)')
  .option('--all', 'every open dead letter of the stream')
  .option('--limit <n>', 'at most this many (bulk)')
  .option('--dry-run', 'count what would be resolved, change nothing')
  .action(action('resolve'));

command('report', 'new, closed and open dead letters over a window, by type, stage and error')
  .option('--hours <n>', 'window in hours (default 24)')
  .action(action('report'));

closing(command('purge', 'close old dead letters as purged (they stay in the audit)'))
  .option('--older-than <duration>', 'entries older than this, e.g. 30d')
  .option('--event-type <type>', 'only this event type')
  .option('--limit <n>', 'at most this many')
  .option('--dry-run', 'count what would be purged, change nothing')
  .option('--yes', 'do not ask (required when not on a terminal)')
  .action(action('purge'));

addCommonOptions(program.command('export'), { http: false })
  .description('copy one dead letter (and its original event) into a new local file, to replay it offline')
  .option('--stream <stream>', 'dead-letter stream, e.g. identity.dlq')
  .option('--id <id>', 'stream id of the dead letter (or the event id)')
  .option('--to <file>', 'the new local file (must not exist)')
  .option('--json', 'machine-readable output')
  .action((flags: ExportFlags & CommonFlags) =>
    runCli('mm-dlq', async () => {
      const options = exportOptions(flags);
      const problems: string[] = [];
      const target = resolveCommon({ local: options.to }, process.env, { port: 0 }, problems).deployment;
      failOnProblems(problems);
      return withContext(flags, (ctx, logger) =>
        runExport(ctx, options, {
          exists: () => existsSync(options.to),
          open: () => connect(target, { logger, role: 'mm-dlq-export' }),
          discard: () => {
            for (const suffix of ['', '-wal', '-shm']) rmSync(`${options.to}${suffix}`, { force: true });
          },
        }),
      );
    }),
  );

program.parse();
