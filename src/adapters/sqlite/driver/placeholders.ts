// Raw SQL from handlers uses Postgres-style `$1` placeholders in both dialects. SQLite reads `$1` as a
// *named* parameter and better-sqlite3 binds numbered `?1` only by name, so each `$n` (outside
// literals, quoted names and comments) becomes an anonymous `?` and the values are bound in that order.
import { ValidationError } from '../../../core/errors.ts';
import type { SqlValue } from './driver.ts';

const closers: Readonly<Record<string, string>> = { "'": "'", '"': '"', '`': '`', '[': ']' };

/** Index just past the quoted run that starts at `start` (a doubled closer stays inside). */
const skipQuoted = (sql: string, start: number, closer: string): number => {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === closer) {
      if (closer !== ']' && sql[i + 1] === closer) i += 2;
      else return i + 1;
    } else i += 1;
  }
  return sql.length;
};

export type ConvertedSql = {
  readonly sql: string;
  /** 1-based parameter numbers in the order of the `?`s; empty when the text had no `$n`. */
  readonly order: readonly number[];
};

export const toSqlitePlaceholders = (sql: string): ConvertedSql => {
  let out = '';
  const order: number[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    let end = i + 1;
    if (c in closers) end = skipQuoted(sql, i, closers[c] as string);
    else if (c === '-' && sql[i + 1] === '-') {
      const newline = sql.indexOf('\n', i);
      end = newline < 0 ? sql.length : newline;
    } else if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      end = close < 0 ? sql.length : close + 2;
    } else if (c === '$') {
      const digits = /^\d+/.exec(sql.slice(i + 1))?.[0];
      if (digits) {
        out += '?';
        order.push(Number(digits));
        i += 1 + digits.length;
        continue;
      }
    }
    out += sql.slice(i, end);
    i = end;
  }
  return { sql: out, order };
};

/** A JavaScript value as SQLite can bind it: booleans as 0/1, dates as ISO text, objects as JSON. */
export const toSqlValue = (value: unknown, position: number): SqlValue => {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
    case 'bigint':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new ValidationError(`parameter $${position} is not a finite number`);
      return value;
    case 'boolean':
      return value ? 1 : 0;
    case 'object':
      if (value instanceof Date) return value.toISOString();
      if (value instanceof Uint8Array) return value;
      return JSON.stringify(value);
    default:
      throw new ValidationError(`parameter $${position} cannot be bound (${typeof value})`);
  }
};

export const toSqlValues = (params: readonly unknown[]): SqlValue[] =>
  params.map((value, index) => toSqlValue(value, index + 1));

/** The values for converted SQL: `$n` placeholders pick theirs; SQL without them takes `params` as given. */
export const bindInOrder = (converted: ConvertedSql, params: readonly unknown[]): SqlValue[] => {
  const values = toSqlValues(params);
  if (converted.order.length === 0) return values;
  return converted.order.map((n) => {
    if (n < 1 || n > values.length) {
      throw new ValidationError(`query uses $${n} but ${values.length} parameter(s) were given`);
    }
    return values[n - 1] as SqlValue;
  });
};
