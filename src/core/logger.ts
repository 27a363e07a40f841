// JSON-lines logger: one object per line on stdout (and a file), message text kept greppable.
import { closeSync, openSync, writeSync } from 'node:fs';
import { coerceError } from './errors.ts';
import { redactSecrets } from './redact.ts';

export const LogLevels = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LogLevels)[number];
export type LogFields = Record<string, unknown>;

export type Logger = {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(bindings: LogFields): Logger;
  /** Opens the log file again by its name (after logrotate moved it away: SIGHUP). */
  reopen(): void;
  /** Closes the log file, if any; further lines still reach stdout. */
  close(): void;
};

export type LogSink = (line: string) => void;

export type LoggerOptions = {
  level?: LogLevel;
  /** On every line, so lines from several services can be told apart in one place. */
  service?: string;
  /** Appends every line here too (the runbook greps /var/log/markdown-manager/*.log). */
  file?: string | undefined;
  /** Replaces stdout, for tests. */
  sink?: LogSink;
  now?: () => Date;
};

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const serialiseValue = (value: unknown): unknown => {
  if (value instanceof Error) {
    const error = coerceError(value) as Error & { code?: unknown };
    return { name: error.name, message: redactSecrets(error.message), code: error.code };
  }
  if (typeof value === 'string') return redactSecrets(value);
  if (typeof value === 'bigint') return value.toString();
  return value;
};

const stdoutSink: LogSink = (line) => {
  process.stdout.write(line);
};

export const createLogger = (options: LoggerOptions = {}): Logger => {
  const threshold = rank[options.level ?? 'info'];
  const now = options.now ?? (() => new Date());
  const sink = options.sink ?? stdoutSink;
  let fd = options.file ? openSync(options.file, 'a') : undefined;

  const write = (level: LogLevel, bindings: LogFields, message: string, fields?: LogFields): void => {
    if (rank[level] < threshold) return;
    const record: LogFields = { time: now().toISOString(), level, ...bindings, msg: redactSecrets(message) };
    for (const [key, value] of Object.entries(fields ?? {})) record[key] = serialiseValue(value);
    const line = `${JSON.stringify(record)}\n`;
    sink(line);
    if (fd !== undefined) writeSync(fd, line);
  };

  const make = (bindings: LogFields): Logger => ({
    debug: (message, fields) => write('debug', bindings, message, fields),
    info: (message, fields) => write('info', bindings, message, fields),
    warn: (message, fields) => write('warn', bindings, message, fields),
    error: (message, fields) => write('error', bindings, message, fields),
    child: (more) => make({ ...bindings, ...more }),
    reopen: () => {
      if (fd === undefined || !options.file) return;
      // The new file is opened before the old one is closed, so no line is lost in between.
      const previous = fd;
      fd = openSync(options.file, 'a');
      closeSync(previous);
    },
    close: () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  });
  return make(options.service === undefined ? {} : { service: options.service });
};

/** Swallows everything: for library callers that pass no logger. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
  reopen: () => {},
  close: () => {},
};
