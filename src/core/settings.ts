// Settings declared once (flag, env, default, parser, help) and resolved flag > env > default; the
// config types, commander options, --help lines and README lists are all derived from these tables.
import type { Env } from './config.ts';
import { redactSecrets } from './redact.ts';
import { flagSwitch } from './setting-parsers.ts';

/** Turns a raw string into a value; undefined when the string is not one `accepts` describes. */
export type Parser<T> = {
  readonly parse: (raw: string) => T | undefined;
  /** What the parser takes, for problems ("an integer 1..100000"); absent: any text. */
  readonly accepts?: string;
  /** The same in short, for help and docs (`1..100000`, `debug|info|warn|error`). */
  readonly range?: string;
};

export type Setting<T> = {
  /** Commander's syntax: `--batch-size <n>`, `--local [file]`, or `--strict` for a switch. */
  readonly flag: string;
  readonly env?: string;
  /** Absent: the setting is optional and its value may be undefined. */
  readonly default?: T;
  /** How a default computed elsewhere reads in help (`<host>-<pid>`). */
  readonly defaultText?: string;
  /** Commander's preset: the value of `--local` given without a file. */
  readonly preset?: string;
  /** Must be given on the command line (a usage error when missing). */
  readonly required?: boolean;
  readonly parse: Parser<T>;
  readonly help: string;
};

export type Table = Readonly<Record<string, Setting<unknown>>>;

type ValueOf<S> = S extends { readonly parse: Parser<infer T> }
  ? S extends { readonly default: unknown } | { readonly required: true }
    ? T
    : T | undefined
  : never;

/** The typed values of a table: a setting with a default (or required) is never undefined. */
export type ValuesOf<T extends Table> = { -readonly [K in keyof T]: ValueOf<T[K]> };

/** The raw values as the command line gives them (a switch is a boolean), keyed like the table. */
export type FlagsOf<T extends Table> = { readonly [K in keyof T]?: string | boolean };

type Consistent<T> = { [K in keyof T]: T[K] extends { parse: Parser<infer V> } ? Setting<V> : never };

/** Declares a table; the compiler checks each default against its parser's type. */
export const defineSettings = <T extends Table>(table: T & Consistent<T>): T => table;

/** A flag without a value, off unless given (its variable, if any, takes 1/0, true/false ...). */
export const toggle = (flag: string, help: string, env?: string) =>
  ({ flag, default: false, parse: flagSwitch, help, ...(env === undefined ? {} : { env }) }) as const;

type DefaultKeys<T extends Table> = {
  [K in keyof T]: T[K] extends { default: unknown } ? K : never;
}[keyof T];

/** The defaults of a table, for code that composes services without a command line. */
export const defaultsOf = <T extends Table>(table: T): { readonly [K in DefaultKeys<T>]: ValueOf<T[K]> } =>
  Object.fromEntries(
    Object.entries(table).flatMap(([key, setting]) => ('default' in setting ? [[key, setting.default]] : [])),
  ) as { readonly [K in DefaultKeys<T>]: ValueOf<T[K]> };

/** `--batch-size` from `--batch-size <n>`. */
export const flagName = (setting: Setting<unknown>): string => setting.flag.split(/[ ,]/)[0] ?? setting.flag;

/** The flag when given, else a non-empty environment variable; undefined when neither. */
const rawValue = (
  setting: Setting<unknown>,
  flag: string | boolean | undefined,
  env: Env,
): { raw: string; from: string } | undefined => {
  if (flag !== undefined) return { raw: String(flag), from: flagName(setting) };
  const fromEnv = setting.env === undefined ? undefined : env[setting.env];
  if (fromEnv === undefined || fromEnv === '') return undefined;
  return { raw: fromEnv, from: `${flagName(setting)} (env ${setting.env})` };
};

export const isGiven = (setting: Setting<unknown>, flag: string | boolean | undefined, env: Env): boolean =>
  rawValue(setting, flag, env) !== undefined;

/**
 * Resolves every setting of a table: flag > environment > default. A bad value adds one problem
 * naming where it came from and leaves the default in its place, so every problem is found at once.
 */
export const resolveSettings = <T extends Table>(
  table: T,
  flags: FlagsOf<T>,
  env: Env,
  problems: string[],
): ValuesOf<T> => {
  const values: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(table)) {
    const given = rawValue(setting, flags[key], env);
    values[key] = setting.default;
    if (given === undefined) {
      if (setting.required) problems.push(`${flagName(setting)} is required: ${setting.help}`);
      continue;
    }
    const value = setting.parse.parse(given.raw);
    if (value !== undefined) values[key] = value;
    else
      problems.push(
        `${given.from} must be ${setting.parse.accepts ?? 'given'}, got "${redactSecrets(given.raw).slice(0, 200)}"`,
      );
  }
  return values as ValuesOf<T>;
};

const shown = (value: unknown): string =>
  Array.isArray(value) ? value.join(',') : value === '' ? 'none' : String(value);

/** The default as help and the README print it; undefined when there is none to print. */
export const defaultText = (setting: Setting<unknown>): string | undefined =>
  setting.defaultText ??
  (setting.default === undefined || setting.default === false ? undefined : shown(setting.default));

/** What it does and, in brackets, the values it takes: the meaning column of the docs. */
export const meaningOf = (setting: Setting<unknown>): string =>
  setting.parse.range === undefined ? setting.help : `${setting.help} [${setting.parse.range}]`;

/** What help and docs add after the meaning: the value of a flag given alone, whether required. */
export const notesOf = (setting: Setting<unknown>): string[] =>
  [
    setting.preset !== undefined && setting.preset !== setting.default
      ? `${flagName(setting)} alone: ${setting.preset}`
      : undefined,
    setting.required ? 'required' : undefined,
  ].filter((note) => note !== undefined);

/** The help line after the flag: meaning, then environment variable, notes and default. */
export const describeSetting = (setting: Setting<unknown>): string => {
  const text = defaultText(setting);
  const extras = [
    ...(setting.env === undefined ? [] : [`env ${setting.env}`]),
    ...notesOf(setting),
    ...(text === undefined ? [] : [`default ${text}`]),
  ];
  return extras.length === 0 ? meaningOf(setting) : `${meaningOf(setting)} (${extras.join(', ')})`;
};
