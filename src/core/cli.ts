// What every binary shares on the command line: options from settings tables, error-to-exit-code,
// signal handling.
import { type Command, Option } from 'commander';
import { ConfigError, coerceError } from './errors.ts';
import { ExitCodes, exitCodeFor } from './exit-codes.ts';
import { redactSecrets } from './redact.ts';
import { describeSetting, type FlagsOf, type Table } from './settings.ts';

/**
 * One commander option per setting. Commander only splits the command line (unknown flags and
 * missing values are usage errors, 64); it reads no environment and fills no defaults, because
 * `resolveSettings` does that purely and reports every bad value at once (78).
 */
export const addSettings = (command: Command, table: Table): Command => {
  for (const setting of Object.values(table)) {
    const option = new Option(setting.flag, describeSetting(setting));
    if (setting.preset !== undefined) option.preset(setting.preset);
    if (setting.required) option.makeOptionMandatory();
    command.addOption(option);
  }
  return command;
};

/** What the command line gave for each setting of the table, keyed like the table. */
export const flagsOf = <T extends Table>(command: Command, table: T): FlagsOf<T> => {
  const given = command.opts<Record<string, string | boolean | undefined>>();
  return Object.fromEntries(
    Object.entries(table).map(([key, setting]) => [key, given[new Option(setting.flag).attributeName()]]),
  ) as FlagsOf<T>;
};

/** A program whose help prints each option's description as the settings table wrote it. */
export const createProgram = (command: Command): Command =>
  withUsageExits(command).configureHelp({ optionDescription: (option) => option.description });

/** Commander errors (unknown flag, missing argument) exit 64 like every other usage error. */
export const withUsageExits = (command: Command): Command =>
  command.exitOverride((error) => {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') process.exit(0);
    process.exit(error.exitCode === 0 ? 0 : ExitCodes.usage);
  });

/** Runs a binary's main, printing one clear line on failure and exiting with the mapped code. */
export const runCli = (binary: string, main: () => Promise<number | undefined>): void => {
  main().then(
    (code) => {
      process.exitCode = code ?? ExitCodes.ok;
    },
    (thrown: unknown) => {
      const error = coerceError(thrown);
      const message = error instanceof ConfigError ? error.message : error.message.split('\n')[0];
      process.stderr.write(`${binary}: ${redactSecrets(message ?? String(error))}\n`);
      process.exit(exitCodeFor(error));
    },
  );
};

// One Ctrl-C can arrive twice: from the terminal and again through a wrapper that forwards it (npm
// start). Signals this close to the first one count as the same.
const SAME_SIGNAL_MS = 1_000;

/**
 * First SIGTERM/SIGINT drains (calls `stop`), a second one (a second later or more) exits at once.
 * Resolves after `stop` finished, so callers can close connections and let the process end on its own.
 */
export const onShutdownSignal = (stop: (signal: string) => Promise<void>): void => {
  let stoppingSince: number | undefined;
  const handle = (signal: NodeJS.Signals): void => {
    if (stoppingSince !== undefined) {
      if (Date.now() - stoppingSince < SAME_SIGNAL_MS) return;
      process.exit(ExitCodes.other);
    }
    stoppingSince = Date.now();
    stop(signal).then(
      () => process.exit(ExitCodes.ok),
      () => process.exit(ExitCodes.other),
    );
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
};

/**
 * SIGHUP reopens the log file (logrotate moved it away) instead of ending the process, which is
 * Node's default for SIGHUP.
 */
export const onHangup = (logger: { reopen(): void; info(message: string): void }): void => {
  process.on('SIGHUP', () => {
    logger.reopen();
    logger.info('Log file reopened on SIGHUP');
  });
};
