// What every binary shares on the command line: common flags, error-to-exit-code, signal handling.
import { type Command, Option } from 'commander';
import { commonDefaults } from './config.ts';
import { ConfigError, coerceError } from './errors.ts';
import { ExitCodes, exitCodeFor } from './exit-codes.ts';
import { redactSecrets } from './redact.ts';

/** Adds the connection, listener and logging flags every binary takes. Values stay raw strings here. */
export const addCommonOptions = (
  command: Command,
  options: { port?: number; http?: boolean } = {},
): Command => {
  command
    .option('--database-url <url>', 'Postgres URL (env DATABASE_URL)')
    .option('--redis-url <url>', `Redis URL (env REDIS_URL, default ${commonDefaults.redisUrl})`)
    .option('--key-prefix <prefix>', 'prefix for every Redis key this process touches (env MM_KEY_PREFIX)')
    .addOption(
      new Option('--local [file]', `local mode: one SQLite file, no Postgres or Redis (env MM_LOCAL)`).preset(
        commonDefaults.localFile,
      ),
    )
    .option('--log-level <level>', 'debug, info, warn or error (env MM_LOG_LEVEL, default info)')
    .option('--log-file <path>', 'also append JSON log lines to this file (env MM_LOG_FILE)');
  if (options.http !== false) {
    command
      .option('--host <host>', `address to listen on (env MM_HOST, default ${commonDefaults.host})`)
      .option('--port <port>', `port to listen on (env MM_PORT, default ${options.port ?? 0})`);
  }
  return command;
};

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
